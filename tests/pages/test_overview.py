"""Overview: the KPI values shown equal the seeded expectations; receivables and payables apart;
business orders counted once; filters and empty states."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from figures.kpis import aging, overview, stock_below_by_warehouse
from store.db import connect
from store.queries import query_dataset
from tests.pages.conftest import (
    AGING,
    BELOW_BY_WAREHOUSE,
    BELOW_REORDER_LEVEL,
    BUSINESS_ORDERS,
    ISSUED_7D,
    LATE_ORDERS,
    NO_LEVEL,
    NOW,
    ORDERS_BY_STATUS,
    OUTSTANDING,
    OVERDUE,
    OVERDUE_7D,
    OVERDUE_COUNT,
    PAYABLE,
    PAYABLE_AGING,
    PAYABLE_ISSUED_7D,
    RUNS_OUT,
    TAX_IDS,
    run_page,
)
from ui.filters import KEY_SOURCES, Filters, default_dates, to_query


def _metrics(at) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {m.label: m.value for m in at.metric}


def _money(at) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """The money table: currency -> its cells (exact text, grouped)."""
    frame = next(d.value for d in at.dataframe if "receivable" in d.value.columns)
    return {row["currency"]: dict(row) for row in frame.to_dict("records")}


def test_kpi_cards_and_the_money_table_show_the_seeded_figures(seeded_db: Path) -> None:
    at = run_page("pages/overview.py")
    assert not at.exception
    shown = _metrics(at)
    assert len(shown) <= 6  # a manager's headline, not a wall of cards
    assert shown["Business orders"] == str(BUSINESS_ORDERS)
    assert shown["Late orders"] == str(LATE_ORDERS)
    assert shown["Stock below reorder level"] == str(BELOW_REORDER_LEVEL)
    assert shown["Overdue receivables"] == str(OVERDUE_COUNT) and shown["Overdue payables"] == "0"
    assert shown["Invalid tax IDs"] == str(TAX_IDS.get("invalid", 0))  # the authority's answer only
    helps = {m.label: m.proto.help for m in at.metric}
    assert f"{NO_LEVEL} items have no reorder level set" in helps["Stock below reorder level"]
    assert f"{RUNS_OUT} run out before the next delivery" in helps["Stock below reorder level"]
    money = _money(at)
    # receivables only: 1000.50 + 200.00 + 50.005 EUR; payables apart, never added to them
    assert (money["EUR"]["receivable"], money["EUR"]["receivable_overdue"]) == ("1,250.505", "250.005")
    assert (money["USD"]["receivable"], money["USD"]["payable"]) == ("123.45", "70.00")
    assert money["EUR"]["payable"] == "300.10"
    captions = " ".join(c.value for c in at.caption)
    assert "1 invoice is awaiting audit, listed without an amount" in captions


def test_orders_trend_against_the_previous_period(seeded_db: Path) -> None:
    at = run_page("pages/overview.py")
    card = next(m for m in at.metric if m.label == "Business orders")
    flt = Filters(*default_dates(NOW.date()), ())
    days = (flt.end - flt.start).days + 1
    db = connect(seeded_db)
    before = query_dataset(db, "business_orders", {
        "order_date__gte": (flt.start - timedelta(days=days)).isoformat(),
        "order_date__lt": flt.start.isoformat()}, limit=1).total
    db.close()
    change = BUSINESS_ORDERS - before
    assert card.proto.delta == (f"+{change}" if change >= 0 else f"{change}")


def test_source_filter_removes_the_other_sources_rows(seeded_db: Path) -> None:
    at = run_page("pages/overview.py", before={KEY_SOURCES: ["qasida"]})
    money = _money(at)
    assert money["EUR"]["receivable"] == "50.005" and "USD" not in money
    assert money["EUR"]["payable"] == "300.10"
    # business orders with an ERP side: SO-1 (in transit, both sides) and SO-2 (ERP only)
    shown = _metrics(at)
    assert shown["Business orders"] == "2" and shown["Late orders"] == "0"


def test_kpis_equal_independent_figures(seeded_db: Path) -> None:
    flt = Filters(*default_dates(NOW.date()), ())
    db = connect(seeded_db)
    kpi = overview(db, NOW, to_query(flt, "business_orders", "order_date"), to_query(flt, "invoices_outstanding"))
    assert kpi.orders_by_status == ORDERS_BY_STATUS and kpi.late_orders == LATE_ORDERS
    assert kpi.business_orders == BUSINESS_ORDERS
    rec, pay = kpi.receivables, kpi.payables
    assert (rec.outstanding, rec.issued_7d, rec.overdue, rec.overdue_count, rec.overdue_7d) == (
        OUTSTANDING, ISSUED_7D, OVERDUE, OVERDUE_COUNT, OVERDUE_7D)
    assert (pay.outstanding, pay.issued_7d, pay.overdue, pay.overdue_count, pay.without_amount) == (
        PAYABLE, PAYABLE_ISSUED_7D, {}, 0, 1)
    assert (kpi.stock.below_reorder_level, kpi.stock.no_level, kpi.stock.runs_out_before_next_delivery) == (
        BELOW_REORDER_LEVEL, NO_LEVEL, RUNS_OUT)
    assert kpi.tax_ids == TAX_IDS
    frame = aging(db, NOW)
    assert {(r.source, r.currency, r.bucket): r.amount for r in frame.itertuples()} == AGING
    frame = aging(db, NOW, direction="payable")
    assert {(r.source, r.currency, r.bucket): r.amount for r in frame.itertuples()} == PAYABLE_AGING
    by_warehouse = stock_below_by_warehouse(db, NOW)
    assert {r.warehouse: (r.items, r.no_level) for r in by_warehouse.itertuples()} == BELOW_BY_WAREHOUSE
    db.close()


def test_empty_database_explains_what_to_do(empty_db: Path) -> None:
    at = run_page("pages/overview.py")
    assert not at.exception
    assert _metrics(at)["Late orders"] == "0"
    infos = " ".join(i.value for i in at.info)
    assert "No source of this data is configured" in infos and "QARGO_BASE_URL" in infos
