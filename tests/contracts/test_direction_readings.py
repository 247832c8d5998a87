"""Direction (issue 18, "Done when"): a carrier invoice, a Cargobase invoice or a Qasida liability can never
land in receivables, a claim never in payables; and vendor calendar dates stay as they are (point 7).

The documents, transcribed (no file is read):
- Upwell: the onCarrierInvoiceEvent example (seeds/002 lines 4-93), `source_system_meta.type`
  "ACCOUNTS_PAYABLE" (lines 35, 72): what we owe. Its `due_date` "2024-12-19" and `issue_date`
  "2023-09-10" (lines 19, 25) are calendar dates: stored as they are in any zone.
- Cargobase: freight invoices providers submit to us "awaiting audit approval" (seeds/004 line 35): payables.
- Qasida: the claim list (seeds/003 lines 150-173, what a customer owes us) and the liability list (lines
  3124-3147, what we owe), both rows shaped as in lines 157-168.
- Quaderno: sales invoices (receivables); `issue_date` "2020-06-27", `due_date` "2020-07-27" (seeds/001
  lines 1501, 1506; `<date>`, line 1624): stored as they are in any zone.

Hand-computed expectation (due dates in the past of 2026-12-01, amounts as sent):
receivables = {quaderno 00001, qasida CLAIM-1}; payables = {qasida LIAB-1, upwell 1027, cargobase FF-2026-0042}.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from services.cargobase.models import Invoice as CargobaseInvoice
from services.qasida.models import OpenItem
from services.quaderno.models import Invoice as QuadernoInvoice
from services.settings import get_settings
from store.db import connect, iso
from store.queries import iter_dataset
from store.schema import migrate
from store.store import upsert_records
from sync import mappers
from webhooks.ingest import Outcome, ingest_upwell

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

# seeds/002 lines 13-49 ("new"); "old" (lines 50-86) differs in currency, updated_at, load_number, total_tax_amount.
UPWELL_NEW: dict[str, Any] = {
    "id": "cari_example", "status": "RECEIVED", "balance": 250741, "bill_id": None, "currency": "EUR",
    "due_date": "2024-12-19", "metadata": None, "tenant_id": "ten_example", "carrier_id": "car_example",
    "created_at": "2024-11-16T00:59:33.492433+00:00", "deleted_at": None, "issue_date": "2023-09-10",
    "updated_at": "2024-11-17T18:22:58.990876+00:00", "load_number": "LOAD-2343",
    "received_at": "2024-11-16T00:59:33.492433+00:00", "shipment_id": None, "total_amount": 250741,
    "invoice_number": "1027", "total_tax_amount": 0, "reference_numbers": None,
    "source_system_meta": {
        "type": "ACCOUNTS_PAYABLE", "mergeId": "fd4c7a80-5813-4782-b6ee-fc6627bb0dc8", "remoteId": "75",
        "field_mappings": {"organization_defined_targets": None, "linked_account_defined_targets": None},
        "remote_updated_at": "2023-01-26T20:54:08Z", "remote_was_deleted": False, "tracking_categories": [],
    },
    "customer_invoice_id": None, "created_from_email_message_id": None,
    "documents_type_or_customer_visibility_updated_at": None,
}
UPWELL_EVENT: dict[str, Any] = {  # seeds/002 lines 4-93
    "id": "whe_example", "createdAt": "2024-11-17T18:23:03.945732", "updatedAt": "2024-11-17T18:23:03.945732",
    "scheduledAt": None, "processedAt": None, "status": "PENDING", "operation": "UPDATE",
    "payload": {"new": UPWELL_NEW, "old": {**UPWELL_NEW, "currency": "USD", "load_number": "LOAD-1027",
                                           "updated_at": "2024-11-16T00:59:33.492433+00:00",
                                           "total_tax_amount": "0"}},
    "table": "carrier_invoices", "webhookSubscriptionId": "whs_example", "resourceId": "cari_example",
    "retryOfId": None, "retries": [],
}
# seeds/003 lines 157-168, with a document number, currency and amount of ours (the example's are "string").
OPEN_ITEM: dict[str, Any] = {
    "invoiceId": 0, "type": "string", "documentNumber": "string", "invoicedAmount": 0.1, "currency": "string",
    "remainsToBePaid": 0.1, "daysDelayed": 0, "dueDate": "2019-08-24T14:15:22Z",
    "issueDate": "2019-08-24T14:15:22Z", "variableSymbol": "string", "lastPayment": "2019-08-24T14:15:22Z",
}
# seeds/004 lines 22-30 and the "Awaiting audit" status (line 35).
CARGOBASE: dict[str, Any] = {
    "shipment_reference": "CB-SHP-0001", "invoice_reference": "Shipment to Rotterdam",
    "invoice_status": "Awaiting audit", "provider_name": "Falcon Forwarding",
    "provider_invoice_number": "FF-2026-0042", "freight_mode": "Air", "primary_tracking_number": "HAWB-998877",
    "submit_date": "2026-11-18", "modified": "2026-11-19T08:15:30Z",
}
# seeds/001 lines 1501, 1506 (the invoice example's dates), a number and total of ours.
QUADERNO: dict[str, Any] = {"id": 1, "number": "00001", "currency": "EUR", "issue_date": "2020-06-27",
                            "due_date": "2020-07-27", "state": "outstanding", "total_cents": 1000}


@pytest.fixture
def db(db_path: Path | str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("OPSDASH_TIMEZONE", "Pacific/Auckland")  # far from UTC: a date shifted by UTC shows
    get_settings.cache_clear()
    conn = connect(db_path)
    migrate(conn)
    yield conn
    conn.close()
    get_settings.cache_clear()


def open_item(number: str, kind: str) -> dict[str, Any]:
    item = OpenItem.model_validate({**OPEN_ITEM, "invoiceId": 1 if kind == "claim" else 2,
                                    "documentNumber": number, "currency": "EUR", "remainsToBePaid": "12.50"})
    return {**mappers.qasida_open_item(mappers.Owned("42", item, kind)), "synced_at": iso(NOW)}


def fill(db: Database) -> None:
    assert ingest_upwell(db, json.dumps(UPWELL_EVENT).encode(), now=NOW) is Outcome.ACCEPTED
    stamps = dict.fromkeys(("first_seen_at", "last_seen_at", "synced_at"), iso(NOW))
    cargobase = mappers.cargobase_invoice(CargobaseInvoice.model_validate(CARGOBASE))
    upsert_records(db, "cargobase_invoices", [{**cargobase, **stamps}], ("shipment_reference", "provider_invoice_number"))
    upsert_records(db, "qasida_claims", [open_item("CLAIM-1", "claim")], "invoice_id")
    upsert_records(db, "qasida_liabilities", [open_item("LIAB-1", "liability")], "invoice_id")
    quaderno = mappers.quaderno_invoice(QuadernoInvoice.model_validate(QUADERNO))
    upsert_records(db, "quaderno_invoices", [{**quaderno, "synced_at": iso(NOW)}], "invoice_id")


def listed(db: Database, name: str) -> set[tuple[str, str]]:
    return {(r["source"], r["invoice_number"]) for r in iter_dataset(db, name, now=NOW)}


def test_each_kind_lands_on_its_side_only(db: Database) -> None:
    fill(db)
    assert listed(db, "receivables_outstanding") == {("quaderno", "00001"), ("qasida", "CLAIM-1")}
    assert listed(db, "payables_outstanding") == {("qasida", "LIAB-1"), ("upwell", "1027"),
                                                  ("cargobase", "FF-2026-0042")}
    both = {(r["direction"], r["source"], r["invoice_number"]) for r in iter_dataset(db, "invoices_outstanding", now=NOW)}
    assert {(s, n) for d, s, n in both if d == "receivable"} == listed(db, "receivables_outstanding")
    assert {(s, n) for d, s, n in both if d == "payable"} == listed(db, "payables_outstanding")


def test_vendor_calendar_dates_stay_as_they_are(db: Database) -> None:
    fill(db)
    upwell = db.execute("SELECT issue_date, due_date FROM carrier_invoices").fetchone()
    assert tuple(upwell) == ("2023-09-10", "2024-12-19")  # seeds/002 lines 25, 19
    quaderno = db.execute("SELECT issue_date, due_date FROM quaderno_invoices").fetchone()
    assert tuple(quaderno) == ("2020-06-27", "2020-07-27")  # seeds/001 lines 1501, 1506
    # A Qasida timestamp is a business date: 14:15:22Z on 24 August is 02:15:22 on the 25th in Auckland.
    assert db.execute("SELECT due_date FROM qasida_claims").fetchone()[0] == "2019-08-25"
