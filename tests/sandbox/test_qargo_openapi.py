"""Every Qargo simulator answer validates against the vendor's own OpenAPI document: the 2026 YAML
for all schemas, the 2025-09 JSON for charges (the only copy that spells out ChargeWithApproval).
The schema is looked up from the path, verb and status, so a wrong path fails too."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS31Validator, oas31_format_checker

from sandbox.context import SandboxConfig
from tests import vendor_docs
from tests.sandbox.test_qargo import (
    advance,
    api,
    order_payload,
    preexisting_order_id,
    receiving,
    upload_and_settle,
)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return vendor_docs.qargo_openapi("2026")  # trimmed copy, tests/fixtures/vendor_docs


@pytest.fixture(scope="module")
def spec_2025() -> dict[str, Any]:
    return vendor_docs.qargo_openapi("2025-09")


def check(document: dict[str, Any], schema: dict[str, Any], body: Any) -> None:
    validator = OAS31Validator({**schema, "components": document["components"]},
                               format_checker=oas31_format_checker)
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(body)]
    assert not errors, errors[:5]


def response_schema(document: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    response = document["paths"][path][method]["responses"][str(status)]
    return dict(response["content"]["application/json"]["schema"])


def check_answer(document: dict[str, Any], path: str, method: str, response: httpx.Response) -> None:
    check(document, response_schema(document, path, method, response.status_code), response.json())


def test_the_validator_rejects_a_wrong_body(spec: dict[str, Any]) -> None:
    schema = response_schema(spec, "/v1/orders/order/upload", "post", 200)
    with pytest.raises(AssertionError):
        check(spec, schema, {"upload_id": "not-a-uuid", "upload_status": "WAITING", "upload_url": "x"})


def test_order_answers_match_the_2026_spec(relaxed_sandbox: SandboxConfig, spec: dict[str, Any]) -> None:
    base = "/v1/orders/order/{order_id}"
    with api(relaxed_sandbox) as client:
        posted = client.post("/v1/orders/order/upload", json=order_payload("T-OAS-1"))
        check_answer(spec, "/v1/orders/order/upload", "post", posted)
        advance(relaxed_sandbox, 3.5)
        polled = client.get(f"/v1/orders/order/upload/{posted.json()['upload_id']}")
        check_answer(spec, "/v1/orders/order/upload/{upload_id}", "get", polled)
        failed = upload_and_settle(client, relaxed_sandbox, order_payload("T-OAS-2", customer={"code": "?"}))
        check(spec, response_schema(spec, "/v1/orders/order/upload/{upload_id}", "get", 200), failed)
        for order_id in (polled.json()["order_id"], preexisting_order_id(1), preexisting_order_id(30)):
            for suffix in ("", "/status", "/export", "/documents"):
                check_answer(spec, base + suffix, "get", client.get(f"/v1/orders/order/{order_id}{suffix}"))


def test_error_answers_match_the_2026_spec(relaxed_sandbox: SandboxConfig, spec: dict[str, Any]) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    with api(relaxed_sandbox) as client:
        missing = client.get(f"/v1/orders/order/{unknown}")
        unprocessable = client.post("/v1/orders/order/upload", json={"operation": "MAYBE"})
        bad_cursor = client.get("/v1/resources/resource", params={"cursor": "garbage"})
    error_body = {"$ref": "#/components/schemas/ValidationErrorResponse"}
    assert missing.status_code == 404 and bad_cursor.status_code == 400
    check(spec, error_body, missing.json())
    check(spec, error_body, bad_cursor.json())
    check_answer(spec, "/v1/orders/order/upload", "post", unprocessable)


def test_charges_match_the_2025_09_charge_schema(relaxed_sandbox: SandboxConfig,
                                                 spec_2025: dict[str, Any]) -> None:
    path = "/v1/orders/order/{order_id}/charges"
    with api(relaxed_sandbox) as client:
        for i in (1, 2, 3, 40):
            response = client.get(f"/v1/orders/order/{preexisting_order_id(i)}/charges")
            assert response.json()["charges"]
            check_answer(spec_2025, path, "get", response)
        charge = response.json()["charges"][0]
        approved = client.post(f"/v1/orders/order/{preexisting_order_id(40)}/charges/approval",
                               json={"charges": [{"id": charge["id"], "approval_status": "APPROVED"}]})
        check_answer(spec_2025, path + "/approval", "post", approved)


def test_accounting_and_resource_answers_match_the_2026_spec(relaxed_sandbox: SandboxConfig,
                                                             spec: dict[str, Any]) -> None:
    with api(relaxed_sandbox) as client:
        tasks = client.get("/v1/accounting/sync-tasks")
        check_answer(spec, "/v1/accounting/sync-tasks", "get", tasks)
        for task in tasks.json()["tasks"][:6]:  # includes a credit note (every fifth task)
            check_answer(spec, "/v1/accounting/sync-tasks/{id}", "get",
                         client.get(f"/v1/accounting/sync-tasks/{task['id']}"))
        listing = client.get("/v1/resources/resource")
        check_answer(spec, "/v1/resources/resource", "get", listing)
        for item in listing.json()["items"][:8]:
            rid = item["row_id"]
            check_answer(spec, "/v1/resources/resource/{resource_id}", "get",
                         client.get(f"/v1/resources/resource/{rid}"))
            rows = client.get(f"/v1/resources/resource/{rid}/unavailability")
            check_answer(spec, "/v1/resources/resource/{resource_id}/unavailability", "get", rows)
            for row in rows.json()["items"]:
                check_answer(spec, "/v1/resources/resource/{resource_id}/unavailability/{id}", "get",
                             client.get(f"/v1/resources/resource/{rid}/unavailability/{row['id']}"))


def test_token_and_visibility_events_match_the_2026_spec(relaxed_sandbox: SandboxConfig,
                                                         spec: dict[str, Any]) -> None:
    with httpx.Client(base_url=relaxed_sandbox.base_url, timeout=10) as plain:
        cred = relaxed_sandbox.credentials
        check_answer(spec, "/v1/auth/token", "post",
                     plain.post("/qargo/v1/auth/token", auth=(cred.qargo_client_id, cred.qargo_client_secret)))
        with receiving(relaxed_sandbox) as receiver, api(relaxed_sandbox) as client:
            created = upload_and_settle(client, relaxed_sandbox, order_payload("T-OAS-VIS"))
            upload_and_settle(client, relaxed_sandbox, order_payload("T-OAS-VIS", "DELETE"))
            plain.post("/_admin/tick")
    event_schema = {"$ref": "#/components/schemas/OperationalVisibilityUpdate"}
    statuses = [b["events"][0]["update"]["status"] for _, b in receiver.events
                if b["order"]["id"] == created["order_id"]]
    assert statuses == ["ACCEPTED", "CANCELLED"] and len(receiver.events) > 2
    for _, body in receiver.events:
        check(spec, event_schema, body)
