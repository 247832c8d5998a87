"""services.core.errors: one status → class mapping, field messages, staff-facing messages."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from services.core import (
    AuthError,
    MalformedResponse,
    NotFoundError,
    RateLimited,
    ServerError,
    ValidationError,
    VendorClient,
    VendorError,
    VendorSpec,
    error_for_response,
)
from services.core.auth import TokenHeader
from services.core.errors import parse_field_errors, redact
from tests.vendor_docs import spec_path

QUADERNO = spec_path("vendor-specs/quaderno/extracted")  # copies, tests/fixtures/vendor_docs


def response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://vendor.example/api/things/7?q=1")
    content = json.dumps(body).encode() if body is not None else b""
    return httpx.Response(status, content=content, headers=headers or {}, request=request)


def cassette(name: str) -> httpx.Response:
    data = json.loads((QUADERNO / f"{name}.json").read_text())
    headers = {k: v[0] for k, v in data["headers"].items()}
    return response(data["status"], data["body"], headers)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ValidationError),
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (410, NotFoundError),
        (422, ValidationError),
        (429, RateLimited),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
    ],
)
def test_status_maps_to_one_class(status: int, cls: type[VendorError]) -> None:
    error = error_for_response("Qargo", response(status, {"error": "nope"}))
    assert type(error) is cls
    assert (error.vendor, error.status) == ("Qargo", status)


def test_other_client_errors_stay_on_the_base_class_with_the_vendor_words() -> None:
    error = error_for_response("Quaderno", cassette("all_address_on_standard_account__0"))
    assert type(error) is VendorError
    assert str(error) == "Quaderno refused GET /api/things/7 (HTTP 406): Unsupported account type"


def test_vendor_rate_limit_hook_turns_403_and_503_into_rate_limited() -> None:
    statuses = (429, 403, 503)  # Quaderno's official client
    assert type(error_for_response("Quaderno", response(403), rate_limit_statuses=statuses)) is RateLimited
    assert type(error_for_response("Quaderno", response(503), rate_limit_statuses=statuses)) is RateLimited


def test_messages_say_what_to_do() -> None:
    cargobase = error_for_response(
        "Cargobase", response(403), credential="token", auth_hint="check CARGOBASE_TOKEN"
    )
    assert str(cargobase) == "Cargobase rejected the token (HTTP 403): check CARGOBASE_TOKEN"
    limited = error_for_response("Quaderno", response(429), retry_after=12.0)
    assert str(limited) == "Quaderno is rate limiting: retry after 12 s"
    assert limited.retry_after == 12.0  # type: ignore[attr-defined]
    assert str(error_for_response("Qargo", response(502))) == (
        "Qargo failed on GET /api/things/7 (HTTP 502): a vendor-side problem, retry later"
    )


def test_request_id_and_body_excerpt_are_kept() -> None:
    error = error_for_response("Qargo", response(500, {"error": "x" * 2000}, {"x-request-id": "req-42"}))
    assert error.request_id == "req-42"
    assert len(error.body) == 500
    assert error_for_response("Qargo", response(500, None, {"request-id": "r9"})).request_id == "r9"


def test_quaderno_recorded_401_keeps_its_explanation_in_the_body() -> None:
    error = error_for_response(
        "Quaderno", cassette("wrong_token__0"), credential="API key", auth_hint="check QUADERNO_API_KEY"
    )
    assert isinstance(error, AuthError)
    assert str(error) == "Quaderno rejected the API key (HTTP 401): check QUADERNO_API_KEY"
    assert "Wrong API key" in error.body


def test_quaderno_recorded_422_gives_field_messages() -> None:
    error = error_for_response("Quaderno", cassette("delivered_invoice__2"))
    assert isinstance(error, ValidationError)
    assert error.fields == {"delivery_recipients": ["can't be blank", "is invalid"]}
    assert str(error) == (
        "Quaderno rejected the request (HTTP 422): delivery_recipients: can't be blank, is invalid. "
        "Fix the input and try again"
    )


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"errors": {"email": ["is invalid"], "name": "is blank"}},
            {"email": ["is invalid"], "name": ["is blank"]},
        ),
        (  # Qargo 400 ValidationErrorResponse (OpenAPI 2026)
            {
                "message": "Invalid",
                "errors": [
                    {"message": "required", "field": "customer"},
                    {"message": "bad", "path": "$.stops[0].date"},
                ],
            },
            {"customer": ["required"], "$.stops[0].date": ["bad"]},
        ),
        (  # Qargo/FastAPI 422 HTTPValidationError
            {"detail": [{"loc": ["body", "order", "id"], "msg": "field required", "type": "missing"}]},
            {"order.id": ["field required"]},
        ),
        ({"errors": ["whole request is wrong"]}, {"": ["whole request is wrong"]}),
        ({"error": "Rate limit exceeded"}, {}),
        ([1, 2], {}),
        (None, {}),
    ],
)
def test_parse_field_errors(body: Any, fields: dict[str, list[str]]) -> None:
    assert parse_field_errors(body) == fields


def test_redact_masks_secrets_token_fields_and_auth_values() -> None:
    text = 'key=s3cr3t-value {"access_token": "eyJabc.def"} Authorization: Bearer abcdefghij'
    assert redact(text, ["s3cr3t-value"]) == 'key=*** {"access_token": "***"} Authorization: Bearer ***'


def test_invalid_json_and_wrong_shape_are_malformed_responses() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>maintenance</html>"))
    spec = VendorSpec(name="Cargobase", base_url="https://cb.example/api/1", auth=TokenHeader("t0ken-abc"))
    with VendorClient(spec, transport=transport) as client, pytest.raises(MalformedResponse) as caught:
        client.get_json("/invoices/")
    assert str(caught.value) == (
        "Cargobase answered GET /api/1/invoices/ with something that is not JSON (HTTP 200): "
        "check CARGOBASE_BASE_URL"
    )
    assert caught.value.body == "<html>maintenance</html>"
