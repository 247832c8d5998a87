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
from pathlib import Path

import pytest
import streamlit as st
from sqlite_utils import Database
from streamlit.testing.v1 import AppTest

from cache.db import connect, iso
from cache.schema import migrate
from services.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC)
TODAY = NOW.date()
VENDOR_URLS = {"QARGO_BASE_URL": "http://127.0.0.1:1/qargo", "QUADERNO_BASE_URL": "http://127.0.0.1:1/q",
               "QASIDA_BASE_URL": "http://127.0.0.1:1/qasida", "CARGOBASE_BASE_URL": "http://127.0.0.1:1/c"}
SETTINGS_ENV = (*VENDOR_URLS, "OPSDASH_WEBHOOK_USER", "OPSDASH_WEBHOOK_PASSWORD", "OPSDASH_DB")

# --- expected figures (default filters: orders dated today-90 .. today+30, all sources) ---------
ORDERS_BY_STATUS = {"PLANNED": 1, "IN_TRANSIT": 1, "DELIVERED": 1, "open": 1, "shipped": 1}
LATE_ORDERS = 1  # Q1; Q4 is late too but dated before the default window
QASIDA_ORDERS_BY_STATUS = {"open": 1, "shipped": 1}
OUTSTANDING = {"EUR": 125050, "USD": 19345}  # 1000.50 + 200.00 + 50.00 EUR; 123.45 + 70.00 USD
ISSUED_7D = {"EUR": 100050, "USD": 7000}
OVERDUE = {"EUR": 25000, "USD": 12345}
OVERDUE_COUNT = 3
OVERDUE_7D = {"USD": 12345}
AGING = {("qasida", "EUR", "90+"): 5000, ("quaderno", "EUR", "0–30"): 100050,
         ("quaderno", "EUR", "31–60"): 20000, ("quaderno", "USD", "0–30"): 12345,
         ("upwell", "USD", "0–30"): 7000}
BELOW_THRESHOLD = 2
BELOW_BY_WAREHOUSE = {"WH-A": 1, "WH-B": 1}
TAX_IDS = {"valid": 1, "invalid": 1, "unavailable": 1}


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def ago(**delta: float) -> str:
    return iso(NOW - timedelta(**delta))


def seed(db: Database) -> None:
    """Known rows for every dataset the pages read."""
    synced = {"synced_at": iso(NOW)}
    db["qargo_orders"].insert_all([
        {"order_id": "Q1", "reference": "R-1", "customer": "Acme", "status": "PLANNED",
         "pickup_date": day(-2), "delivery_date": day(-1), **synced},
        {"order_id": "Q2", "reference": "R-2", "customer": "Acme", "status": "IN_TRANSIT",
         "pickup_date": day(-1), "delivery_date": day(2), **synced},
        {"order_id": "Q3", "reference": "R-3", "customer": "Beta", "status": "DELIVERED",
         "pickup_date": day(-5), "delivery_date": day(-3), **synced},
        {"order_id": "Q4", "reference": "R-4", "customer": "Beta", "status": "PLANNED",
         "pickup_date": day(-200), "delivery_date": day(-190), **synced},
    ])
    db["qasida_customer_orders"].insert_all([
        {"order_id": "S1", "number": "SO-1", "customer": "Gamma", "status": "open", "order_date": day(-3),
         **synced},
        {"order_id": "S2", "number": "SO-2", "customer": "Gamma", "status": "shipped",
         "order_date": day(-10), **synced},
    ])
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
    ])
    db["qasida_liabilities"].insert_all([
        {"liability_id": "L1", "document_number": "LB-1", "customer": "Gamma", "currency": "EUR",
         "remains_to_be_paid": 5000, "due_date": day(-100), **synced},
        {"liability_id": "L2", "document_number": "LB-2", "customer": "Gamma", "currency": "EUR",
         "remains_to_be_paid": 0, "due_date": day(-100), **synced},
    ])
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
    ])


def _seed_stock(db: Database, synced: dict[str, str]) -> None:
    db["qasida_products"].insert_all([
        {"product_id": "P1", "name": "Pallet wrap", "reorder_threshold": 10.0, **synced},
        {"product_id": "P2", "name": "Labels", "reorder_threshold": 10.0, **synced},
    ])
    db["qasida_stock_cards"].insert_all([
        {"stock_card_id": "K1", "warehouse": "WH-A", "product_id": "P1", "product": "Pallet wrap",
         "quantity": 5.0, "reserved": 0.0, "available": 5.0, **synced},
        {"stock_card_id": "K2", "warehouse": "WH-A", "product_id": "P2", "product": "Labels",
         "quantity": 50.0, "reserved": 0.0, "available": 50.0, **synced},
        {"stock_card_id": "K3", "warehouse": "WH-B", "product_id": "P1", "product": "Pallet wrap",
         "quantity": 3.0, "reserved": 1.0, **synced},
    ])


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


def _use_db(monkeypatch: pytest.MonkeyPatch, path: Path, env: dict[str, str]) -> None:
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPSDASH_DB", str(path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    st.cache_data.clear()


@pytest.fixture
def seeded_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A seeded database, four vendors configured plus the Upwell webhook credentials."""
    path = tmp_path / "seeded.db"
    db = connect(path)
    migrate(db)
    seed(db)
    db.close()
    _use_db(monkeypatch, path, {**VENDOR_URLS, "OPSDASH_WEBHOOK_USER": "u", "OPSDASH_WEBHOOK_PASSWORD": "p"})
    yield path
    get_settings.cache_clear()
    st.cache_data.clear()


@pytest.fixture
def empty_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No rows and no vendor configured: every page shows its empty-state explainers."""
    path = tmp_path / "empty.db"
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
