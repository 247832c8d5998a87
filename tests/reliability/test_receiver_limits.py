"""`opsdash webhooks` against slow and greedy clients on real sockets (issue 22; webhooks/webhook_server.py).

Uvicorn alone read headers for ever: 1,100 clients that connected and trickled held every descriptor and
stalled real deliveries 53.8 s. Here every slow client is cut at its deadline, the connection caps answer
503 at once, and each refusal kind is logged at most once a minute. Timeouts are scaled down (0.5-1 s) so
the module runs in a few seconds; every wait is a socket timeout or a poll with a deadline.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from sandbox.server import free_port
from services.settings import Settings
from tests.conftest import suite_database
from webhooks.webhook_limits import RefusalLog
from webhooks.webhook_server import GuardedServer, Limits, config
from webhooks.webhooks import webhook_app

AUTH = ("hooks", "slow-client-test-password")
BASIC = base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode()).decode()
EVENT = json.dumps({"id": "e1", "createdAt": "2026-11-20T10:00:00", "updatedAt": "2026-11-20T10:00:00",
                    "status": "PENDING", "operation": "INSERT", "table": "carrier_invoices",
                    "payload": {"old": None, "new": {"id": "ci-1", "invoice_number": "CI-1", "currency": "EUR",
                                                     "total_amount": 100, "total_tax_amount": "0", "balance": 100,
                                                     "carrier_id": "c", "status": "open", "due_date": "2026-12-01",
                                                     "updated_at": "2026-11-20T10:00:00"}}}).encode()
FAST = Limits(header_timeout=0.5, body_timeout=0.5, keep_alive=1, max_connections=20, max_per_address=1000)


@contextmanager
def receiver(tmp_path: Path, limits: Limits, refusals: RefusalLog) -> Iterator[int]:
    settings = Settings(opsdash_db=suite_database(tmp_path / "hooks.db"), opsdash_webhook_user=AUTH[0],
                        opsdash_webhook_password=SecretStr(AUTH[1]))
    port = free_port()
    server = GuardedServer(config(webhook_app(settings), "127.0.0.1", port, limits, refusals))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "receiver did not start"
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(20)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.settimeout(5)  # every read below is bounded
    return sock


def read_all(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection (bounded by the socket timeout)."""
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)


def deliver(port: int) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{port}/webhooks/upwell", content=EVENT, auth=AUTH,
                      headers={"content-type": "application/json"}, timeout=5)


@pytest.fixture
def refusals() -> RefusalLog:
    return RefusalLog()


def test_a_client_that_sends_nothing_is_closed_at_the_header_deadline(tmp_path: Path, refusals: RefusalLog) -> None:
    with receiver(tmp_path, FAST, refusals) as port, connect(port) as sock:
        started = time.monotonic()
        assert read_all(sock) == b""  # closed without a word: it said nothing either
        assert 0.4 < time.monotonic() - started < 3
    assert refusals.counts == {"headers read timeout": 1}


def test_a_trickle_of_header_bytes_does_not_reset_the_deadline(tmp_path: Path, refusals: RefusalLog) -> None:
    with receiver(tmp_path, FAST, refusals) as port, connect(port) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /webhooks/upwell HTTP/1.1\r\nHost: x\r\n")
        answer = b""
        for _ in range(40):  # one header byte every 0.1 s: would last 4 s
            try:
                sock.sendall(b"X")
            except OSError:
                break
            time.sleep(0.1)  # the slow client's pace, not a wait for the server
        answer = read_all(sock)
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert elapsed < 2.5  # cut at 0.5 s, not after the 4 s the trickle would take


def test_a_body_that_stops_arriving_gets_408(tmp_path: Path, refusals: RefusalLog) -> None:
    with receiver(tmp_path, FAST, refusals) as port, connect(port) as sock:
        sock.sendall(b"POST /webhooks/upwell HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + BASIC.encode()
                     + b"\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"id\":")
        started = time.monotonic()
        answer = read_all(sock)
        assert time.monotonic() - started < 3
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert refusals.counts["body read timeout"] == 1


