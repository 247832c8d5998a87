"""Overview: the KPI values shown equal the seeded expectations; receivables and payables apart;
business orders counted once; filters and empty states."""

from __future__ import annotations

from pathlib import Path

from cache.db import connect
from cache.kpis import aging, overview, stock_below_by_warehouse
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


def _metrics(at) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(m.label, m.value) for m in at.metric]


def _first(at) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Label -> value of the first card with that label (receivables come before payables)."""
    shown: dict[str, str] = {}
    for label, value in _metrics(at):
        shown.setdefault(label, value)
    return shown


def _payables(at) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The cards under the Payables heading: the second card of each money label."""
    seen: dict[str, int] = {}
    later: dict[str, str] = {}
    for label, value in _metrics(at):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] == 2:
            later[label] = value
    return later


def test_kpi_cards_show_the_seeded_figures(seeded_db: Path) -> None:
    at = run_page("pages/overview.py")
    assert not at.exception
    shown = _first(at)
    assert shown["Business orders"] == str(BUSINESS_ORDERS)
    assert shown["Late orders"] == str(LATE_ORDERS)
    statuses = {s.replace("_", " ").title(): n for s, n in ORDERS_BY_STATUS.items()}
    assert {k: int(v) for k, v in shown.items() if k in statuses} == statuses
    assert shown["Outstanding EUR"] == "1250.505 EUR"  # receivables only: 1000.50 + 200.00 + 50.005
    assert shown["Outstanding USD"] == "123.45 USD"
    assert shown["Overdue EUR"] == "250.005 EUR"
    assert shown["Overdue invoices"] == str(OVERDUE_COUNT)
    payables = _payables(at)
    assert payables["Outstanding EUR"] == "300.10 EUR" and payables["Outstanding USD"] == "70.00 USD"
    assert payables["Overdue invoices"] == "0"
    assert shown["Items below reorder level"] == str(BELOW_REORDER_LEVEL)
    assert shown["Items with no reorder level set"] == str(NO_LEVEL)
    assert shown["Run out before next delivery"] == str(RUNS_OUT)
    assert shown["Invalid tax IDs"] == "1" and shown["Unverifiable tax IDs"] == "1"
    headings = [h.value for h in at.subheader]
    assert "Receivables (others owe us)" in headings and "Payables (we owe)" in headings
    captions = " ".join(c.value for c in at.caption)
    assert "1 invoice(s) awaiting audit are listed without an amount" in captions


def test_deltas_explain_the_change_in_words(seeded_db: Path) -> None:
    at = run_page("pages/overview.py")
    deltas: dict[str, str] = {}
    for m in at.metric:
        deltas.setdefault(m.label, m.proto.delta)
    assert deltas["Outstanding EUR"] == "+1000.50 EUR issued in 7 days"
    assert deltas["Overdue USD"] == "+123.45 USD fell due in 7 days"
    assert deltas["Overdue EUR"] == "+0.00 EUR fell due in 7 days"


def test_source_filter_removes_the_other_sources_rows(seeded_db: Path) -> None:
    at = run_page("pages/overview.py", before={KEY_SOURCES: ["qasida"]})
    shown = _first(at)
    assert shown["Outstanding EUR"] == "50.005 EUR" and "Outstanding USD" not in shown
    assert _payables(at).get("Outstanding EUR") == "300.10 EUR"
    # business orders with an ERP side: SO-1 (in transit, both sides) and SO-2 (ERP only)
    assert shown["Business orders"] == "2" and shown["In Transit"] == "1" and shown["Shipped"] == "1"
    assert shown["Late orders"] == "0"


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
    assert _first(at)["Late orders"] == "0"
    infos = " ".join(i.value for i in at.info)
    assert "No source of this data is configured" in infos and "QARGO_BASE_URL" in infos
