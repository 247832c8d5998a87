"""Overview: the KPI values shown equal the seeded expectations; filters and empty states."""

from __future__ import annotations

from pathlib import Path

from cache.db import connect
from cache.kpis import aging, overview, stock_below_by_warehouse
from tests.pages.conftest import (
    AGING,
    BELOW_BY_WAREHOUSE,
    BELOW_THRESHOLD,
    ISSUED_7D,
    LATE_ORDERS,
    NOW,
    ORDERS_BY_STATUS,
    OUTSTANDING,
    OVERDUE,
    OVERDUE_7D,
    OVERDUE_COUNT,
    QASIDA_ORDERS_BY_STATUS,
    TAX_IDS,
    run_page,
)
from ui.filters import KEY_SOURCES, Filters, default_dates, to_query


def _metrics(at) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {m.label: m.value for m in at.metric}


def test_kpi_cards_show_the_seeded_figures(seeded_db: Path) -> None:
    at = run_page("pages/overview.py")
    assert not at.exception
    shown = _metrics(at)
    assert shown["Late orders"] == str(LATE_ORDERS)
    assert {k: int(v) for k, v in shown.items() if k.title() in {s.title() for s in ORDERS_BY_STATUS}} == {
        s.title(): n for s, n in ORDERS_BY_STATUS.items()}
    assert shown["Outstanding EUR"] == "1250.50 EUR"
    assert shown["Outstanding USD"] == "193.45 USD"
    assert shown["Overdue EUR"] == "250.00 EUR"
    assert shown["Overdue invoices"] == str(OVERDUE_COUNT)
    assert shown["Items below reorder threshold"] == str(BELOW_THRESHOLD)
    assert shown["Invalid tax IDs"] == "1" and shown["Unverifiable tax IDs"] == "1"


def test_deltas_explain_the_change_in_words(seeded_db: Path) -> None:
    at = run_page("pages/overview.py")
    deltas = {m.label: m.proto.delta for m in at.metric}
    assert deltas["Outstanding EUR"] == "+1000.50 EUR issued in 7 days"
    assert deltas["Overdue USD"] == "+123.45 USD fell due in 7 days"
    assert deltas["Overdue EUR"] == "+0.00 EUR fell due in 7 days"


def test_source_filter_removes_the_other_sources_rows(seeded_db: Path) -> None:
    at = run_page("pages/overview.py", before={KEY_SOURCES: ["qasida"]})
    shown = _metrics(at)
    assert shown["Late orders"] == "0"
    assert "Planned" not in shown and shown["Open"] == "1" and shown["Shipped"] == "1"
    assert shown["Outstanding EUR"] == "50.00 EUR" and "Outstanding USD" not in shown


def test_kpis_equal_independent_figures(seeded_db: Path) -> None:
    flt = Filters(*default_dates(NOW.date()), ())
    db = connect(seeded_db)
    kpi = overview(db, NOW, to_query(flt, "orders", "order_date"), to_query(flt, "invoices_outstanding"))
    assert kpi.orders_by_status == ORDERS_BY_STATUS and kpi.late_orders == LATE_ORDERS
    rec = kpi.receivables
    assert (rec.outstanding, rec.issued_7d, rec.overdue, rec.overdue_count, rec.overdue_7d) == (
        OUTSTANDING, ISSUED_7D, OVERDUE, OVERDUE_COUNT, OVERDUE_7D)
    assert kpi.below_threshold == BELOW_THRESHOLD and kpi.tax_ids == TAX_IDS
    qasida = overview(db, NOW, to_query(Filters(flt.start, flt.end, ("qasida",)), "orders", "order_date"))
    assert qasida.orders_by_status == QASIDA_ORDERS_BY_STATUS
    frame = aging(db, NOW)
    assert {(r.source, r.currency, r.bucket): r.amount_minor for r in frame.itertuples()} == AGING
    assert dict(stock_below_by_warehouse(db, NOW).itertuples(index=False)) == BELOW_BY_WAREHOUSE
    db.close()


def test_empty_database_explains_what_to_do(empty_db: Path) -> None:
    at = run_page("pages/overview.py")
    assert not at.exception
    assert _metrics(at)["Late orders"] == "0"
    infos = " ".join(i.value for i in at.info)
    assert "No source of this data is configured" in infos and "QARGO_BASE_URL" in infos
