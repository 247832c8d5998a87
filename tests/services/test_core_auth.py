"""services.core.auth and tokens: headers per vendor, the shared Qargo token cache (in- and cross-process)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from services.core import (
    AuthError,
    BearerWithHeaders,
    QargoClientCredentials,
    QuadernoBasic,
    RateLimited,
    TokenHeader,
    VendorClient,
    VendorSpec,
)
from store.db import connect

REPO = Path(__file__).resolve().parents[2]
BASE = "https://qargo.example"


def sent_headers(auth: object) -> httpx.Headers:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    spec = VendorSpec(name="X", base_url="https://x.example/api", auth=auth)  # type: ignore[arg-type]
    VendorClient(spec, transport=httpx.MockTransport(handler)).get_json("/ping")
    return seen[0].headers


def test_quaderno_basic_sends_the_key_as_user_and_the_api_version() -> None:
    headers = sent_headers(QuadernoBasic("sk_live_abc", api_version="20220325"))
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"sk_live_abc:").decode()
    assert headers["Accept"] == "application/json; api_version=20220325"
    assert sent_headers(QuadernoBasic("k"))["Accept"] == "application/json"


def test_bearer_with_headers_adds_the_mandant() -> None:
    headers = sent_headers(BearerWithHeaders("jwt.abc.def", {"MandantId": "7"}))
    assert (headers["Authorization"], headers["MandantId"]) == ("Bearer jwt.abc.def", "7")


def test_token_header_uses_the_token_scheme() -> None:
    assert sent_headers(TokenHeader("cb-123"))["Authorization"] == "Token cb-123"


class FakeQargo:
    """Token endpoint + one API endpoint; tokens are tok-1, tok-2, …; `reject` lists refused tokens."""

    def __init__(self, expires_in: int | None = 3600) -> None:
        self.expires_in = expires_in
        self.token_requests: list[httpx.Request] = []
        self.api_requests: list[httpx.Request] = []
        self.reject: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/token":
            self.token_requests.append(request)
            token = f"tok-{len(self.token_requests)}"
            return httpx.Response(
                200, json={"access_token": token, "token_type": "bearer", "expires_in": self.expires_in}
            )
        self.api_requests.append(request)
        token = request.headers["Authorization"].removeprefix("Bearer ")
        return httpx.Response(401 if token in self.reject else 200, json={"token": "seen"})


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def qargo(fake: FakeQargo, db: Path | str, clock: Clock | None = None, secret: str = "s3cret") -> VendorClient:
    auth = QargoClientCredentials(BASE, "client-1", secret, db, clock=clock or time.time)
    return VendorClient(
        VendorSpec(name="Qargo", base_url=BASE, auth=auth), transport=httpx.MockTransport(fake)
    )


def test_token_request_uses_basic_client_credentials_then_bearer(db_path: Path | str) -> None:
    fake = FakeQargo()
    qargo(fake, db_path).get_json("/v1/orders/order/1")
    token_request = fake.token_requests[0]
    assert (token_request.method, str(token_request.url)) == ("POST", f"{BASE}/v1/auth/token")
    assert token_request.headers["Authorization"] == "Basic " + base64.b64encode(b"client-1:s3cret").decode()
    assert fake.api_requests[0].headers["Authorization"] == "Bearer tok-1"


def test_two_clients_on_one_db_share_one_token(db_path: Path | str) -> None:
    fake = FakeQargo()
    first, second = qargo(fake, db_path), qargo(fake, db_path)
    for client in (first, second, first, second):
        client.get_json("/v1/ping")
    assert len(fake.token_requests) == 1
    assert {r.headers["Authorization"] for r in fake.api_requests} == {"Bearer tok-1"}


def test_token_is_refreshed_five_minutes_before_expiry(db_path: Path | str) -> None:
    fake, clock = FakeQargo(expires_in=3600), Clock()
    client = qargo(fake, db_path, clock)
    client.get_json("/v1/ping")
    clock.now += 3600 - 301
    client.get_json("/v1/ping")
    assert len(fake.token_requests) == 1
    clock.now += 2
    client.get_json("/v1/ping")
    assert len(fake.token_requests) == 2
    assert fake.api_requests[-1].headers["Authorization"] == "Bearer tok-2"


def test_missing_expires_in_means_one_hour(db_path: Path | str) -> None:
    fake, clock = FakeQargo(expires_in=None), Clock()
    client = qargo(fake, db_path, clock)
    client.get_json("/v1/ping")
    clock.now += 3600 - 301
    client.get_json("/v1/ping")
    assert len(fake.token_requests) == 1


def test_a_401_discards_the_token_and_refetches_once(db_path: Path | str) -> None:
    fake = FakeQargo()
    fake.reject = {"tok-1"}
    assert qargo(fake, db_path).get_json("/v1/ping") == {"token": "seen"}
    assert len(fake.token_requests) == 2
    assert [r.headers["Authorization"] for r in fake.api_requests] == ["Bearer tok-1", "Bearer tok-2"]


def test_a_persistent_401_raises_after_one_refetch(db_path: Path | str) -> None:
    fake = FakeQargo()
    fake.reject = {"tok-1", "tok-2", "tok-3"}
    with pytest.raises(AuthError) as caught:
        qargo(fake, db_path).get_json("/v1/ping")
    assert (len(fake.token_requests), len(fake.api_requests)) == (2, 2)
    assert str(caught.value) == (
        "Qargo rejected the client credentials (HTTP 401): check QARGO_CLIENT_ID and QARGO_CLIENT_SECRET"
    )


@pytest.mark.parametrize(("status", "cls"), [(401, AuthError), (429, RateLimited)])
def test_token_endpoint_refusals_are_not_retried(db_path: Path | str, status: int, cls: type[Exception]) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, headers={"Retry-After": "600"}, json={"error": "no"})

    auth = QargoClientCredentials(BASE, "client-1", "s3cret", db_path)
    client = VendorClient(
        VendorSpec(name="Qargo", base_url=BASE, auth=auth), transport=httpx.MockTransport(handler)
    )
    with pytest.raises(cls):
        client.get_json("/v1/ping")
    assert len(calls) == 1  # 5 token requests per hour: never spend them on retries


def test_no_table_of_the_database_holds_the_secret(db_path: Path | str) -> None:
    """The same on the suite's database (PostgreSQL with --db=postgresql): every row of every table read back."""
    qargo(FakeQargo(), db_path, secret="VERY-SECRET-VALUE").get_json("/v1/ping")
    db = connect(db_path)
    try:
        rows = [repr(tuple(row)) for table in db.table_names() for row in db.execute(f'SELECT * FROM "{table}"')]
    finally:
        db.close()
    assert not [row for row in rows if "VERY-SECRET-VALUE" in row]
    assert [row for row in rows if "tok-1" in row]  # the token itself is the cache the issue asks for


