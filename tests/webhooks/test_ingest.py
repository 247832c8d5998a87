"""webhooks/ingest.py against the vendors' documents: Upwell deletes as seeds/002 shapes them, ended
statuses, versions at the vendor's microseconds, future stamps refused, Qargo de-duplication."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlite_utils import Database

from sandbox.server import free_port, serving
from services.qargo.visibility import OperationalVisibilityUpdate
from services.settings import Settings
from store.statuses import UPWELL_ENDED, upwell_outstanding, upwell_outstanding_sql
from tests.vendor_docs import seed_lines
from webhooks.ingest import BadEvent, FutureTimestamp, Outcome, delivery_key, ingest_qargo, ingest_upwell
from webhooks.webhooks import webhook_app

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def seed_event() -> dict[str, Any]:
    """The document's own example envelope (seeds/002 lines 4-93)."""
    lines = seed_lines("002")  # transcribed in tests/fixtures/vendor_docs
    return json.loads("\n".join(lines[3:93]))


def image(updated: str, **fields: Any) -> dict[str, Any]:
    row = seed_event()["payload"]["new"]
    return {**row, "updated_at": updated, **fields}


def envelope(event_id: str, op: str, row: dict[str, Any], at: str = "2026-11-20T10:00:00.000001") -> bytes:
    payload = {"new": None, "old": row} if op == "DELETE" else {"new": row, "old": None}
    return json.dumps({**seed_event(), "id": event_id, "createdAt": at, "updatedAt": at,
                       "operation": op, "payload": payload}).encode()


def stored(db: Database) -> dict[str, Any]:
    [row] = db.query("SELECT status, balance, deleted_at, last_event_id, last_event_updated_at FROM carrier_invoices")
    return row


def outstanding(db: Database) -> list[str]:
    sql = f"SELECT invoice_id FROM carrier_invoices WHERE {upwell_outstanding_sql()}"
    return [r[0] for r in db.execute(sql).fetchall()]


def test_the_documents_example_is_accepted_as_the_row_it_shows(db: Database) -> None:
    assert ingest_upwell(db, json.dumps(seed_event()).encode(), NOW) == Outcome.ACCEPTED
    row = stored(db)
    assert row == {"status": "RECEIVED", "balance": 250741, "deleted_at": None, "last_event_id": "whe_example",
                   "last_event_updated_at": "2024-11-17T18:22:58.990876Z"}
    assert outstanding(db) == ["cari_example"]


def test_a_real_delete_carries_the_stored_version_and_removes_the_invoice(db: Database) -> None:
    row = image("2026-11-20T10:00:00.123456+00:00")
    assert ingest_upwell(db, envelope("e1", "INSERT", row), NOW) == Outcome.ACCEPTED
    # The DELETE's `old` is the row as it was: the same updated_at as stored (issue 9 point 3).
    assert ingest_upwell(db, envelope("e2", "DELETE", row, at="2026-11-20T11:00:00"), NOW) == Outcome.ACCEPTED
    assert stored(db)["deleted_at"] == "2026-11-20T11:00:00.000Z"
    assert outstanding(db) == []
    # The INSERT again (a late resend under another id) cannot bring it back.
    assert ingest_upwell(db, envelope("e1b", "INSERT", row), NOW) == Outcome.STALE
    assert outstanding(db) == []


def test_a_delete_older_than_an_applied_update_is_stale(db: Database) -> None:
    first = image("2026-11-20T10:00:00.000001+00:00")
    ingest_upwell(db, envelope("e1", "INSERT", first), NOW)
    ingest_upwell(db, envelope("e2", "UPDATE", image("2026-11-20T10:00:00.000002+00:00", status="APPROVED")), NOW)
    assert ingest_upwell(db, envelope("e3", "DELETE", first), NOW) == Outcome.STALE
    assert stored(db)["deleted_at"] is None and outstanding(db) == ["cari_example"]


def test_a_delete_that_overtakes_its_update_wins(db: Database) -> None:
    ingest_upwell(db, envelope("e1", "INSERT", image("2026-11-20T10:00:00+00:00")), NOW)
    updated = image("2026-11-20T10:05:00+00:00", status="APPROVED")
    assert ingest_upwell(db, envelope("e3", "DELETE", updated), NOW) == Outcome.ACCEPTED
    assert ingest_upwell(db, envelope("e2", "UPDATE", updated), NOW) == Outcome.STALE
    assert outstanding(db) == []


