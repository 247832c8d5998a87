"""Upwell contract, from seeds/002 and vendor-specs/upwell only: the document's example event maps to
the row computed by hand, a DELETE shaped as the document shapes it (the `old` row) removes the
invoice, every documented operation and invoice status has a meaning, and every documented required
envelope field is required."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from services.upwell.models import Operation
from store.db import connect
from store.schema import migrate
from store.statuses import upwell_ended, upwell_outstanding, upwell_outstanding_sql
from tests.vendor_docs import seed_lines, upwell_partial_example
from webhooks.ingest import BadEvent, Outcome, ingest_upwell

SEED = seed_lines("002")  # seeds/002, transcribed in tests/fixtures/vendor_docs (lines 4-93, 95-148)
PARTIAL = upwell_partial_example()  # vendor-specs/upwell/onCarrierInvoiceEvent.docs-example.partial.txt
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(db_path: Path | str) -> Iterator[Database]:
    conn = connect(db_path)
    migrate(conn)
    yield conn
    conn.close()


def example() -> dict[str, Any]:
    """seeds/002 lines 4-93, the document's own event."""
    return dict(json.loads("\n".join(SEED[3:93])))


def stored(db: Database) -> dict[str, Any]:
    [row] = db.query("SELECT invoice_id, invoice_number, carrier_id, load_number, currency, total_amount, "
                     "total_tax_amount, paid_amount, balance, status, issue_date, due_date, deleted_at, "
                     "last_event_id, last_event_updated_at FROM carrier_invoices")
    return row


def outstanding(db: Database) -> bool:
    return db.execute(f"SELECT count(*) FROM carrier_invoices WHERE {upwell_outstanding_sql()}").fetchone()[0] == 1


def test_the_partial_vendor_example_is_the_seed_example() -> None:
    """The stored vendor page is truncated; what it has is the seed's example, character for character."""
    head = PARTIAL.split("[... TRUNCATED")[0].rstrip()
    assert "\n".join(SEED[3:93]).startswith(head[: head.rindex("\n")])


def test_the_example_event_maps_to_the_hand_computed_row(db: Database) -> None:
    assert ingest_upwell(db, json.dumps(example()).encode(), NOW) == Outcome.ACCEPTED
    assert stored(db) == {
        "invoice_id": "cari_example", "invoice_number": "1027", "carrier_id": "car_example",
        "load_number": "LOAD-2343", "currency": "EUR", "total_amount": 250741, "total_tax_amount": 0,
        "paid_amount": 0, "balance": 250741, "status": "RECEIVED", "issue_date": "2023-09-10",
        "due_date": "2024-12-19", "deleted_at": None, "last_event_id": "whe_example",
        "last_event_updated_at": "2024-11-17T18:22:58.990876Z"}
    assert outstanding(db)


def test_a_delete_as_the_document_shapes_it_removes_the_invoice(db: Database) -> None:
    """A DELETE carries only `old` (the row as it was): insert the document's `old` row, then delete it
    with the same image, same `updated_at` (2024-11-16T00:59:33.492433)."""
    old = example()["payload"]["old"]
    insert = {**example(), "id": "whe_1", "operation": "INSERT", "payload": {"new": copy.deepcopy(old), "old": None}}
    delete = {**example(), "id": "whe_2", "operation": "DELETE", "payload": {"new": None, "old": old}}
    assert ingest_upwell(db, json.dumps(insert).encode(), NOW) == Outcome.ACCEPTED
    assert stored(db)["total_tax_amount"] == 0  # `"0"` as text in the document's old row (line 69)
    assert outstanding(db)
    assert ingest_upwell(db, json.dumps(delete).encode(), NOW) == Outcome.ACCEPTED
    row = stored(db)
    assert (row["currency"], row["load_number"], row["deleted_at"]) == ("USD", "LOAD-1027", "2024-11-17T18:23:03.945Z")
    assert not outstanding(db)


def test_every_documented_operation_is_handled() -> None:
    start = SEED.index("Available options:")
    documented = [s.strip(" ,") for s in SEED[start + 1:start + 4]]
    assert documented == ["INSERT", "UPDATE", "DELETE"]
    assert {o.value for o in Operation} == set(documented)


def test_every_documented_invoice_status_has_a_meaning() -> None:
    """The document shows the invoice status RECEIVED (line 15) in both images; PENDING (line 10) is
    the delivery's status. RECEIVED with a balance is owed; see docs/vendor-readings.md for the rest."""
    statuses = {img["status"] for img in example()["payload"].values()}
    assert statuses == {"RECEIVED"}
    for status in statuses:
        assert not upwell_ended(status) and upwell_outstanding(status, 1, None)
    assert example()["status"] == "PENDING"


def required_fields() -> list[str]:
    """Envelope fields marked `required` in the Body section (seeds/002 lines 101-137)."""
    body = SEED[SEED.index("Body"):SEED.index("Response")]
    return [body[i - 2] for i, line in enumerate(body) if line == "required" and re.fullmatch(r"[a-zA-Z]+", body[i - 2])]


@pytest.mark.parametrize("field", ["id", "createdAt", "updatedAt", "status", "operation", "payload"])
def test_every_documented_required_field_is_required(db: Database, field: str) -> None:
    assert field in required_fields()
    event = example()
    del event[field]
    with pytest.raises(BadEvent, match=field):
        ingest_upwell(db, json.dumps(event).encode(), NOW)
    assert db.execute("SELECT count(*) FROM carrier_invoices").fetchone()[0] == 0