def test_the_cache_key_and_the_db_never_hold_the_secret(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"  # a SQLite file on either run: its every byte is searched for the secret
    qargo(FakeQargo(), db, secret="VERY-SECRET-VALUE").get_json("/v1/ping")
    assert b"VERY-SECRET-VALUE" not in db.read_bytes()
    assert b"tok-1" in db.read_bytes()  # the token itself is the cache the issue asks for


# --- across processes -------------------------------------------------------------------------

CHILD = """
import sys
from pathlib import Path
from services.core import QargoClientCredentials, VendorClient, VendorSpec
base, db = sys.argv[1], sys.argv[2]  # a file or a PostgreSQL URL
auth = QargoClientCredentials(base, "client-1", "s3cret", db)
with VendorClient(VendorSpec(name="Qargo", base_url=base, auth=auth)) as client:
    print(client.get_json("/v1/ping")["token"])
"""


class TokenServer(BaseHTTPRequestHandler):
    token_requests = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        with self.lock:
            type(self).token_requests += 1
        # A slow token endpoint widens the window in which the other processes would also fetch.
        time.sleep(0.3)
        self._reply({"access_token": "shared-token", "token_type": "bearer", "expires_in": 3600})

    def do_GET(self) -> None:
        self._reply({"token": self.headers["Authorization"]})

    def _reply(self, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def token_server() -> Iterator[str]:
    TokenServer.token_requests = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_three_processes_fetch_exactly_one_token(db_path: Path | str, token_server: str) -> None:
    db = db_path
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, token_server, str(db)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [child.communicate(timeout=60) for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], outputs
    assert [out.strip() for out, _ in outputs] == ["Bearer shared-token"] * 3
    assert TokenServer.token_requests == 1