def test_deleted_at_on_an_update_is_a_delete_and_clearing_it_restores(db: Database) -> None:
    ingest_upwell(db, envelope("e1", "INSERT", image("2026-11-20T10:00:00+00:00")), NOW)
    soft = image("2026-11-20T10:01:00+00:00", deleted_at="2026-11-20T10:01:00.5+00:00")
    assert ingest_upwell(db, envelope("e2", "UPDATE", soft), NOW) == Outcome.ACCEPTED
    assert stored(db)["deleted_at"] == "2026-11-20T10:01:00.500Z" and outstanding(db) == []
    ingest_upwell(db, envelope("e3", "UPDATE", image("2026-11-20T10:02:00+00:00")), NOW)
    assert outstanding(db) == ["cari_example"]


@pytest.mark.parametrize("status", sorted(UPWELL_ENDED) + ["paid", "Voided"])
def test_an_ended_status_with_a_balance_is_never_outstanding(db: Database, status: str) -> None:
    ingest_upwell(db, envelope("e1", "INSERT", image("2026-11-20T10:00:00+00:00", status=status)), NOW)
    assert stored(db)["balance"] == 250741
    assert outstanding(db) == [] and not upwell_outstanding(status, 250741, None)


@pytest.mark.parametrize("status", ["RECEIVED", "APPROVED", "DISPUTED", "PARTIALLY_PAID", "SOMETHING_NEW", None])
def test_an_open_or_unknown_status_with_a_balance_stays_outstanding(db: Database, status: str | None) -> None:
    ingest_upwell(db, envelope("e1", "INSERT", image("2026-11-20T10:00:00+00:00", status=status)), NOW)
    assert outstanding(db) == ["cari_example"] and upwell_outstanding(status, 250741, None)
    assert not upwell_outstanding(status, 0, None) and not upwell_outstanding(status, 5, "2026-11-20T10:00:00Z")


def test_versions_keep_microseconds(db: Database) -> None:
    """Issue 11 point 1: .100100 / .100400 / .100900 in order must all apply."""
    ingest_upwell(db, envelope("e0", "INSERT", image("2026-11-20T10:00:00.000000+00:00")), NOW)
    steps = [("APPROVED", 250741, ".100100"), ("PARTIALLY_PAID", 125370, ".100400"), ("PAID", 0, ".100900")]
    outcomes = [ingest_upwell(db, envelope(f"e{i}", "UPDATE", image(f"2026-11-20T10:00:00{us}+00:00",
                                                                     status=s, balance=b)), NOW)
                for i, (s, b, us) in enumerate(steps, 1)]
    assert outcomes == [Outcome.ACCEPTED] * 3
    assert stored(db)["status"] == "PAID" and stored(db)["last_event_updated_at"] == "2026-11-20T10:00:00.100900Z"
    late = image("2026-11-20T10:00:00.100400+00:00", status="PARTIALLY_PAID", balance=125370)
    assert ingest_upwell(db, envelope("e9", "UPDATE", late), NOW) == Outcome.STALE


def test_a_version_stored_in_milliseconds_still_compares(db: Database) -> None:
    ingest_upwell(db, envelope("e1", "INSERT", image("2026-11-20T10:00:00.100+00:00")), NOW)
    db.execute("UPDATE carrier_invoices SET last_event_updated_at = '2026-11-20T10:00:00.100Z'")
    newer = image("2026-11-20T10:00:00.100100+00:00", status="PAID", balance=0)
    assert ingest_upwell(db, envelope("e2", "UPDATE", newer), NOW) == Outcome.ACCEPTED


def test_a_version_more_than_a_day_ahead_is_refused_and_not_stored(db: Database) -> None:
    with pytest.raises(FutureTimestamp, match=r"payload\.new\.updated_at: 9999-.*more than a day in the future"):
        ingest_upwell(db, envelope("e1", "INSERT", image("9999-01-01T00:00:00+00:00")), NOW)
    assert issubclass(FutureTimestamp, BadEvent)
    assert db.execute("SELECT count(*) FROM carrier_invoices").fetchone()[0] == 0
    # Within a day of our clock (a sender's clock running ahead) is accepted.
    assert ingest_upwell(db, envelope("e2", "INSERT", image("2026-11-22T08:59:00+00:00")), NOW) == Outcome.ACCEPTED


