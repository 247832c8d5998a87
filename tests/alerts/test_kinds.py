"""Each rule kind fires past its boundary, not on it, once, and resolves when the condition clears."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlite_utils import Database

from alerts.conditions import findings
from alerts.rules import check_params
from services.settings import Settings
from tests.alerts.conftest import NOW, add, day, open_keys, queued, run, stamp

SYNCED = {"synced_at": stamp(NOW)}


def receivable(db: Database, number: str, due_offset: int, amount: int = 10000, currency: str = "EUR",
               contact: str = "Acme", now: datetime = NOW) -> None:
    db["quaderno_invoices"].insert({"invoice_id": number, "number": number, "contact_name": contact,
                                    "currency": currency, "total": amount, "amount_due": amount, "state": "late",
                                    "issue_date": day(due_offset - 30, now), "due_date": day(due_offset, now), **SYNCED})


def test_receivable_overdue_fires_past_n_days_only(db: Database, settings: Settings) -> None:
    receivable(db, "INV-61", -61)
    receivable(db, "INV-60", -60)  # exactly 60 days overdue: the boundary, not past it
    rule = add(db, "receivable_overdue", days=60)
    assert run(db, rule, settings) == (1, 0)
    assert open_keys(db, rule) == {"quaderno:INV-61"}
    assert run(db, rule, settings) == (0, 0)  # fires once
    assert [k for k, _, _ in queued(db)] == ["fired"]
    db.execute("UPDATE quaderno_invoices SET state = 'paid' WHERE number = 'INV-61'")
    assert run(db, rule, settings, NOW + timedelta(minutes=1)) == (0, 0)  # clear, within the hold
    assert run(db, rule, settings, NOW + timedelta(minutes=16)) == (0, 1)
    assert open_keys(db, rule) == set()
    assert [k for k, _, _ in queued(db)] == ["fired", "resolved"]


def test_receivable_amount_and_customer_filters(db: Database, settings: Settings) -> None:
    receivable(db, "A", -10, 100000)                 # 1000.00 EUR: on the boundary
    receivable(db, "B", -10, 100001)                 # 1000.01 EUR
    receivable(db, "C", -10, 500000, "USD")          # other currency
    receivable(db, "D", -10, 900000, contact="Beta")
    rule = add(db, "receivable_overdue", days=5, min_amount="1000.00", currency="EUR", counterparty="Acme")
    assert set(findings(db, rule, NOW, settings)) == {"quaderno:B"}
    title = findings(db, rule, NOW, settings)["quaderno:B"].title
    assert "1,000.01 EUR" in title and "10 days overdue" in title


def carrier_invoice(db: Database, number: str, due_offset: int, now: datetime = NOW) -> None:
    db["carrier_invoices"].insert({"invoice_id": number, "invoice_number": number, "carrier": "Haul Ltd",
                                   "currency": "EUR", "total_amount": 5000, "balance": 5000, "status": "RECEIVED",
                                   "due_date": day(due_offset, now), **SYNCED})


def test_payable_due_within_n_days(db: Database, settings: Settings) -> None:
    carrier_invoice(db, "P7", 7)   # due on today + 7: within
    carrier_invoice(db, "P8", 8)   # one day further: not yet
    carrier_invoice(db, "PX", -3)  # already overdue: still to pay
    rule = add(db, "payable_due", days=7)
    assert run(db, rule, settings) == (2, 0)
    assert open_keys(db, rule) == {"upwell:P7", "upwell:PX"}
    db.execute("UPDATE carrier_invoices SET balance = 0 WHERE invoice_id IN ('P7', 'PX')")
    assert run(db, rule, settings, NOW + timedelta(minutes=20)) == (0, 0)  # the clear period starts
    assert run(db, rule, settings, NOW + timedelta(minutes=40)) == (0, 2)


def stock(db: Database, product: str, available: float, level: float | None) -> None:
    db["qasida_products"].insert({"product_id": product, "code": product, "name": product, **SYNCED})
    db["qasida_stock_cards"].insert({"stock_card_id": f"W1-{product}", "warehouse_id": "W1", "warehouse": "Main",
                                     "product_id": product, "product": product, "unit": "pcs",
                                     "quantity": available, "reserved": 0, "available": available, **SYNCED})
    if level is not None:
        db["reorder_levels"].insert({"product_code": product, "warehouse_id": "", "reorder_level": level,
                                     "updated_at": stamp(NOW), "updated_by": "test"})


def test_stock_below_reorder_level(db: Database, settings: Settings) -> None:
    stock(db, "AT", 10, 10)     # at the level: a reorder is due (store/datasets.py, "at or below")
    stock(db, "ABOVE", 11, 10)  # one above: fine
    stock(db, "NOLEVEL", 0, None)
    rule = add(db, "stock_below_reorder")
    assert run(db, rule, settings) == (1, 0)
    assert open_keys(db, rule) == {"W1:AT"}
    db.execute("UPDATE qasida_stock_cards SET available = 50 WHERE product_id = 'AT'")
    run(db, rule, settings, NOW + timedelta(minutes=1))
    assert run(db, rule, settings, NOW + timedelta(minutes=17)) == (0, 1)


def test_stock_days_of_cover_below_n(db: Database, settings: Settings) -> None:
    stock(db, "LOW", 49, None)   # 49 / (300 / 30 per day) = 4.9 days
    stock(db, "EDGE", 50, None)  # 5.0 days: the boundary
    db["qasida_customer_orders"].insert({"order_id": "O1", "number": "SO-1", "customer": "Acme", "status": "open",
                                         "order_date": day(-5), **SYNCED})
    db["qasida_customer_order_lines"].insert_all([
        {"order_id": "O1", "line_no": i, "product_id": p, "quantity": 300.0, **SYNCED}
        for i, p in enumerate(("LOW", "EDGE"))])
    rule = add(db, "stock_cover_below", days=5)
    assert run(db, rule, settings) == (1, 0)
    assert open_keys(db, rule) == {"W1:LOW"}


def sync_run(db: Database, resource: str, status: str, minutes_ago: float, vendor: str = "qasida") -> None:
    at = stamp(NOW - timedelta(minutes=minutes_ago))
    db["sync_runs"].insert({"vendor": vendor, "resource": resource, "started_at": at, "finished_at": at,
                            "status": status})


def test_sync_stale_beyond_the_expected_interval(db: Database, settings: Settings) -> None:
    sync_run(db, "stock_cards", "ok", 30)          # expected every 30 min: exactly on it
    sync_run(db, "customer_orders", "ok", 31)      # one minute past
    rule = add(db, "sync_stale", vendor="qasida")
    assert run(db, rule, settings) == (1, 0)
    assert open_keys(db, rule) == {"qasida/customer_orders"}
    sync_run(db, "customer_orders", "ok", 0)
    assert run(db, rule, settings, NOW + timedelta(minutes=1)) == (1, 0)  # stock_cards is 31 min old now
    assert run(db, rule, settings, NOW + timedelta(minutes=16)) == (0, 1)  # customer_orders clear for 15 min
    assert open_keys(db, rule) == {"qasida/stock_cards"}


def test_sync_failed_until_a_run_succeeds(db: Database, settings: Settings) -> None:
    sync_run(db, "stock_cards", "ok", 10)
    sync_run(db, "stock_cards", "error", 5)
    rule = add(db, "sync_failed", resolve_after_minutes=0)
    assert run(db, rule, settings) == (1, 0)
    assert open_keys(db, rule) == {"qasida/stock_cards"}
    sync_run(db, "stock_cards", "ok", 1)
    assert run(db, rule, settings) == (0, 1)


def upload(db: Database, upload_id: str, ident: str, status: str, minutes_ago: float) -> None:
    at = stamp(NOW - timedelta(minutes=minutes_ago))
    db["order_uploads"].insert({"upload_id": upload_id, "order_identifier": ident, "operation": "CREATE",
                                "status": status, "error": "bad postcode" if status == "ERROR" else None, "job_id": 7,
                                "created_at": at, "updated_at": at})


def test_upload_error_until_a_later_upload_succeeds(db: Database, settings: Settings) -> None:
    upload(db, "U1", "ORD-1", "ERROR", 30)
    upload(db, "U2", "ORD-2", "COMPLETED", 30)
    upload(db, "U0", "ORD-3", "ERROR", 8 * 24 * 60)  # outside the 7-day window
    rule = add(db, "upload_error", resolve_after_minutes=0)
    assert run(db, rule, settings) == (1, 0)
    assert open_keys(db, rule) == {"ORD-1"}
    assert db.execute("SELECT link FROM alerts").fetchone()[0] == "pages/upload.py?job=7"
    assert db.execute("SELECT title FROM alerts").fetchone()[0] == "Qargo refused the upload of order ORD-1"
    upload(db, "U3", "ORD-1", "COMPLETED", 1)
    assert run(db, rule, settings) == (0, 1)


def test_an_upload_error_names_the_erp_number_and_file_row(db: Database, settings: Settings) -> None:
    """Issue 21: words, not ids: the ERP number the user uploaded and its row, not our identifier's hash."""
    upload(db, "U1", "OPS-688c5c7ea41a2817", "ERROR", 30)
    db.execute("UPDATE order_uploads SET erp_order_number = 'SO-1001', source_row = 2, operation = 'DELETE'")
    rule = add(db, "upload_error", resolve_after_minutes=0)
    assert run(db, rule, settings) == (1, 0)
    title, detail = db.execute("SELECT title, detail FROM alerts").fetchone()
    assert title == "Qargo refused the cancellation of order SO-1001 (row 2)"
    assert detail.startswith("bad postcode · ") and "U1" not in detail


