"""A flag filter of the stock list ("runs out before next delivery", "below reorder level", no level) is a fold of
the stored pass without it (figures/kpis.py `stock_groups` groups by the flags too): the same totals as the
filtered pass, computed by hand here, and no pass of its own once the unfiltered one is stored."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlite_utils import Database

from figures import details, kpis, page_summaries, stored
from store.db import iso, utcnow
from store.queries import query_dataset
from store.store import upsert_records
from tests.figures.stock_world import stock_world

NOW = utcnow()  # the builders read the clock (the 30 days of demand end today): the orders are dated from it
S = iso(NOW)


def _stock(db: Database) -> None:
    """Bolt and Nut in Brno (1) and Praha (2); 30 days of demand: Bolt 3 a day in each, Nut 1 a day in Brno; Bolt's
    reorder level 15 everywhere, Nut none; the default lead time (7 days)."""
    day = (date.fromisoformat(stored.business_today(NOW)) - timedelta(days=5)).isoformat()
    stock_world(db, order_day=day, synced_at=S, unit="pcs")
    db.execute("INSERT INTO reorder_levels (product_code, warehouse_id, reorder_level, updated_at, updated_by) "
               "VALUES ('BOLT', '', 15, ?, 'test')", [S])


def _totals(**counts: Any) -> dict[str, Any]:
    """A row of the Stock page's warehouse totals (figures/details.py `warehouse_totals`)."""
    return {"unit": "pcs", "reserved": 0.0, **counts}


# By hand: Brno Bolt 12 available, level 15 -> below; 12 / 3 a day = 4 days < 7 -> runs out. Praha Bolt 24: not
# below, 8 days. Brno Nut 6, no level, 6 days < 7 -> runs out. Praha Nut 1, no level, no demand -> does not.
BY_HAND: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    "runs out": ({"runs_out_before_next_delivery": 1}, [
        _totals(warehouse="Brno", products=2, quantity=18.0, available=18.0, items_below_level=1, no_level_set=1)]),
    "below": ({"below_reorder_level": 1}, [
        _totals(warehouse="Brno", products=1, quantity=12.0, available=12.0, items_below_level=1, no_level_set=0)]),
    "no level": ({"below_reorder_level": None}, [
        _totals(warehouse="Brno", products=1, quantity=6.0, available=6.0, items_below_level=0, no_level_set=1),
        _totals(warehouse="Praha", products=1, quantity=1.0, available=1.0, items_below_level=0, no_level_set=1)]),
    "not below, lasts": ({"below_reorder_level": 0, "runs_out_before_next_delivery": 0}, [
        _totals(warehouse="Praha", products=1, quantity=24.0, available=24.0, items_below_level=0, no_level_set=0)]),
    "runs out, product contains": ({"runs_out_before_next_delivery": 1, "product__contains": "nu"}, [
        _totals(warehouse="Brno", products=1, quantity=6.0, available=6.0, items_below_level=0, no_level_set=1)]),
}


@pytest.fixture
def stock(db: Database) -> Database:
    _stock(db)
    return db


@pytest.mark.parametrize("case", list(BY_HAND))
def test_a_flag_filter_folded_from_the_stored_pass_equals_the_filtered_pass(stock: Database, case: str) -> None:
    query, by_hand = BY_HAND[case]
    folded = page_summaries.warehouse_totals(stock, query)
    assert folded == details.warehouse_totals(stock, query) == by_hand  # the fold, the filtered pass, by hand
    page = page_summaries.dataset_page(stock, "stock_levels", query)
    assert page.total == len(page.rows) == query_dataset(stock, "stock_levels", query).total \
        == sum(t["products"] for t in by_hand)