def test_the_receiver_answers_400_for_a_future_stamp(db_path: Path) -> None:
    settings = Settings(opsdash_db=db_path, opsdash_webhook_user="hooks",
                        opsdash_webhook_password=SecretStr("pw-123456"))
    with serving(webhook_app(settings), "127.0.0.1", free_port()) as url:
        body = envelope("e1", "INSERT", image("9999-01-01T00:00:00+00:00"))
        response = httpx.post(f"{url}/webhooks/upwell", content=body, auth=("hooks", "pw-123456"))
        q = qargo_body("o-1", "PLANNED", "9999-01-01T00:00:00Z")
        qargo = httpx.post(f"{url}/webhooks/qargo", content=q, auth=("hooks", "pw-123456"))
    assert response.status_code == 400 and "more than a day in the future" in response.json()["detail"]
    assert qargo.status_code == 400 and "events.0.timestamp" in qargo.json()["detail"]


# --- Qargo visibility -----------------------------------------------------------------------------


def qargo_body(order_id: str, status: str, ts: str, update_id: str | None = None) -> bytes:
    return json.dumps({"events": [{"timestamp": ts, "update": {"type": "Order", "id": update_id, "status": status}}],
                       "order": {"id": order_id, "customer_reference_number": "SO-1", "status": status,
                                 "stops": []}}).encode()


def test_qargo_events_carrying_the_order_id_as_update_id_are_all_applied(db: Database) -> None:
    """Issue 9 point 10: an installation that sends the order id in `update.id`."""
    order = "7d1a5b0e-0000-4000-8000-000000000001"
    assert ingest_qargo(db, qargo_body(order, "PLANNED", "2026-11-20T10:00:00Z", order), NOW) == Outcome.ACCEPTED
    assert ingest_qargo(db, qargo_body(order, "DEPARTED", "2026-11-20T11:00:00Z", order), NOW) == Outcome.ACCEPTED
    assert ingest_qargo(db, qargo_body(order, "DEPARTED", "2026-11-20T11:00:00Z", order), NOW) == Outcome.DUPLICATE
    assert db.execute("SELECT status FROM qargo_orders").fetchone()[0] == "DEPARTED"
    events = [r[0] for r in db.execute("SELECT event_type FROM qargo_order_events ORDER BY occurred_at")]
    assert events == ["Order:PLANNED", "Order:DEPARTED"]


def test_qargo_delivery_key_differs_by_order_type_and_time_and_ignores_formatting() -> None:
    def key(body: bytes) -> str:
        return delivery_key(OperationalVisibilityUpdate.model_validate_json(body))
    base = key(qargo_body("o-1", "PLANNED", "2026-11-20T10:00:00Z", "u"))
    assert base == key(qargo_body("o-1", "PLANNED", "2026-11-20T10:00:00.000000+00:00", "u"))
    others = {key(qargo_body("o-2", "PLANNED", "2026-11-20T10:00:00Z", "u")),
              key(qargo_body("o-1", "DEPARTED", "2026-11-20T10:00:00Z", "u")),
              key(qargo_body("o-1", "PLANNED", "2026-11-20T10:00:00.000001Z", "u"))}
    assert len(others) == 3 and base not in others


def test_qargo_status_order_at_microseconds(db: Database) -> None:
    ingest_qargo(db, qargo_body("o-1", "PLANNED", "2026-11-20T10:00:00.000100Z"), NOW)
    assert ingest_qargo(db, qargo_body("o-1", "DEPARTED", "2026-11-20T10:00:00.000200Z"), NOW) == Outcome.ACCEPTED
    assert ingest_qargo(db, qargo_body("o-1", "PLANNED", "2026-11-20T10:00:00.000150Z"), NOW) == Outcome.STALE
    assert db.execute("SELECT status, last_event_at FROM qargo_orders").fetchone() == (
        "DEPARTED", "2026-11-20T10:00:00.000200Z")
