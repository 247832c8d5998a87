"""Datasets: the registry, invoices_outstanding, stock levels, resources, filters, paging, streaming."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlite_utils import Database

from cache.datasets import CONTRACT_NAMES, DATASETS, get_dataset
from cache.queries import format_minor, iter_dataset, minor_to_decimal, query_dataset
from cache.store import upsert_records
from tests.cache.conftest import NOW

TODAY = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
S = "2025-03-01T00:00:00.000Z"


def seed_invoices(db: Database) -> None:
    upsert_records(db, "quaderno_invoices", [
        {"invoice_id": "q1", "number": "Q-1", "contact_name": "Acme", "currency": "EUR", "total": 12000,
         "amount_due": 12000, "state": "outstanding", "due_date": "2025-03-15", "synced_at": S},
        {"invoice_id": "q2", "number": "Q-2", "contact_name": "Beta", "currency": "JPY", "total": 5000,
         "amount_due": 5000, "state": "late", "due_date": "2025-02-28", "synced_at": S},
        {"invoice_id": "q3", "number": "Q-3", "contact_name": "Gamma", "currency": "EUR", "total": 1,
         "amount_due": 0, "state": "paid", "due_date": "2025-01-01", "synced_at": S},
    ], "invoice_id")
    upsert_records(db, "qasida_liabilities", [
        {"liability_id": "l1", "document_number": "FV-1", "customer": "Delta", "currency": "CZK",
         "remains_to_be_paid": 99999, "days_delayed": 3, "due_date": "2025-03-07T00:00:00Z", "synced_at": S},
        {"liability_id": "l2", "document_number": "FV-2", "customer": "Delta", "currency": "CZK",
         "remains_to_be_paid": 0, "due_date": "2025-01-01", "synced_at": S},
        {"liability_id": "l3", "document_number": "FV-3", "customer": "Eps", "currency": "CZK",
         "remains_to_be_paid": 10, "days_delayed": 7, "due_date": None, "synced_at": S},
    ], "liability_id")
    key = ("shipment_reference", "provider_invoice_number")
    base = {"first_seen_at": S, "last_seen_at": S, "synced_at": S, "provider_name": "Fwd"}
    upsert_records(db, "cargobase_invoices", [
        base | {"shipment_reference": "S1", "provider_invoice_number": "PI-1", "invoice_status": "awaiting_audit"},
        base | {"shipment_reference": "S2", "provider_invoice_number": "PI-2", "invoice_status": "approved"},
        base | {"shipment_reference": "S3", "provider_invoice_number": "PI-3", "invoice_status": "Awaiting audit",
                "gone_from_vendor_at": S},
    ], key)
    upsert_records(db, "carrier_invoices", [
        {"invoice_id": "u1", "invoice_number": "1027", "carrier_id": "car_1", "currency": "USD",
         "total_amount": 250741, "balance": 250741, "status": "RECEIVED", "due_date": "2025-03-09", "synced_at": S},
        {"invoice_id": "u2", "invoice_number": "1028", "carrier": "Trucks Ltd", "currency": "USD",
         "balance": 5, "status": "RECEIVED", "deleted_at": S, "synced_at": S},
        {"invoice_id": "u3", "invoice_number": "1029", "carrier": "Trucks Ltd", "currency": "USD",
         "balance": 0, "status": "PAID", "synced_at": S},
    ], "invoice_id")


EXPECTED_OUTSTANDING = [
    {"source": "quaderno", "invoice_number": "Q-2", "counterparty": "Beta", "currency": "JPY",
     "amount_due": 5000, "due_date": "2025-02-28", "days_overdue": 10, "status": "late"},
    {"source": "qasida", "invoice_number": "FV-3", "counterparty": "Eps", "currency": "CZK",
     "amount_due": 10, "due_date": None, "days_overdue": 7, "status": "open"},
    {"source": "qasida", "invoice_number": "FV-1", "counterparty": "Delta", "currency": "CZK",
     "amount_due": 99999, "due_date": "2025-03-07", "days_overdue": 3, "status": "overdue"},
    {"source": "upwell", "invoice_number": "1027", "counterparty": "car_1", "currency": "USD",
     "amount_due": 250741, "due_date": "2025-03-09", "days_overdue": 1, "status": "RECEIVED"},
    {"source": "quaderno", "invoice_number": "Q-1", "counterparty": "Acme", "currency": "EUR",
     "amount_due": 12000, "due_date": "2025-03-15", "days_overdue": 0, "status": "outstanding"},
    {"source": "cargobase", "invoice_number": "PI-1", "counterparty": "Fwd", "currency": None,
     "amount_due": None, "due_date": None, "days_overdue": None, "status": "awaiting_audit"},
]


def test_invoices_outstanding_union(db: Database) -> None:
    seed_invoices(db)
    page = query_dataset(db, "invoices_outstanding", now=TODAY)
    assert page.columns == ("source", "invoice_number", "counterparty", "currency", "amount_due",
                            "due_date", "days_overdue", "status")
    assert page.total == 6
    assert page.rows == EXPECTED_OUTSTANDING


@pytest.mark.parametrize(("today", "expected"), [
    (datetime(2025, 2, 27, tzinfo=UTC), 0), (datetime(2025, 2, 28, tzinfo=UTC), 0),
    (datetime(2025, 3, 1, 23, 59, tzinfo=UTC), 1), (datetime(2025, 4, 30, tzinfo=UTC), 61),
])
def test_days_overdue_follows_today(db: Database, today: datetime, expected: int) -> None:
    seed_invoices(db)
    page = query_dataset(db, "invoices_outstanding", {"invoice_number": "Q-2"}, now=today)
    assert [r["days_overdue"] for r in page.rows] == [expected]


@pytest.mark.parametrize(("filters", "numbers"), [
    ({"source": "qasida"}, ["FV-3", "FV-1"]),
    ({"source": ["upwell", "cargobase"]}, ["1027", "PI-1"]),
    ({"days_overdue__gte": 3}, ["Q-2", "FV-3", "FV-1"]),
    ({"counterparty__contains": "ELT"}, ["FV-1"]),
    ({"currency": None}, ["PI-1"]),
    ({"source__ne": "qasida", "amount_due__gt": 10000}, ["1027", "Q-1"]),
    ({"source__in": []}, []),
])
def test_filters_remove_the_right_rows(db: Database, filters: dict[str, object], numbers: list[str]) -> None:
    seed_invoices(db)
    page = query_dataset(db, "invoices_outstanding", filters, now=TODAY)
    assert [r["invoice_number"] for r in page.rows] == numbers
    assert page.total == len(numbers)


@pytest.mark.parametrize("filters", [{"no_such": 1}, {"source; DROP TABLE jobs": 1}, {"source__regex": "x"}])
def test_filters_reject_unknown_columns_and_ops(db: Database, filters: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        query_dataset(db, "invoices_outstanding", filters)


def test_order_by_is_whitelisted_and_applied(db: Database) -> None:
    seed_invoices(db)
    page = query_dataset(db, "invoices_outstanding", order_by="-amount_due", limit=2, now=TODAY)
    assert [r["amount_due"] for r in page.rows] == [250741, 99999]
    with pytest.raises(ValueError):
        query_dataset(db, "invoices_outstanding", order_by="amount_due; DROP TABLE jobs")


def test_pagination_and_streaming(db: Database) -> None:
    seed_invoices(db)
    first = query_dataset(db, "invoices_outstanding", limit=4, offset=0, now=TODAY)
    second = query_dataset(db, "invoices_outstanding", limit=4, offset=4, now=TODAY)
    assert first.total == second.total == 6
    assert first.rows + second.rows == EXPECTED_OUTSTANDING
    assert list(iter_dataset(db, "invoices_outstanding", chunk_size=2, now=TODAY)) == EXPECTED_OUTSTANDING


def test_stock_below_threshold(db: Database) -> None:
    upsert_records(db, "qasida_products", [
        {"product_id": "p2", "name": "Bolt", "reorder_threshold": 50.0, "synced_at": S}], "product_id")
    upsert_records(db, "qasida_stock_cards", [
        {"stock_card_id": "s1", "warehouse": "Brno", "product_id": "p1", "product": "Nut",
         "quantity": 100.0, "reserved": 95.0, "available": 5.0, "reorder_threshold": 10.0, "synced_at": S},
        {"stock_card_id": "s2", "warehouse": "Brno", "product_id": "p2", "product": "Bolt",
         "quantity": 80.0, "reserved": 20.0, "available": None, "reorder_threshold": None, "synced_at": S},
        {"stock_card_id": "s3", "warehouse": "Praha", "product_id": "p1", "product": "Nut",
         "quantity": 30.0, "reserved": 0.0, "available": 30.0, "reorder_threshold": 10.0, "synced_at": S},
        {"stock_card_id": "s4", "warehouse": "Praha", "product_id": "p3", "product": "Gear",
         "quantity": 0.0, "reserved": 0.0, "available": 0.0, "reorder_threshold": None, "synced_at": S},
    ], "stock_card_id")
    rows = query_dataset(db, "stock_levels").rows
    assert [(r["warehouse"], r["product"], r["available"], r["below_threshold"]) for r in rows] == [
        ("Brno", "Nut", 5.0, 1), ("Brno", "Bolt", 60.0, 0), ("Praha", "Gear", 0.0, 0), ("Praha", "Nut", 30.0, 0)]
    below = query_dataset(db, "stock_levels", {"below_threshold": 1}).rows
    assert [r["product"] for r in below] == ["Nut"]


def test_orders_union_and_lateness(db: Database) -> None:
    upsert_records(db, "qargo_orders", [
        {"order_id": "a", "reference": "R-A", "status": "IN_TRANSIT", "pickup_date": "2025-03-01",
         "delivery_date": "2025-03-05", "synced_at": S},
        {"order_id": "b", "reference": "R-B", "status": "DELIVERED", "pickup_date": "2025-03-02",
         "delivery_date": "2025-03-05", "synced_at": S},
    ], "order_id")
    upsert_records(db, "qasida_customer_orders", [
        {"order_id": "c", "number": "OV-1", "customer": "Acme", "status": "open", "order_date": "2025-03-03",
         "synced_at": S}], "order_id")
    rows = query_dataset(db, "orders", now=TODAY).rows
    assert [(r["source"], r["reference"], r["late"]) for r in rows] == [
        ("qasida", "OV-1", 0), ("qargo", "R-B", 0), ("qargo", "R-A", 1)]


def test_resources_current_and_coming_unavailability(db: Database) -> None:
    upsert_records(db, "qargo_resources", [
        {"resource_id": "v1", "resource_type": "vehicle", "name": "Truck 1", "synced_at": S},
        {"resource_id": "d1", "resource_type": "driver", "name": "Dana", "synced_at": S}], "resource_id")
    upsert_records(db, "qargo_unavailabilities", [
        {"unavailability_id": "u1", "resource_id": "v1", "start_time": "2025-03-09T00:00:00Z",
         "end_time": "2025-03-11T00:00:00Z", "reason": "maintenance", "synced_at": S},
        {"unavailability_id": "u2", "resource_id": "v1", "start_time": "2025-03-20T00:00:00Z",
         "end_time": "2025-03-21T00:00:00Z", "reason": "inspection", "synced_at": S},
        {"unavailability_id": "u3", "resource_id": "d1", "start_time": "2025-03-01T00:00:00Z",
         "end_time": "2025-03-02T00:00:00Z", "reason": "holiday", "synced_at": S}], "unavailability_id")
    rows = {r["resource_id"]: r for r in query_dataset(db, "resources", now=NOW).rows}
    assert (rows["v1"]["available_now"], rows["v1"]["unavailable_reason"], rows["v1"]["unavailable_until"],
            rows["v1"]["next_unavailable_reason"], rows["v1"]["coming_unavailabilities"]) == (
        0, "maintenance", "2025-03-11T00:00:00Z", "inspection", 1)
    assert (rows["d1"]["available_now"], rows["d1"]["next_unavailable_from"]) == (1, None)


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_every_contract_dataset_runs_and_declares_its_columns(db: Database, name: str) -> None:
    dataset = get_dataset(name)
    cursor = db.conn.execute(f"SELECT * FROM ({dataset.sql}) LIMIT 0", {"now": S, "today": S[:10]})
    assert tuple(d[0] for d in cursor.description) == dataset.columns
    assert query_dataset(db, name).rows == []


def test_registry_matches_contract() -> None:
    assert set(DATASETS) == set(CONTRACT_NAMES)
    with pytest.raises(KeyError, match="known datasets"):
        get_dataset("nope")


@pytest.mark.parametrize(("amount", "currency", "text"), [
    (123456, "EUR", "1234.56"), (5, "usd", "0.05"), (-250, "EUR", "-2.50"), (5000, "JPY", "5000"),
    (1234, "KWD", "1.234"), (0, "EUR", "0.00"), (None, "EUR", ""), (None, None, ""),
])
def test_format_minor(amount: int | None, currency: str | None, text: str) -> None:
    assert format_minor(amount, currency) == text


def test_minor_to_decimal_is_exact() -> None:
    assert minor_to_decimal(10, "EUR") + minor_to_decimal(20, "EUR") == Decimal("0.30")


@pytest.mark.parametrize("name", ["orders", "invoices_outstanding", "stock_levels", "resources"])
def test_views_mirror_datasets_with_the_real_clock(db: Database, name: str) -> None:
    seed_invoices(db)
    today = datetime.now(UTC)
    view = [dict(zip(get_dataset(name).columns, r, strict=True)) for r in db.execute(f"SELECT * FROM {name}")]
    assert sorted(map(repr, view)) == sorted(map(repr, query_dataset(db, name, now=today, limit=10_000).rows))


def test_views_are_not_rewritten_when_unchanged(db: Database) -> None:
    from cache.datasets import ensure_views

    assert ensure_views(db) == []
    db.execute("DROP VIEW orders")
    assert ensure_views(db) == ["orders"]