def test_charge_waiting_longer_than_n_hours(db: Database, settings: Settings) -> None:
    db["qargo_charges"].insert({"charge_id": "C1", "order_id": "Q1", "description": "Waiting time", "amount": "45.50",
                                "currency": "EUR", "approval_status": "REQUESTED", **SYNCED})
    rule = add(db, "charge_waiting", hours=2, resolve_after_minutes=0)
    assert run(db, rule, settings) == (0, 0)  # first seen now
    assert run(db, rule, settings, NOW + timedelta(hours=2)) == (0, 0)  # exactly 2 h: not longer
    assert run(db, rule, settings, NOW + timedelta(hours=2, minutes=1)) == (1, 0)
    db.execute("UPDATE qargo_charges SET approval_status = 'APPROVED'")
    assert run(db, rule, settings, NOW + timedelta(hours=3)) == (0, 1)


def tax_check(db: Database, tax_id: str, result: str, minutes_ago: float) -> None:
    db["tax_id_validations"].insert({"country": "DE", "tax_id": tax_id, "offline_ok": int(result != "malformed"),
                                     "result": result, "checked_at": stamp(NOW - timedelta(minutes=minutes_ago))})


def test_tax_id_turns_invalid_at_the_authority(db: Database, settings: Settings) -> None:
    tax_check(db, "DE1", "valid", 60)
    tax_check(db, "DE1", "invalid", 30)
    tax_check(db, "DE1", "unavailable", 10)  # no answer: the invalid one still stands
    tax_check(db, "DE2", "malformed", 10)    # our own offline check, not the authority
    rule = add(db, "tax_id_invalid", resolve_after_minutes=0)
    assert run(db, rule, settings) == (1, 0)
    assert open_keys(db, rule) == {"DE:DE1"}
    tax_check(db, "DE1", "valid", 0)
    assert run(db, rule, settings) == (0, 1)


