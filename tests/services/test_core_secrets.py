"""No secret leaks: every error path of every auth strategy, checked in messages, reprs, bodies and logs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from services.core import (
    BearerWithHeaders,
    QargoClientCredentials,
    QuadernoBasic,
    RetryPolicy,
    TokenHeader,
    VendorClient,
    VendorError,
    VendorSpec,
)
from services.core.auth import AuthStrategy

SECRET = "SEKRIT-7f3a9c-do-not-leak"
TOKEN = "JWT-ISSUED-b81e-do-not-leak"
BASE = "https://vendor.example/api"
Handler = Callable[[httpx.Request], httpx.Response]


def echo(status: int, kind: str = "json") -> Handler:
    """A vendor that echoes the credentials it received in its error body (worst case)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/token"):
            return httpx.Response(200, json={"access_token": TOKEN, "expires_in": 3600})
        said = f"bad credentials {request.headers.get('Authorization')} {SECRET} {TOKEN}"
        if kind == "text":
            return httpx.Response(status, text=f"<html>{said}</html>")
        body = {"error": said, "errors": {"api_key": [said]}, "access_token": TOKEN}
        return httpx.Response(status, json=body, headers={"Retry-After": "7200"})

    return handler


def failing(exc: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(f"failed with {request.headers.get('Authorization')}", request=request)

    return handler


def token_endpoint(status: int, body: dict[str, object]) -> Handler:
    return lambda request: httpx.Response(
        status, json={**body, "echo": request.headers.get("Authorization", "")}
    )


def strategies(db: Path | str) -> list[AuthStrategy]:
    return [
        QargoClientCredentials(BASE, "client-1", SECRET, db),
        QuadernoBasic(SECRET, api_version="20220325"),
        BearerWithHeaders(SECRET, {"MandantId": "1"}),
        TokenHeader(SECRET),
    ]


HANDLERS: list[Handler] = [
    *(echo(status) for status in (400, 401, 403, 404, 406, 422, 429, 500, 503)),
    echo(200, kind="text"),
    echo(502, kind="text"),
    failing(httpx.ConnectError),
    failing(httpx.ReadTimeout),
]
TOKEN_FAILURES: list[Handler] = [
    token_endpoint(401, {"error": f"invalid client {SECRET}"}),
    token_endpoint(429, {"error": "Rate limit exceeded"}),
    token_endpoint(200, {"token_type": "bearer", "note": SECRET}),
    failing(httpx.ConnectError),
]


def run(auth: AuthStrategy, handler: Handler) -> VendorError:
    retry = RetryPolicy(max_attempts=2, sleep=lambda s: None)
    spec = VendorSpec(name="Vendor", base_url=BASE, auth=auth, retry=retry)
    client = VendorClient(spec, transport=httpx.MockTransport(handler))
    with pytest.raises(VendorError) as caught:
        client.get_json("/things")
    assert SECRET not in repr(client) and SECRET not in repr(spec)
    return caught.value


def leaks(error: VendorError, auth: AuthStrategy) -> list[str]:
    """The secret, and for Qargo the access token it was issued (other vendors never saw TOKEN)."""
    seen = " ".join([str(error), repr(error), error.body, repr(getattr(error, "fields", ""))])
    secrets = (SECRET, TOKEN) if isinstance(auth, QargoClientCredentials) else (SECRET,)
    return [s for s in secrets if s in seen]


@pytest.mark.parametrize("handler", HANDLERS)
def test_no_error_path_shows_a_secret(
    handler: Handler, db_path: Path | str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for auth in strategies(db_path):
        error = run(auth, handler)
        assert leaks(error, auth) == [], (type(auth).__name__, error)
        assert SECRET not in repr(auth)
    assert SECRET not in caplog.text and TOKEN not in caplog.text


@pytest.mark.parametrize("handler", TOKEN_FAILURES)
def test_token_endpoint_failures_show_no_secret(
    handler: Handler, db_path: Path | str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    auth = QargoClientCredentials(BASE, "client-1", SECRET, db_path)
    assert leaks(run(auth, handler), auth) == []
    assert SECRET not in caplog.text
