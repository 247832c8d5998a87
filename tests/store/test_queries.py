"""Datasets: the registry, invoices_outstanding, stock levels, resources, filters, paging, streaming."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlite_utils import Database

from store.datasets import CONTRACT_NAMES, DATASETS, get_dataset
from store.queries import format_minor, iter_dataset, minor_to_decimal, query_dataset
from store.store import upsert_records
from tests.conftest import NOW

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
        # state outstanding, but its payments cover it: nothing due, not outstanding (issue 9 point 6)
        {"invoice_id": "q4", "number": "Q-4", "contact_name": "Gamma", "currency": "EUR", "total": 100,
         "amount_due": 0, "state": "outstanding", "due_date": "2025-01-01", "synced_at": S},
    ], "invoice_id")
    upsert_records(db, "qasida_customers", [
        {"customer_id": "c-delta", "name": "Delta", "synced_at": S},
        {"customer_id": "c-eps", "name": "Eps", "synced_at": S}], "customer_id")
    claim = {"customer_id": "c-delta", "currency": "CZK", "synced_at": S}
    upsert_records(db, "qasida_claims", [
        claim | {"invoice_id": "l1", "document_number": "FV-1", "remains_to_be_paid": "999.99", "days_delayed": 3,
                 "due_date": "2025-03-07T00:00:00Z"},
        claim | {"invoice_id": "l2", "document_number": "FV-2", "remains_to_be_paid": "0", "due_date": "2025-01-01"},
        claim | {"invoice_id": "l3", "document_number": "FV-3", "customer_id": "c-eps", "remains_to_be_paid": "0.10",
                 "days_delayed": 7, "due_date": None},
        claim | {"invoice_id": "l4", "document_number": "FV-4", "remains_to_be_paid": "5", "due_date": "2025-01-01",
                 "settled_at": S},
    ], "invoice_id")
    upsert_records(db, "qasida_liabilities", [
        claim | {"invoice_id": "m1", "document_number": "LB-1", "remains_to_be_paid": "12.345",
                 "due_date": "2025-03-20"}], "invoice_id")
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
        {"invoice_id": "u4", "invoice_number": "1030", "carrier": "Trucks Ltd", "currency": "USD",
         "balance": 100, "status": "voided", "synced_at": S},  # ended: never outstanding, whatever the balance
    ], "invoice_id")


def _row(source: str, number: str, party: str | None, currency: str | None, amount: str | None,
         due: str | None, days: int | None, status: str, direction: str) -> dict[str, object]:
    return {"source": source, "invoice_number": number, "counterparty": party, "currency": currency,
            "amount_due": amount, "due_date": due, "days_overdue": days, "status": status, "direction": direction}


# amount_due: exact decimal text for every source (minor units turned into text in SQL)
EXPECTED_OUTSTANDING = [
    _row("quaderno", "Q-2", "Beta", "JPY", "5000", "2025-02-28", 10, "late", "receivable"),
    _row("qasida", "FV-3", "Eps", "CZK", "0.10", None, 7, "overdue", "receivable"),
    _row("qasida", "FV-1", "Delta", "CZK", "999.99", "2025-03-07", 3, "overdue", "receivable"),
    _row("upwell", "1027", "car_1", "USD", "2507.41", "2025-03-09", 1, "RECEIVED", "payable"),
    _row("quaderno", "Q-1", "Acme", "EUR", "120.00", "2025-03-15", 0, "outstanding", "receivable"),
    _row("qasida", "LB-1", "Delta", "CZK", "12.345", "2025-03-20", 0, "open", "payable"),
    _row("cargobase", "PI-1", "Fwd", None, None, None, None, "awaiting_audit", "payable"),
]


def test_invoices_outstanding_union(db: Database) -> None:
    seed_invoices(db)
    page = query_dataset(db, "invoices_outstanding", now=TODAY)
    assert page.columns == ("source", "invoice_number", "counterparty", "currency", "amount_due",
                            "due_date", "days_overdue", "status", "direction")
    assert page.total == 7
    assert page.rows == EXPECTED_OUTSTANDING


@pytest.mark.parametrize("direction", ["receivable", "payable"])
def test_receivables_and_payables_are_the_two_halves(db: Database, direction: str) -> None:
    seed_invoices(db)
    rows = query_dataset(db, f"{direction}s_outstanding", now=TODAY).rows
    assert rows == [{k: v for k, v in r.items() if k != "direction"} for r in EXPECTED_OUTSTANDING
                    if r["direction"] == direction]


def test_counterparty_names_are_joined_at_read_time(db: Database) -> None:
    seed_invoices(db)
    db.execute("UPDATE qasida_customers SET name = 'Delta Renamed' WHERE customer_id = 'c-delta'")
    rows = query_dataset(db, "invoices_outstanding", {"source": "qasida"}, now=TODAY).rows
    assert [r["counterparty"] for r in rows] == ["Eps", "Delta Renamed", "Delta Renamed"]


@pytest.mark.parametrize(("today", "expected"), [
    (datetime(2025, 2, 27, tzinfo=UTC), 0), (datetime(2025, 2, 28, tzinfo=UTC), 0),
    (datetime(2025, 3, 1, 23, 59, tzinfo=UTC), 1), (datetime(2025, 4, 30, tzinfo=UTC), 61),
])
def test_days_overdue_follows_today(db: Database, today: datetime, expected: int) -> None:
    seed_invoices(db)
    page = query_dataset(db, "invoices_outstanding", {"invoice_number": "Q-2"}, now=today)
    assert [r["days_overdue"] for r in page.rows] == [expected]


@pytest.mark.parametrize(("filters", "numbers"), [
    ({"source": "qasida"}, ["FV-3", "FV-1", "LB-1"]),
    ({"source": ["upwell", "cargobase"]}, ["1027", "PI-1"]),
    ({"days_overdue__gte": 3}, ["Q-2", "FV-3", "FV-1"]),
    ({"counterparty__contains": "ELT"}, ["FV-1", "LB-1"]),
    ({"invoice_number__contains": "_"}, []), ({"invoice_number__contains": "%"}, []),  # match themselves
    ({"invoice_number__contains": "q-"}, ["Q-2", "Q-1"]),
    ({"currency": None}, ["PI-1"]),
    ({"source__ne": "qasida", "amount_due__gt": 200}, ["Q-2", "1027"]),  # compared as numbers, not text
    ({"direction": "payable"}, ["1027", "LB-1", "PI-1"]),
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
    page = query_dataset(db, "invoices_outstanding", order_by="-amount_due", limit=3, now=TODAY)
    assert [r["amount_due"] for r in page.rows] == ["5000", "2507.41", "999.99"]  # by value, not as text
    with pytest.raises(ValueError):
        query_dataset(db, "invoices_outstanding", order_by="amount_due; DROP TABLE jobs")


def test_pagination_and_streaming(db: Database) -> None:
    seed_invoices(db)
    first = query_dataset(db, "invoices_outstanding", limit=4, offset=0, now=TODAY)
    second = query_dataset(db, "invoices_outstanding", limit=4, offset=4, now=TODAY)
    assert first.total == second.total == 7
    assert first.rows + second.rows == EXPECTED_OUTSTANDING
    assert list(iter_dataset(db, "invoices_outstanding", chunk_size=2, now=TODAY)) == EXPECTED_OUTSTANDING


def _seed_stock(db: Database) -> None:
    upsert_records(db, "qasida_warehouses", [
        {"warehouse_id": "1", "code": "01", "name": "Brno", "synced_at": S},
        {"warehouse_id": "2", "code": "02", "name": "Praha", "synced_at": S}], "warehouse_id")
    upsert_records(db, "qasida_products", [
        {"product_id": p, "code": c, "name": n, "reorder_threshold": 999.0, "synced_at": S}
        for p, c, n in (("p1", "NUT", "Nut"), ("p2", "BOLT", "Bolt"), ("p3", "GEAR", "Gear"))], "product_id")
    card = {"synced_at": S, "reorder_threshold": 999.0}  # a vendor field: never read any more
    upsert_records(db, "qasida_stock_cards", [
        card | {"stock_card_id": "s1", "warehouse_id": "1", "warehouse": "Brno", "product_id": "p1", "product": "Nut",
                "quantity": 100.0, "reserved": 95.0, "available": 5.0},
        card | {"stock_card_id": "s2", "warehouse_id": "1", "warehouse": "Brno", "product_id": "p2",
                "product": "Bolt", "quantity": 80.0, "reserved": 20.0, "available": None},
        card | {"stock_card_id": "s3", "warehouse_id": "2", "warehouse": "Praha", "product_id": "p1",
                "product": "Nut", "quantity": 30.0, "reserved": 0.0, "available": 30.0},
        card | {"stock_card_id": "s4", "warehouse_id": "2", "warehouse": "Praha", "product_id": "p3",
                "product": "Gear", "quantity": 0.0, "reserved": 0.0, "available": 0.0},
    ], "stock_card_id")
    # Nut: 10 everywhere, 40 in Praha (the per-warehouse row wins), lead time 5 days; Bolt: 60 (at the
    # level = below); Gear: no level.
    for code, warehouse, level, lead in (("NUT", "", 10.0, 5.0), ("NUT", "2", 40.0, None), ("BOLT", "", 60.0, 2.0)):
        db.execute("INSERT INTO reorder_levels VALUES (?, ?, ?, ?, ?, 'test')", [code, warehouse, level, lead, S])


def test_stock_against_our_reorder_levels(db: Database) -> None:
    _seed_stock(db)
    rows = query_dataset(db, "stock_levels", now=TODAY).rows
    got = [(r["warehouse"], r["product"], r["available"], r["reorder_level"], r["below_reorder_level"],
            r["days_of_cover"], r["runs_out_before_next_delivery"]) for r in rows]
    # No ERP order lines yet: days of cover and "runs out" are unknown, never "fine".
    assert got == [("Brno", "Bolt", 60.0, 60.0, 1, None, None), ("Brno", "Nut", 5.0, 10.0, 1, None, None),
                   ("Praha", "Nut", 30.0, 40.0, 1, None, None), ("Praha", "Gear", 0.0, None, None, None, None)]
    assert [r["product"] for r in query_dataset(db, "stock_levels", {"reorder_level": None}).rows] == ["Gear"]


def test_days_of_cover_from_the_last_30_days_of_erp_demand(db: Database) -> None:
    _seed_stock(db)
    upsert_records(db, "qasida_customer_orders", [
        {"order_id": "o1", "number": "SO-1", "order_date": "2025-03-01", "warehouse_id": "1", "synced_at": S},
        {"order_id": "o2", "number": "SO-2", "order_date": "2025-01-01", "warehouse_id": "1", "synced_at": S},
        {"order_id": "o3", "number": "SO-3", "order_date": "2025-03-09", "warehouse_id": "2", "synced_at": S},
        {"order_id": "o4", "number": "SO-4", "order_date": "2025-03-10", "synced_at": S},  # no warehouse
    ], "order_id")
    upsert_records(db, "qasida_customer_order_lines", [
        {"order_id": "o1", "line_no": 1, "product_id": "p1", "quantity": 30.0, "synced_at": S},  # Nut in Brno: 1/day
        {"order_id": "o1", "line_no": 2, "product_id": "p2", "quantity": 60.0, "synced_at": S},  # Bolt in Brno: 2/day
        {"order_id": "o2", "line_no": 1, "product_id": "p1", "quantity": 900.0, "synced_at": S},  # older than 30 days
        {"order_id": "o3", "line_no": 1, "product_id": "p1", "quantity": 300.0, "synced_at": S},  # Nut in Praha: 10/day
        {"order_id": "o4", "line_no": 1, "product_id": "p2", "quantity": 30.0, "synced_at": S},  # Bolt anywhere: 1/day
    ], ("order_id", "line_no"))
    rows = {(r["warehouse"], r["product"]): r for r in query_dataset(db, "stock_levels", now=TODAY).rows}
    cover = {k: (r["days_of_cover"], r["runs_out_before_next_delivery"]) for k, r in rows.items()}
    assert cover == {("Brno", "Nut"): (5.0, 0),      # 5 left / 1 a day = 5 days, lead time 5: just in time
                     ("Brno", "Bolt"): (20.0, 0),    # 60 / (2 + 1 from an order naming no warehouse), lead 2
                     ("Praha", "Nut"): (3.0, 1),     # 30 / 10 = 3 days < 5 (lead time from the every-warehouse row)
                     # no demand, no level; lead time from the default row (7 days, migration 0024): nothing
                     # is used up, so it does not run out
                     ("Praha", "Gear"): (None, 0)}


def test_orders_union_and_lateness(db: Database) -> None:
    upsert_records(db, "qargo_orders", [
        {"order_id": o, "reference": f"R-{o.upper()}", "status": status, "pickup_date": "2025-03-01",
         "delivery_date": "2025-03-05", "synced_at": S}
        for o, status in (("a", "IN_TRANSIT"), ("b", "COMPLETED"), ("c", "INVOICED"), ("d", "ACCEPTED"),
                          ("e", "CANCELLED"), ("f", "SOMETHING_NEW"), ("g", "DONT_INVOICE"))], "order_id")
    upsert_records(db, "qasida_customer_orders", [
        {"order_id": "c", "number": "OV-1", "customer": "Acme", "status": "open", "order_date": "2025-03-03",
         "synced_at": S}], "order_id")
    rows = query_dataset(db, "orders", now=TODAY, order_by="reference").rows
    # Late: past the planned delivery in a status whose journey has not ended (Qargo's enum); an
    # unknown status is treated as open (cautious).
    assert {r["reference"]: r["late"] for r in rows} == {
        "OV-1": 0, "R-A": 1, "R-B": 0, "R-C": 0, "R-D": 1, "R-E": 0, "R-F": 1, "R-G": 0}


def test_business_orders_join_erp_and_transport_once(db: Database) -> None:
    upsert_records(db, "qasida_customer_orders", [
        {"order_id": "e1", "number": "SO-1", "customer": "Acme", "status": "open", "order_date": "2025-03-03",
         "synced_at": S},
        {"order_id": "e2", "number": "SO-2", "customer": "Beta", "status": "draft", "order_date": "2025-03-04",
         "synced_at": S}], "order_id")
    upsert_records(db, "qargo_orders", [
        {"order_id": "t1", "reference": "SO-1", "customer": "Acme NV", "status": "IN_TRANSIT",
         "pickup_date": "2025-03-04", "delivery_date": "2025-03-08", "synced_at": S},
        {"order_id": "t2", "reference": "SO-1", "customer": "Acme NV", "status": "COMPLETED",
         "pickup_date": "2025-03-04", "delivery_date": "2025-03-06", "synced_at": S},
        {"order_id": "t3", "reference": "SO-9", "customer": "Gamma", "status": "PLANNED",
         "pickup_date": "2025-03-05", "delivery_date": "2025-03-20", "synced_at": S},
        {"order_id": "t4", "reference": None, "customer": "Delta", "status": "TO_PLAN",
         "pickup_date": "2025-03-01", "delivery_date": "2025-03-02", "synced_at": S}], "order_id")
    rows = query_dataset(db, "business_orders", now=TODAY, order_by="order_date").rows
    got = [(r["order_number"], r["customer"], r["erp_status"], r["transport_status"], r["transport_orders"],
            r["late"], r["matched"]) for r in rows]
    # one order's statuses: distinct, in byte order, whatever order the rows were written in (both databases)
    assert got == [(None, "Delta", None, "TO_PLAN", 1, 1, "transport only"),
                   ("SO-1", "Acme", "open", "COMPLETED,IN_TRANSIT", 2, 1, "both"),
                   ("SO-2", "Beta", "draft", None, 0, 0, "erp only"),
                   ("SO-9", "Gamma", None, "PLANNED", 1, 0, "transport only")]
    assert [r["transport_order_ids"] for r in rows] == ["t4", "t2,t1", None, "t3"]  # by status, then id


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
    cursor = db.conn.execute(f"SELECT * FROM ({dataset.sql}) AS rows LIMIT 0", {"now": S, "today": S[:10]})
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


@pytest.mark.sqlite_only('reads sqlite_master; PostgreSQL re-creates its views at every start, under the migration lock')
def test_views_are_not_rewritten_when_unchanged(db: Database) -> None:
    from store.datasets import ensure_views

    assert ensure_views(db) == []
    db.execute("DROP VIEW orders")
    assert ensure_views(db) == ["orders"]