def rejections(db: Database, count: int, minutes_ago: float, source: str = "upwell") -> None:
    db["webhook_events"].insert_all([{"source": source, "received_at": stamp(NOW - timedelta(minutes=minutes_ago)),
                                      "outcome": "rejected", "reason": "bad credentials"} for _ in range(count)])


def test_webhook_rejections_over_n_in_an_hour(db: Database, settings: Settings) -> None:
    rejections(db, 3, 10)
    rejections(db, 5, 61)  # older than an hour
    rule = add(db, "webhook_rejections", count=3, resolve_after_minutes=0)
    assert run(db, rule, settings) == (0, 0)  # 3 is not more than 3
    rejections(db, 1, 1)
    assert run(db, rule, settings) == (1, 0)
    assert "4 webhook deliveries rejected" in db.execute("SELECT title FROM alerts").fetchone()[0]
    assert run(db, rule, settings, NOW + timedelta(minutes=55)) == (0, 1)  # the burst left the hour


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("receivable_overdue", {}, "'days' is required"),
    ("receivable_overdue", {"days": "-1"}, "whole number"),
    ("receivable_overdue", {"days": 5, "min_amount": "lots"}, "decimal amount"),
    ("payable_due", {"dayz": 5}, "unknown parameter 'dayz'"),
    ("report", {"at": "25:00"}, "HH:MM"),
    ("sync_stale", {"vendor": "acme"}, "one of qargo"),
    ("nonsense", {}, "unknown alert kind"),
])
def test_bad_parameters_say_what_and_where(kind: str, params: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_params(kind, params)


def test_day_limits_follow_the_business_date(db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.settings import get_settings

    monkeypatch.setenv("OPSDASH_TIMEZONE", "Europe/Berlin")  # 23:30 UTC on the 10th is the 11th in Berlin
    get_settings.cache_clear()
    late = NOW.replace(hour=23, minute=30)
    carrier_invoice(db, "P8", 8)  # due on the 18th: within 7 days of the 11th, not of the 10th
    assert set(findings(db, add(db, "payable_due", days=7), late, settings)) == {"upwell:P8"}
    assert set(findings(db, add(db, "payable_due", name="noon", days=7), NOW, settings)) == set()


def test_titles_and_details_in_words(db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 21: a local date ("overdue since 28 Feb"), the vendor's name, never its setting name or ISO date."""
    monkeypatch.setattr("alerts.conditions.calendar.today", lambda *a: NOW.date())
    receivable(db, "B", -10, 100001)
    found = findings(db, add(db, "receivable_overdue", days=5), NOW, settings)["quaderno:B"]
    assert found.detail == "overdue since 28 Feb · Quaderno"
