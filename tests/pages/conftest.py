"""Page tests: a seeded and an empty temporary database, and an AppTest runner.

AppTest with st.navigation (Streamlit 1.67): load the router, `AppTest.from_file("dashboard.py")`,
then `at.switch_page("pages/x.py")` (a path relative to dashboard.py) and `at.run()`. Loading a
page file directly skips the router, so the sidebar filters would not be rendered.

Dates are relative to the real UTC today, because the pages read the clock (`ui.data.now`).
The expected figures below are computed by hand from the seeded rows, not by the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import streamlit as st
from sqlite_utils import Database
from streamlit.testing.v1 import AppTest

from services.settings import get_settings
from store.db import connect, iso

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC)
TODAY = NOW.date()
VENDOR_URLS = {"QARGO_BASE_URL": "http://127.0.0.1:1/qargo", "QUADERNO_BASE_URL": "http://127.0.0.1:1/q",
               "QASIDA_BASE_URL": "http://127.0.0.1:1/qasida", "CARGOBASE_BASE_URL": "http://127.0.0.1:1/c"}
SETTINGS_ENV = (*VENDOR_URLS, "OPSDASH_WEBHOOK_USER", "OPSDASH_WEBHOOK_PASSWORD", "OPSDASH_DB")

# --- expected figures (default filters: orders dated today-90 .. today+30, all sources) ---------
# Business orders: SO-1 (ERP open + Qargo R-2 IN_TRANSIT: one order), SO-2 (ERP only, shipped), R-1 and
# R-3 (Qargo only); R-4 is dated before the default window.
ORDERS_BY_STATUS = {"PLANNED": 1, "IN_TRANSIT": 1, "COMPLETED": 1, "shipped": 1}
BUSINESS_ORDERS = 4
LATE_ORDERS = 1  # R-1; R-4 is late too but dated before the default window
# Receivables: I1 1000.50 + I2 200.00 + claim C1 50.005 EUR; I3 123.45 USD (I4 paid, I5 nothing due,
# C2 settled, C3 nothing left). Payables: liability L1 300.10 EUR, Upwell U1 70.00 USD (U2 deleted,
# U3 PAID), Cargobase CB-1 without an amount.
OUTSTANDING = {"EUR": Decimal("1250.505"), "USD": Decimal("123.45")}
ISSUED_7D = {"EUR": Decimal("1000.50")}
OVERDUE = {"EUR": Decimal("250.005"), "USD": Decimal("123.45")}
OVERDUE_COUNT = 3
OVERDUE_7D = {"USD": Decimal("123.45")}
PAYABLE = {"EUR": Decimal("300.10"), "USD": Decimal("70.00")}
PAYABLE_ISSUED_7D = {"EUR": Decimal("300.10"), "USD": Decimal("70.00")}
AGING = {("qasida", "EUR", "90+"): "50.005", ("quaderno", "EUR", "Not yet due"): "1000.50",
         ("quaderno", "EUR", "31–60"): "200.00", ("quaderno", "USD", "1–30"): "123.45"}
PAYABLE_AGING = {("cargobase", None, "No due date"): "", ("qasida", "EUR", "Not yet due"): "300.10",
                 ("upwell", "USD", "Not yet due"): "70.00"}
BELOW_REORDER_LEVEL = 2  # K1 (5 <= 10) and K3 (2 <= 10); K2 has no level
NO_LEVEL = 1
RUNS_OUT = 1  # K1: 5 left, 1 a day (30 in the last 30 days), lead time 7
BELOW_BY_WAREHOUSE = {"WH-A": (1, 1), "WH-B": (1, 0)}
TAX_IDS = {"valid": 1, "invalid": 1, "unavailable": 1}


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def ago(**delta: float) -> str:
    """A moment before the seeding, on the wall clock the pages read (not NOW, fixed at import: a long
    parallel run would age "synced 5 min ago" into "20 min ago", and a fresh source into a stale one)."""
    return iso(datetime.now(UTC) - timedelta(**delta))


def seed(db: Database) -> None:
    """Known rows for every dataset the pages read."""
    synced = {"synced_at": iso(NOW)}
    db["qargo_orders"].insert_all([
        {"order_id": "Q1", "reference": "R-1", "customer": "Acme", "status": "PLANNED",
         "pickup_date": day(-2), "delivery_date": day(-1), **synced},
        {"order_id": "Q2", "reference": "SO-1", "customer": "Gamma GmbH", "status": "IN_TRANSIT",
         "pickup_date": day(-1), "delivery_date": day(2), **synced},
        {"order_id": "Q3", "reference": "R-3", "customer": "Beta", "status": "COMPLETED",
         "pickup_date": day(-5), "delivery_date": day(-3), **synced},
        {"order_id": "Q4", "reference": "R-4", "customer": "Beta", "status": "PLANNED",
         "pickup_date": day(-200), "delivery_date": day(-190), **synced},
    ])
    db["qasida_customer_orders"].insert_all([
        {"order_id": "S1", "number": "SO-1", "customer": "Gamma", "status": "open", "order_date": day(-3),
         "warehouse_id": "W1", "raw": '{"warehouseId": "W1"}', **synced},
        {"order_id": "S2", "number": "SO-2", "customer": "Gamma", "status": "shipped",
         "order_date": day(-10), "raw": "{}", **synced},
    ])
    db["qasida_customer_order_lines"].insert({"order_id": "S1", "line_no": 1, "product_id": "P1",
                                              "quantity": 30.0, **synced})
    _seed_invoices(db, synced)
    _seed_stock(db, synced)
    _seed_operations(db)


def _seed_invoices(db: Database, synced: dict[str, str]) -> None:
    def quaderno(i: str, currency: str, due: int, state: str, issued: int, amount: int) -> dict[str, object]:
        return {"invoice_id": i, "number": f"INV-{i}", "contact_name": "Acme", "currency": currency,
                "total": amount, "amount_due": amount, "state": state, "issue_date": day(issued),
                "due_date": day(due), **synced}
    db["quaderno_invoices"].insert_all([
        quaderno("I1", "EUR", 10, "outstanding", -3, 100050), quaderno("I2", "EUR", -45, "late", -60, 20000),
        quaderno("I3", "USD", -5, "outstanding", -20, 12345), quaderno("I4", "EUR", -5, "paid", -20, 99999),
        quaderno("I5", "EUR", -5, "outstanding", -2, 0),  # payments cover it: nothing due
    ])
    db["qasida_customers"].insert_all([{"customer_id": "K1", "name": "Gamma", **synced},
                                       {"customer_id": "K2", "name": "Delta Supplies", **synced}])

    def item(i: str, customer: str, remains: str, due: int, issued: int, **more: object) -> dict[str, object]:
        return {"invoice_id": i, "customer_id": customer, "document_number": f"DOC-{i}", "currency": "EUR",
                "remains_to_be_paid": remains, "due_date": day(due), "issue_date": day(issued), **synced, **more}
    db["qasida_claims"].insert_all([item("C1", "K1", "50.005", -100, -130), item("C2", "K1", "10", -100, -130,
                                    settled_at=iso(NOW)), item("C3", "K1", "0", -100, -130)])
    db["qasida_liabilities"].insert_all([item("L1", "K2", "300.10", 5, -2)])
    db["cargobase_invoices"].insert({"shipment_reference": "SH-1", "provider_invoice_number": "CB-1",
                                     "invoice_status": "Awaiting Audit", "provider_name": "FastFreight",
                                     "first_seen_at": iso(NOW), "last_seen_at": iso(NOW), **synced})
    db["carrier_invoices"].insert_all([
        {"invoice_id": "U1", "invoice_number": "UP-1", "carrier": "Roadrunner", "currency": "USD",
         "total_amount": 7000, "balance": 7000, "status": "open", "issue_date": day(-2),
         "due_date": day(28), **synced},
        {"invoice_id": "U2", "invoice_number": "UP-2", "carrier": "Roadrunner", "currency": "USD",
         "total_amount": 9000, "balance": 9000, "status": "open", "issue_date": day(-2),
         "due_date": day(-28), "deleted_at": iso(NOW), **synced},
        {"invoice_id": "U3", "invoice_number": "UP-3", "carrier": "Roadrunner", "currency": "USD",
         "total_amount": 9000, "balance": 500, "status": "PAID", "issue_date": day(-2),
         "due_date": day(-28), **synced},
    ])


def _seed_stock(db: Database, synced: dict[str, str]) -> None:
    db["qasida_warehouses"].insert_all([{"warehouse_id": "W1", "code": "1", "name": "WH-A", **synced},
                                        {"warehouse_id": "W2", "code": "2", "name": "WH-B", **synced}])
    db["qasida_products"].insert_all([
        {"product_id": "P1", "code": "PW", "name": "Pallet wrap", **synced},
        {"product_id": "P2", "code": "LB", "name": "Labels", **synced},
    ])
    db["qasida_stock_cards"].insert_all([
        {"stock_card_id": "K1", "warehouse_id": "W1", "warehouse": "WH-A", "product_id": "P1",
         "product": "Pallet wrap", "quantity": 5.0, "reserved": 0.0, "available": 5.0, **synced},
        {"stock_card_id": "K2", "warehouse_id": "W1", "warehouse": "WH-A", "product_id": "P2", "product": "Labels",
         "quantity": 50.0, "reserved": 0.0, "available": 50.0, **synced},
        {"stock_card_id": "K3", "warehouse_id": "W2", "warehouse": "WH-B", "product_id": "P1",
         "product": "Pallet wrap", "quantity": 3.0, "reserved": 1.0, **synced},
    ])
    db.execute("INSERT INTO reorder_levels VALUES ('PW', '', 10, 7, ?, 'test')", [iso(NOW)])


def _seed_operations(db: Database) -> None:
    def check(country: str, tax_id: str, result: str, minutes: int) -> dict[str, object]:
        return {"country": country, "tax_id": tax_id, "offline_ok": 1, "result": result,
                "checked_at": ago(minutes=minutes)}
    db["tax_id_validations"].insert_all([check("DE", "DE1", "valid", 60), check("DE", "DE1", "invalid", 5),
                                         check("FR", "FR1", "unavailable", 5), check("IT", "IT1", "valid", 5)])
    def run(vendor: str, resource: str, status: str, minutes: int, error: str | None = None) -> dict[str, object]:
        return {"vendor": vendor, "resource": resource, "started_at": ago(minutes=minutes + 1),
                "finished_at": ago(minutes=minutes), "status": status, "error": error}
    db["sync_runs"].insert_all([
        run("qargo", "orders", "ok", 5), run("quaderno", "invoices", "ok", 300),
        run("quaderno", "invoices", "error", 3, "Quaderno rejected the API key: check QUADERNO_API_KEY"),
        run("qasida", "stock_cards", "ok", 120),
    ])
    db["webhook_events"].insert_all([
        {"source": "upwell", "event_id": "e1", "received_at": ago(minutes=10), "outcome": "accepted"},
        {"source": "upwell", "event_id": "e2", "received_at": ago(minutes=9), "outcome": "accepted"},
        {"source": "upwell", "event_id": None, "received_at": ago(minutes=8), "outcome": "rejected",
         "reason": "bad credentials"},
    ])
    db["jobs"].insert({"kind": "sync", "payload": '{"vendor": "qargo"}', "status": "done",
                       "requested_by": "scheduler", "created_at": ago(minutes=6), "done": 3, "total": 3})


def _use_db(monkeypatch: pytest.MonkeyPatch, path: Path | str, env: dict[str, str]) -> None:
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPSDASH_DB", str(path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    st.cache_data.clear()


@pytest.fixture
def seeded_db(db_path: Path | str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path | str]:
    """A seeded database (a file, or with --db=postgresql a PostgreSQL one), four vendors configured plus the
    Upwell webhook credentials."""
    path = db_path
    db = connect(path)
    seed(db)
    db.close()
    _use_db(monkeypatch, path, {**VENDOR_URLS, "OPSDASH_WEBHOOK_USER": "u", "OPSDASH_WEBHOOK_PASSWORD": "p"})
    yield path
    get_settings.cache_clear()
    st.cache_data.clear()


@pytest.fixture
def empty_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_postgres: bool,
             request: pytest.FixtureRequest) -> Iterator[Path | str]:
    """No rows and no vendor configured: every page shows its empty-state explainers. A file not made yet,
    or with --db=postgresql a new (migrated, empty) PostgreSQL database."""
    path = request.getfixturevalue("db_path") if on_postgres else tmp_path / "empty.db"
    _use_db(monkeypatch, path, {})
    yield path
    get_settings.cache_clear()
    st.cache_data.clear()


def run_page(page: str, *, before: dict[str, object] | None = None) -> AppTest:
    """Run `page` (e.g. "pages/overview.py") through the router; `before` presets session state."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30)
    for key, value in (before or {}).items():
        at.session_state[key] = value
    at.switch_page(page)
    return at.run()


def today() -> date:
    return TODAY