def test_a_flag_filter_needs_no_pass_once_the_unfiltered_one_is_stored(stock: Database,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    passes: list[dict[str, Any]] = []
    real = kpis.stock_groups

    def counted(db: Database, now: datetime, filters: Any = None) -> list[dict[str, Any]]:
        passes.append(dict(filters or {}))
        return real(db, now, filters)

    monkeypatch.setattr(kpis, "stock_groups", counted)
    today = stored.business_today(NOW)

    def read(query: dict[str, Any]) -> Any:
        fn = page_summaries.warehouse_totals
        return stored.read(stock, page_summaries.name_of(fn), fn, (query,), today=today, now=NOW)[0]

    read({})  # the Stock page's default view: the one pass, stored
    assert passes == [{}]
    assert read({"runs_out_before_next_delivery": 1}) == BY_HAND["runs out"][1]
    assert read({"below_reorder_level": 1}) == BY_HAND["below"][1]
    assert passes == [{}]  # both folded from the stored pass
    read({"product__contains": "nu", "runs_out_before_next_delivery": 1})
    assert passes == [{}, {"product__contains": "nu"}]  # the text filter is a pass; the flag a fold of it


def test_only_plain_flag_values_are_folded() -> None:
    assert kpis.flag_filters({"runs_out_before_next_delivery": 1, "warehouse__contains": "br"}) == (
        {"warehouse__contains": "br"}, {"runs_out_before_next_delivery": 1})
    # a list (IN), a text or a comparison is left to the pass: the fold answers equality to 0, 1 or None only
    for query in ({"runs_out_before_next_delivery": [0, 1]}, {"below_reorder_level": "1"},
                  {"below_reorder_level__ne": 1}, {"runs_out_before_next_delivery": True}):
        assert kpis.flag_filters(query) == (query, {})


# --- a page of the list in its order reads only the warehouses the stored groups say hold it ------------------

def test_a_page_reads_the_warehouses_that_hold_it(stock: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # by hand, the list in its order: Brno Bolt (below, runs out), Praha Bolt (not below), Brno Nut (no level,
    # runs out), Praha Nut (no level, lasts)
    order = [("Brno", "Bolt"), ("Praha", "Bolt"), ("Brno", "Nut"), ("Praha", "Nut")]
    asked: list[dict[str, Any]] = []
    real = page_summaries.query_dataset

    def recorded(db: Database, name: str, filters: Any = None, **kwargs: Any) -> Any:
        asked.append({**(filters or {}), "offset": kwargs["offset"]})
        return real(db, name, filters, **kwargs)

    monkeypatch.setattr(page_summaries, "query_dataset", recorded)
    for offset, (warehouse, product) in enumerate(order):
        page = page_summaries.dataset_page(stock, "stock_levels", {}, limit=1, offset=offset)
        assert [(r["warehouse"], r["product"]) for r in page.rows] == [(warehouse, product)] and page.total == 4
    # the third row is the second of Brno's: Praha's Bolt, before it, is not read
    assert asked == [{"warehouse__in": ["Brno"], "offset": 0}, {"warehouse__in": ["Praha"], "offset": 0},
                     {"warehouse__in": ["Brno"], "offset": 1}, {"warehouse__in": ["Praha"], "offset": 1}]
    runs_out = page_summaries.dataset_page(stock, "stock_levels", {"runs_out_before_next_delivery": 1})
    assert [(r["warehouse"], r["product"]) for r in runs_out.rows] == [("Brno", "Bolt"), ("Brno", "Nut")]
    assert asked[-1] == {"runs_out_before_next_delivery": 1, "warehouse__in": ["Brno"], "offset": 0}


def test_every_page_equals_the_page_of_the_whole_list(db: Database) -> None:
    """Random stock over three warehouses and one card without a warehouse name (read from every card): each
    page, for each filter, is the page a pass over every card sorts."""
    rng = random.Random(19)
    _stock(db)
    names = ("Brno", "Praha", "Wien", None)
    upsert_records(db, "qasida_stock_cards", [
        {"stock_card_id": f"r{i}", "warehouse_id": str(i % 4 + 1), "warehouse": names[i % 4],
         "product_id": rng.choice(("p1", "p2")), "product": f"Item {i:02d}", "unit": rng.choice(("pcs", "kg")),
         "quantity": float(rng.randint(0, 40)), "reserved": 0.0, "available": float(rng.randint(0, 40)),
         "synced_at": S} for i in range(40)], "stock_card_id")
    for query in ({}, {"runs_out_before_next_delivery": 1}, {"below_reorder_level": None},
                  {"below_reorder_level": 0}, {"product__contains": "item 1"}):
        whole = query_dataset(db, "stock_levels", query, limit=100)
        assert whole.total > 3
        for limit in (1, 3, 7):
            for offset in range(0, whole.total + 2, limit):
                page = page_summaries.dataset_page(db, "stock_levels", query, limit=limit, offset=offset)
                assert page.rows == whole.rows[offset:offset + limit], (query, limit, offset)
                assert page.total == whole.total
