"""Cargobase contract, from seeds/004 only: the documented request (path, `Authorization: Token`,
`status` / `submit_date` / `page` / `page_size` as query parameters), the documented row fields
mapped to a hand-computed cache row, and a meaning for every documented status (label and value)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlite_utils import Database

from services.cargobase import resources as cargobase
from services.cargobase.client import make_client
from services.cargobase.models import InvoicePage
from services.settings import Settings
from store.statuses import (
    CARGOBASE_MEANING,
    InvoiceMeaning,
    cargobase_meaning,
    cargobase_outstanding_sql,
    cargobase_status,
)
from sync import mappers
from tests.vendor_docs import seed_lines

LINES = seed_lines("004")  # seeds/004, transcribed in tests/fixtures/vendor_docs (lines 32-40, 62-70)


def documented_values() -> dict[str, str]:
    """Filter value -> display label, read from the "Status values" table (seeds/004 lines 64-70):
    each row is Label + value + Definition run together, e.g. `Awaiting auditawaiting_auditAn invoice...`."""
    start = LINES.index("Status values") + 3
    rows = LINES[start:start + 6]
    values = {}
    for row in rows:  # the value is the label in snake case, right after it
        label = next(row[:i] for i in range(1, len(row)) if row[i:].startswith(row[:i].lower().replace(" ", "_")))
        value = label.lower().replace(" ", "_")
        assert re.match(r"An? ", row[len(label) + len(value):]), row
        values[value] = label
    return values


def documented_labels() -> list[str]:
    """The display labels of the "Invoice status options" table (seeds/004 lines 34-40)."""
    start = LINES.index("Invoice status options") + 3
    return [re.split(r"An? ", row, maxsplit=1)[0] for row in LINES[start:start + 6]]


def test_the_seed_tables_read_as_expected() -> None:
    assert documented_values() == {"awaiting_audit": "Awaiting audit", "approved": "Approved", "declined": "Declined",
                                   "removed": "Removed", "canceled": "Canceled", "unsubmitted": "Unsubmitted"}
    assert documented_labels() == ["Awaiting audit", "Approved", "Declined", "Removed", "Canceled", "Unsubmitted"]


def test_every_documented_status_has_a_meaning() -> None:
    values = documented_values()
    assert set(CARGOBASE_MEANING) == set(values)  # fails when a documented status is unmapped
    for value, label in values.items():
        assert cargobase_status(label) == value and cargobase_status(value) == value
    for label in documented_labels():
        assert cargobase_status(label) in CARGOBASE_MEANING


@pytest.mark.parametrize(("status", "meaning"), [
    ("Awaiting audit", InvoiceMeaning.OUTSTANDING), ("approved", InvoiceMeaning.SETTLED),
    ("Declined", InvoiceMeaning.VOID), ("Removed", InvoiceMeaning.VOID), ("Canceled", InvoiceMeaning.VOID),
    ("cancelled", InvoiceMeaning.VOID), ("Unsubmitted", InvoiceMeaning.VOID),
    ("on_hold", InvoiceMeaning.OUTSTANDING),  # unknown: kept in the queue, never silently dropped
])
def test_status_meanings(status: str, meaning: InvoiceMeaning) -> None:
    assert cargobase_meaning(status) is meaning


def test_the_documented_fields_map_to_the_hand_computed_row() -> None:
    """A row with exactly the fields of seeds/004 lines 22-30, and a page with its footer (lines 44-50)."""
    record = {"shipment_reference": "CB-SHP-0001", "invoice_reference": "Shipment to Rotterdam",
              "invoice_status": "Awaiting audit", "provider_name": "Falcon Forwarding",
              "provider_invoice_number": "FF-2026-0042", "freight_mode": "Air",
              "primary_tracking_number": "HAWB-998877", "submit_date": "2026-11-18",
              "modified": "2026-11-19T08:15:30Z"}
    page = InvoicePage.model_validate({"results": [record], "count": 1, "page": 1, "record_start": 1,
                                       "record_end": 1, "next": None, "previous": None})
    row = mappers.cargobase_invoice(page.results[0])
    assert {k: v for k, v in row.items() if k != "raw"} == {
        "shipment_reference": "CB-SHP-0001", "provider_invoice_number": "FF-2026-0042",
        "invoice_reference": "Shipment to Rotterdam", "invoice_status": "awaiting_audit",
        "provider_name": "Falcon Forwarding", "freight_mode": "Air", "primary_tracking_number": "HAWB-998877",
        "submit_date": "2026-11-18", "modified": "2026-11-19T08:15:30.000Z", "gone_from_vendor_at": None}
    assert cargobase_meaning(row["invoice_status"]) is InvoiceMeaning.OUTSTANDING


def test_the_outstanding_condition_agrees_with_the_meanings(db: Database) -> None:
    # the condition's two columns in a table of their own (the cache's table has more, NOT NULL), on either database
    db.execute("CREATE TABLE probe (n INTEGER PRIMARY KEY, invoice_status TEXT, gone_from_vendor_at TEXT)")
    statuses = [*CARGOBASE_MEANING, "on_hold", None]
    for n, status in enumerate(statuses):
        db.execute("INSERT INTO probe VALUES (?, ?, NULL)", [n, status])
    db.execute("INSERT INTO probe VALUES (?, 'awaiting_audit', '2026-11-20T00:00:00.000Z')", [len(statuses)])
    found = [r[0] for r in db.execute(f"SELECT invoice_status FROM probe WHERE {cargobase_outstanding_sql()} "
                                      "ORDER BY n").fetchall()]
    assert found == ["awaiting_audit", "on_hold", None]


def test_the_documented_request(db_path: Path | str) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"results": [], "count": 0, "page": 1, "next": None, "previous": None})

    settings = Settings(opsdash_db=db_path, cargobase_base_url="https://pluto.cargobase.com/api/1",
                        cargobase_token=SecretStr("tok-abcdef"))
    with make_client(settings, transport=httpx.MockTransport(answer)) as client:
        list(cargobase.invoices(client, status="approved", submit_date=date(2026, 11, 1), page_size=25))
        list(cargobase.invoices(client, submit_date="last_month"))
    first: Any = seen[0]
    assert first.method == "GET" and first.url.path == "/api/1/invoices/"  # seeds/004 line 7
    assert first.headers["authorization"] == "Token tok-abcdef"  # line 9
    assert dict(first.url.params) == {"status": "approved", "submit_date": "2026-11-01", "page_size": "25"}  # 56-74
    assert seen[1].url.params["submit_date"] == "last_month"