def test_the_connection_cap_answers_503_and_deliveries_resume_at_the_header_deadline(
        tmp_path: Path, refusals: RefusalLog, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "opsdash.webhooks")
    limits = Limits(header_timeout=1.0, body_timeout=1.0, keep_alive=1, max_connections=20, max_per_address=1000)
    with receiver(tmp_path, limits, refusals) as port, ExitStack() as stack:
        slow = [stack.enter_context(connect(port)) for _ in range(20)]  # every slot, each silent
        for sock in slow:
            sock.sendall(b"P")
        started = time.monotonic()
        over = [stack.enter_context(connect(port)) for _ in range(25)]
        answers = [read_all(sock) for sock in over]
        assert [a[:12] for a in answers if not (a.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 1" in a)] == []
        status, deadline = None, started + 10
        while status != 200 and time.monotonic() < deadline:  # a sender retrying as Retry-After says
            try:
                status = deliver(port).status_code
            except httpx.HTTPError:
                status = None
        stalled = time.monotonic() - started
    assert status == 200
    assert stalled < 4  # the slow clients were cut at 1 s; not the 53.8 s of issue 22
    lines = [r.getMessage() for r in caplog.records if r.name == "opsdash.webhooks"]
    kinds = [line.split("(")[1].split(")")[0] for line in lines]
    assert sorted(set(kinds)) == sorted(kinds)  # one line per refusal kind, not one per connection
    assert refusals.counts["too many connections"] >= 25 and "too many connections" in kinds


def test_one_address_cannot_take_every_slot(tmp_path: Path, refusals: RefusalLog) -> None:
    limits = Limits(header_timeout=5.0, body_timeout=5.0, keep_alive=1, max_connections=50, max_per_address=3)
    with receiver(tmp_path, limits, refusals) as port, ExitStack() as stack:
        held = [stack.enter_context(connect(port)) for _ in range(3)]
        fourth = stack.enter_context(connect(port))
        assert read_all(fourth).startswith(b"HTTP/1.1 503 ")
        assert held and refusals.counts == {"too many connections from one address": 1}


def test_idle_keep_alive_connections_are_closed(tmp_path: Path, refusals: RefusalLog) -> None:
    with receiver(tmp_path, FAST, refusals) as port, connect(port) as sock:
        sock.sendall(b"POST /webhooks/upwell HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        started = time.monotonic()
        answer = read_all(sock)  # a 401, then the connection stays idle until closed
        assert answer.startswith(b"HTTP/1.1 401 ") and time.monotonic() - started < 3


def test_running_out_of_descriptors_is_one_counted_line_not_a_traceback_per_accept(
        tmp_path: Path, refusals: RefusalLog, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 22: every failed accept logged a traceback (163 MB in 60 s). Should it still happen, it is counted."""
    settings = Settings(opsdash_db=suite_database(tmp_path / "hooks.db"), opsdash_webhook_user=AUTH[0],
                        opsdash_webhook_password=SecretStr(AUTH[1]))
    cfg = config(webhook_app(settings), "127.0.0.1", free_port(), FAST, refusals)
    cfg.load()

    async def run() -> None:
        server = GuardedServer(cfg)
        server.lifespan = cfg.lifespan_class(cfg)  # as uvicorn.Server._serve does before startup
        await server.startup()
        loop = asyncio.get_running_loop()
        for _ in range(100):
            loop.call_exception_handler({"message": "socket.accept() out of system resource",
                                         "exception": OSError(24, "Too many open files")})
        server.should_exit = True
        await server.shutdown()

    asyncio.run(run())
    assert refusals.counts == {"out of file descriptors": 100}
    assert [r.name for r in caplog.records if r.levelno >= logging.WARNING] == ["opsdash.webhooks"]


def test_malformed_requests_are_counted_not_logged_each(tmp_path: Path, refusals: RefusalLog,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with receiver(tmp_path, FAST, refusals) as port:
        for _ in range(30):
            with connect(port) as sock:
                sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
                assert read_all(sock).startswith(b"HTTP/1.1 400 ")
    assert refusals.counts == {"invalid HTTP request": 30}
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert lines == [("webhooks: refused 1 request (invalid HTTP request) in the last 60 s; latest: a malformed "
                      "request line or headers")]


def test_a_second_request_that_stalls_on_a_kept_connection_gets_408(tmp_path: Path, refusals: RefusalLog) -> None:
    with receiver(tmp_path, FAST, refusals) as port, connect(port) as sock:
        sock.sendall(b"POST /webhooks/upwell HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        first = b""
        while not first.endswith(b'"authentication required"}'):  # the whole 401 (bounded by the socket timeout)
            chunk = sock.recv(4096)
            assert chunk, first
            first += chunk
        sock.sendall(b"POST /webhooks/upwell HTTP/1.1\r\nHo")  # the next request, then nothing
        second = read_all(sock)
    assert first.startswith(b"HTTP/1.1 401 ") and second.startswith(b"HTTP/1.1 408 ")
    assert refusals.counts["headers read timeout"] == 1
