"""The Upwell emitter: onCarrierInvoiceEvent envelopes POSTed to a local receiver (seeds/002)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.context import WebhookTarget
from store.db import connect
from store.schema import migrate
from store.statuses import UPWELL_ENDED, upwell_outstanding_sql
from tests.conftest import StartSandbox
from webhooks.ingest import ingest_upwell

ENVELOPE_KEYS = {"id", "createdAt", "updatedAt", "scheduledAt", "processedAt", "status", "operation", "payload",
                 "table", "webhookSubscriptionId", "resourceId", "retryOfId", "retries"}
ROW_KEYS = {"id", "status", "balance", "currency", "due_date", "tenant_id", "carrier_id", "created_at", "issue_date",
            "updated_at", "load_number", "total_amount", "invoice_number", "total_tax_amount", "source_system_meta"}


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records every POST and answers the queued statuses (else 200)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/upwell"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [body for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    thread = threading.Thread(target=rec.server.serve_forever, daemon=True)
    thread.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


@pytest.fixture
def upwell(start_sandbox: StartSandbox, receiver: Receiver) -> Iterator[httpx.Client]:
    config = start_sandbox(upwell_webhook=WebhookTarget(receiver.url, "hook-user", "hook-secret"))
    with httpx.Client(base_url=f"{config.base_url}/_admin", timeout=30) as client:
        yield client


def emit(client: httpx.Client, count: int, *inject: str) -> list[dict[str, Any]]:
    response = client.post("/upwell/emit", json={"count": count, "inject": list(inject)})
    assert response.status_code == 200
    return list(response.json()["events"])


def test_envelopes_follow_the_doc_and_carry_basic_auth(upwell: httpx.Client, receiver: Receiver) -> None:
    sent = emit(upwell, 8)
    assert [d["id"] for d in sent] == [b["id"] for b in receiver.bodies]  # delivered before emit answers
    expected_auth = "Basic " + base64.b64encode(b"hook-user:hook-secret").decode()
    for headers, body in receiver.received:
        assert {k.lower(): v for k, v in headers.items()}["authorization"] == expected_auth
        assert set(body) == ENVELOPE_KEYS
        assert body["operation"] in ("INSERT", "UPDATE", "DELETE") and body["table"] == "carrier_invoices"
        assert datetime.fromisoformat(body["createdAt"]).tzinfo is None  # the doc's zone-less stamps
        row = body["payload"]["new"] or body["payload"]["old"]
        assert ROW_KEYS <= set(row) and body["resourceId"] == row["id"]
        assert isinstance(row["total_amount"], int) and isinstance(row["balance"], int)  # minor units
        assert len(row["currency"]) == 3
    assert receiver.bodies[0]["operation"] == "INSERT" and receiver.bodies[0]["payload"]["old"] is None
    assert all(d["status"] == 200 for d in sent)


def test_total_tax_amount_is_sometimes_a_string(upwell: httpx.Client, receiver: Receiver) -> None:
    emit(upwell, 12)
    taxes = [row["total_tax_amount"] for b in receiver.bodies
             for row in (b["payload"]["new"], b["payload"]["old"]) if row]
    assert any(isinstance(t, str) for t in taxes) and any(isinstance(t, int) for t in taxes)
    assert all(str(t).isdigit() for t in taxes)


def test_retry_has_a_new_id_and_points_at_the_original(upwell: httpx.Client, receiver: Receiver) -> None:
    sent = emit(upwell, 2, "retry")
    original, retry = receiver.bodies[1], receiver.bodies[2]
    assert sent[2]["kind"] == "retry"
    assert retry["retryOfId"] == original["id"] and retry["id"] != original["id"]
    assert retry["payload"] == original["payload"] and retry["resourceId"] == original["resourceId"]


def test_duplicate_delivery_is_the_very_same_envelope(upwell: httpx.Client, receiver: Receiver) -> None:
    emit(upwell, 2, "duplicate")
    assert receiver.bodies[2] == receiver.bodies[1]


def test_out_of_order_pair_delivers_the_newer_update_first(upwell: httpx.Client, receiver: Receiver) -> None:
    sent = emit(upwell, 1, "out_of_order")
    pair = [d["event"] for d in sent if d["kind"] == "out_of_order"]
    assert [e["id"] for e in pair] == [b["id"] for b in receiver.bodies[-2:]]
    first, second = pair
    assert first["operation"] == second["operation"] == "UPDATE" and first["resourceId"] == second["resourceId"]
    assert first["payload"]["new"]["updated_at"] > second["payload"]["new"]["updated_at"]
    assert first["updatedAt"] > second["updatedAt"]
    assert first["payload"]["old"]["status"] == second["payload"]["new"]["status"]  # newer builds on older


def test_unacknowledged_delivery_is_redelivered_as_a_retry(upwell: httpx.Client, receiver: Receiver) -> None:
    receiver.statuses = [500]
    failed = emit(upwell, 1)[0]
    assert failed["status"] == 500
    redelivered = emit(upwell, 0)
    assert [d["kind"] for d in redelivered] == ["redelivery"]
    assert redelivered[0]["retryOfId"] == failed["id"] and redelivered[0]["status"] == 200
    assert emit(upwell, 0) == []  # acknowledged now: nothing pending


def test_events_listing_and_ticks_inject_anomalies(upwell: httpx.Client, receiver: Receiver) -> None:
    for _ in range(3):
        assert upwell.post("/tick").status_code == 200
    listing = upwell.get("/upwell/events").json()
    kinds = [d["kind"] for d in listing["events"]]
    assert listing["count"] == len(receiver.bodies) == len(kinds)
    assert {"event", "retry", "duplicate", "out_of_order"} <= set(kinds)
    assert all(d["status"] == 200 for d in listing["events"])
    assert upwell.post("/upwell/emit", json={"count": 1, "inject": ["bogus"]}).status_code == 400


def test_deletes_happen_and_invoices_stop_at_the_scale_count(start_sandbox: StartSandbox) -> None:
    # No webhook here: this test is about what is built, and 300 deliveries would only cost time.
    with httpx.Client(base_url=f"{start_sandbox().base_url}/_admin", timeout=30) as client:
        sent = emit(client, 300)
    inserts = [d for d in sent if d["operation"] == "INSERT"]
    deletes = [d["event"] for d in sent if d["operation"] == "DELETE"]
    assert len(inserts) == 60  # small scale's upwell_invoices
    assert deletes and all(e["payload"]["new"] is None and e["payload"]["old"]["id"] == e["resourceId"]
                           for e in deletes)


def test_emission_is_deterministic_for_a_seed(start_sandbox: StartSandbox) -> None:
    runs = []
    for seed in (4, 4, 5):
        with httpx.Client(base_url=start_sandbox(seed=seed).base_url, timeout=30) as client:
            events = client.post("/_admin/upwell/emit", json={"count": 12}).json()["events"]
        assert all(d["status"] is None for d in events)  # no webhook configured: events are still built
        runs.append([(d["id"], d["operation"], d["resourceId"], d["event"]["payload"]["new"] and
                      d["event"]["payload"]["new"]["total_amount"]) for d in events])
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_deletes_soft_deletes_and_ended_statuses_leave_outstanding(start_sandbox: StartSandbox, tmp_path: Path) -> None:
    """Everything the sandbox sends, applied by the receiver's ingest, leaves exactly the invoices a
    person reads as owed from the last image of each: not deleted (DELETE or `deleted_at`), not in an
    ended status, a balance above zero (issue 9 point 3; store/statuses.py)."""
    with httpx.Client(base_url=f"{start_sandbox().base_url}/_admin", timeout=30) as client:
        sent = [d["event"] for d in emit(client, 400)]
    db = connect(tmp_path / "c.db")
    migrate(db)
    for event in sent:
        ingest_upwell(db, json.dumps(event).encode(), datetime.now(UTC))
    last: dict[str, dict[str, Any]] = {}
    for event in sent:
        last[event["resourceId"]] = event
    owed = sorted(i for i, e in last.items() if e["operation"] != "DELETE" and not e["payload"]["new"]["deleted_at"]
                  and e["payload"]["new"]["status"] not in UPWELL_ENDED and e["payload"]["new"]["balance"] > 0)
    found = sorted(r[0] for r in db.execute(f"SELECT invoice_id FROM carrier_invoices WHERE {upwell_outstanding_sql()}"))
    db.close()
    assert found == owed
    operations = {e["operation"] for e in sent}
    soft = [e for e in sent if e["operation"] == "UPDATE" and e["payload"]["new"]["deleted_at"]]
    voided = [e for e in sent if e["payload"]["new"] and e["payload"]["new"]["status"] == "VOIDED"]
    assert operations == {"INSERT", "UPDATE", "DELETE"} and soft and voided
    assert all(v["payload"]["new"]["balance"] > 0 for v in voided)  # ended with a balance: still not owed
