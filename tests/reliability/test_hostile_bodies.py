"""Issue 22: authenticated bodies whose values are out of range, against the real receiver over HTTP.

Each is a 400 naming the field, nothing of it is stored, and the same keep-alive connection carries the
sender's next (good) delivery: before, each was a 500 with a traceback and a reset connection, and
`"1e999999"` held the GIL for 25-52 s while Python expanded it into a million digits.
"""

from __future__ import annotations

import base64
import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from sandbox.server import free_port, serving
from services.settings import Settings
from services.upwell.events import EventValidationError, parse_event
from store.schema import session
from tests.conftest import suite_database
from tests.webhooks.test_webhooks import AUTH, qargo_event, upwell_event
from webhooks.webhooks import webhook_app

HEADERS = {"content-type": "application/json",
           "authorization": "Basic " + base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode()).decode()}
MAX63 = 2**63 - 1


def upwell(**new: Any) -> dict[str, Any]:
    return upwell_event("hostile", **{"id": "ci-hostile", **new})


def upwell_envelope(**fields: Any) -> dict[str, Any]:
    return {**upwell(), **fields}


def qargo_at(timestamp: str) -> dict[str, Any]:
    return qargo_event("hostile", "ACCEPTED", timestamp, order_id="order-hostile")


# (source, body, the field the 400 must name, a word of the reason)
HOSTILE = [
    ("upwell", upwell(total_amount="1e999999"), "payload.new.total_amount", "out of range"),
    ("upwell", upwell(total_amount="1e30"), "payload.new.total_amount", "out of range"),
    ("upwell", upwell(total_amount="1" * 30), "payload.new.total_amount", "out of range"),
    ("upwell", upwell(total_amount="1" * 100_000), "payload.new.total_amount", "out of range"),
    ("upwell", upwell(balance="-1e30"), "payload.new.balance", "out of range"),
    ("upwell", upwell(total_amount=MAX63, balance=-MAX63), "payload.new.balance", "out of range"),
    ("upwell", upwell(total_amount=-MAX63 - 1, balance=1), "payload.new.balance", "out of range"),
    ("upwell", upwell_envelope(updatedAt="0001-01-01T00:00:00+14:00"), "updatedAt", "out of range"),
    ("upwell", upwell(updated_at="9999-12-31T23:59:59-14:00"), "payload.new.updated_at", "out of range"),
    ("upwell", upwell_envelope(createdAt="1" * 20), "createdAt", "out of range"),
    ("upwell", upwell(received_at="9" * 25), "payload.new.received_at", "out of range"),
    ("qargo", qargo_at("0001-01-01T00:00:00+14:00"), "events.0.timestamp", "out of range"),
    ("qargo", qargo_at("9999-12-31T23:59:59-14:00"), "events.0.timestamp", "out of range"),
    ("qargo", qargo_at("1" * 22), "events.0.timestamp", "out of range"),
]


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, str]]:
    db = suite_database(tmp_path_factory.mktemp("hostile") / "hooks.db")
    settings = Settings(opsdash_db=db, opsdash_webhook_user=AUTH[0], opsdash_webhook_password=SecretStr(AUTH[1]))
    port = free_port()
    with serving(webhook_app(settings), "127.0.0.1", port):
        yield "127.0.0.1", port, db


def send(conn: http.client.HTTPConnection, source: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    conn.request("POST", f"/webhooks/{source}", body=json.dumps(body).encode(), headers=HEADERS)
    response = conn.getresponse()
    return response.status, json.loads(response.read())


@pytest.mark.parametrize(("source", "body", "field", "reason"), HOSTILE,
                         ids=[f"{h[0]}-{h[2]}-{i}" for i, h in enumerate(HOSTILE)])
def test_hostile_value_is_a_400_naming_the_field_and_the_connection_stays_usable(
        receiver: tuple[str, int, str], source: str, body: dict[str, Any], field: str, reason: str) -> None:
    host, port, db = receiver
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        status, answer = send(conn, source, body)
        assert status == 400, answer
        assert answer["detail"].startswith(f"{field}: ") and reason in answer["detail"], answer["detail"]
        assert "Traceback" not in answer["detail"] and len(answer["detail"]) < 400
        first_socket = conn.sock
        assert first_socket is not None  # the server did not close the connection after the 400
        good = upwell_event(f"good-{field}") if source == "upwell" else qargo_event(
            f"good-{field}", "ACCEPTED", "2026-11-20T10:00:00Z", order_id=f"order-{len(field)}-{len(str(body))}")
        status, answer = send(conn, source, good)
        assert status == 200 and answer["outcome"] in ("accepted", "duplicate", "stale"), answer
        assert conn.sock is first_socket  # same keep-alive connection: nothing reconnected
    finally:
        conn.close()
    with session(db) as store:
        assert store.execute("SELECT count(*) FROM webhook_events WHERE event_id = 'hostile' "
                             "OR resource_id IN ('ci-hostile', 'order-hostile')").fetchone()[0] == 0
        assert store.execute("SELECT count(*) FROM carrier_invoices WHERE invoice_id = 'ci-hostile'").fetchone()[0] == 0


@pytest.mark.parametrize("value", ["1e999999", "-1e999999", "1e-999999", "9" * 64])
def test_a_huge_exponent_is_refused_in_well_under_half_a_second(value: str) -> None:
    body = json.dumps(upwell(total_amount=value)).encode()
    started = time.perf_counter()
    with pytest.raises(EventValidationError) as refused:
        parse_event(body)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, f"{value[:12]} took {elapsed:.3f} s"
    assert str(refused.value).startswith("payload.new.total_amount: ")
