"""The figures the pages read, defined below the UI (issue 19): builders `fn(db, *args)` of stored
figures (figures/stored.py), registered when this module is imported. Each calls the one SQL of its figure
(figures/kpis.py, figures/details.py, store/queries.py); nothing here computes a figure a second way.

Both readers import this module: `ui/data.py` and `ui/details.py` wrap each builder with
`ui.versioned.versioned` (served stored, with its "as of" time), and the standalone worker (`opsdash
worker`, jobs/worker.py) imports it to refresh the figures viewers looked at lately after writes, without
importing `ui` or streamlit. A figure's stored name is `figures.page_summaries.<fn>` whoever registers it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import pandas as pd
from sqlite_utils import Database

from figures import details, kpis, reorder, stored
from figures.lead_times import rows as lead_time_rows
from store.datasets import get_dataset
from store.db import iso, utcnow
from store.queries import Page, Row, query_dataset

PAGE_SIZE = 50  # rows per page of a table (and of an explained page)

F = TypeVar("F", bound=Callable[..., Any])


def summary(fn: F) -> F:
    """Register `fn` as the builder of the figures named after it (the name `versioned` uses too)."""
    stored.register(name_of(fn), fn)
    return fn


def name_of(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


# --- Any table: one page of a contract dataset ---------------------------------------------------------

@summary
def dataset_page(
    db: Database, name: str, filters: Mapping[str, Any] | None = None, *,
    limit: int = PAGE_SIZE, offset: int = 0, order_by: str | None = None,
) -> Page:
    """One page of a contract dataset (store/datasets.py), filtered, sorted and counted in SQL (the stock list
    and the outstanding lists counted from their stored groups: one pass fewer; no rows read past the end)."""
    total = _counted(db, name, filters)
    if total is not None and offset >= total:
        return Page([], total, get_dataset(name).columns)
    if name == "stock_levels" and order_by is None:
        return _stock_page(db, filters or {}, limit, offset, total)
    return query_dataset(db, name, filters, limit=limit, offset=offset, order_by=order_by, total=total)


def _stock_page(db: Database, filters: Mapping[str, Any], limit: int, offset: int, total: int | None) -> Page:
    """A page of the stock list in its order: the cards of the warehouses its stored groups say hold it (no
    pass over every card; kpis.page_warehouses), else (another order, a warehouse filter) every card."""
    narrowed = None
    if get_dataset("stock_levels").order_by == kpis.STOCK_ORDER and not {"warehouse", "warehouse__in"} & set(filters):
        narrowed = kpis.page_warehouses(_stock(db, filters), offset, limit)
    if narrowed is None:
        return query_dataset(db, "stock_levels", filters, limit=limit, offset=offset, total=total)
    warehouses, skipped = narrowed
    return query_dataset(db, "stock_levels", {**filters, "warehouse__in": warehouses}, limit=limit,
                         offset=offset - skipped, total=total)


_LISTS = {"receivables_outstanding": "receivable", "payables_outstanding": "payable", "invoices_outstanding": None}


def _counted(db: Database, name: str, filters: Mapping[str, Any] | None) -> int | None:
    """The rows of a list that has stored groups (the stock list, the outstanding lists), else None."""
    if name == "stock_levels":
        return sum(int(g["products"]) for g in _stock(db, filters))
    if name not in _LISTS or "direction" in (filters or {}):
        return None
    direction = _LISTS[name]
    return _outstanding(db, {**({"direction": direction} if direction else {}), **(filters or {})}).invoices


# --- Overview --------------------------------------------------------------------------------------------

@summary
def order_kpis(db: Database, orders: Mapping[str, Any]) -> tuple[dict[str, int], int, int]:
    """Business orders by status, late, and expected late (not late yet, ETA after the plan)."""
    moment = utcnow()
    return (kpis.orders_by_status(db, moment, orders), kpis.late_orders(db, moment, orders),
            kpis.expected_late_orders(db, moment, orders))


@summary
def money_kpis(db: Database, invoices: Mapping[str, Any], direction: str) -> kpis.Outstanding:
    return kpis.outstanding(db, utcnow(), direction, invoices)


@summary
def stock_groups(db: Database, query: Mapping[str, Any]) -> list[Row]:
    """The one pass over the stock list every stock figure is folded from (kpis.stock_groups)."""
    return kpis.stock_groups(db, utcnow(), query)


def _stock(db: Database, query: Mapping[str, Any] | None) -> list[Row]:
    """`stock_groups` stored and up to date: the figure being built reads its inputs. A flag filter ("runs out",
    "below reorder level") is a fold of the pass without it: the Overview's and the Stock page's default views
    keep that one stored, so a flag's first use needs no pass of its own."""
    rest, flags = kpis.flag_filters(query)
    return kpis.with_flags(stored.nested(db, name_of(stock_groups), stock_groups, (rest,)), flags)


@summary
def stock_kpis(db: Database) -> kpis.StockSummary:
    return kpis.stock_summary(db, utcnow(), groups=_stock(db, {}))


@summary
def tax_id_kpis(db: Database) -> dict[str, int]:
    return kpis.tax_ids(db)


@summary
def orders_over_time(db: Database, orders: Mapping[str, Any]) -> pd.DataFrame:
    return kpis.orders_over_time(db, utcnow(), orders)


@summary
def outstanding_aging(db: Database, invoices: Mapping[str, Any], direction: str = "receivable") -> pd.DataFrame:
    """Aging of one direction (receivable | payable), the one bucket definition of store/calendar.py."""
    return kpis.aging(db, utcnow(), invoices, direction)


@summary
def stock_below(db: Database) -> pd.DataFrame:
    return kpis.stock_below_by_warehouse(db, utcnow(), groups=_stock(db, {}))


# --- Stock: reorder levels (ours) -------------------------------------------------------------------------

@summary
def reorder_levels(db: Database) -> list[dict[str, Any]]:
    """Every reorder level as the CSV shows it (figures/reorder.py)."""
    return reorder.rows(db)


@summary
def lead_times(db: Database) -> list[dict[str, Any]]:
    """Lead times per warehouse and the default for every warehouse (figures/lead_times.py)."""
    return lead_time_rows(db)


@summary
def warehouse_choices(db: Database) -> list[str]:
    """Warehouse numbers (else names) the editor offers; '' = every warehouse."""
    rows = db.conn.execute("SELECT coalesce(code, name, warehouse_id) FROM qasida_warehouses ORDER BY 1")
    return ["", *(r[0] for r in rows)]


@summary
def warehouse_names(db: Database) -> dict[str, str]:
    """Warehouse number -> the name staff read ("WH001" -> "Amsterdam DC 1"), for editors that store numbers."""
    rows = db.conn.execute("SELECT coalesce(code, name, warehouse_id), coalesce(name, code, warehouse_id) "
                           "FROM qasida_warehouses ORDER BY 1")
    return {str(code): str(name) for code, name in rows}


# --- Orders, Invoices, Tax, Stock: details and aggregates (figures/details.py) -----------------------------

@summary
def order_details(db: Database, source: str, order_id: str) -> details.OrderDetails:
    return details.order_details(db, source, order_id)


@summary
def invoice_details(db: Database, source: str, invoice_number: str) -> details.InvoiceDetails:
    return details.invoice_details(db, source, invoice_number)


@summary
def outstanding_groups(db: Database, query: Mapping[str, Any]) -> details.OutstandingGroups:
    """The one pass over an outstanding list the Invoices page's figures read (details.outstanding_groups)."""
    return details.outstanding_groups(db, query)


def _outstanding(db: Database, query: Mapping[str, Any]) -> details.OutstandingGroups:
    """`outstanding_groups` stored and up to date: the figure being built reads its inputs."""
    return stored.nested(db, name_of(outstanding_groups), outstanding_groups, (dict(query),))


@summary
def counterparty_totals(db: Database, query: Mapping[str, Any], limit: int | None = None) -> list[Row]:
    """Outstanding per counterparty and currency; `limit`: the ones with most invoices first."""
    return details.totals_by_counterparty(db, query, limit=limit, groups=_outstanding(db, query))


@summary
def counterparty_count(db: Database, query: Mapping[str, Any]) -> int:
    return details.counterparties(db, query, groups=_outstanding(db, query))


@summary
def aging(db: Database, query: Mapping[str, Any]) -> list[Row]:
    return details.aging_buckets(db, query, groups=_outstanding(db, query))


@summary
def warehouse_totals(db: Database, query: Mapping[str, Any]) -> list[Row]:
    return details.warehouse_totals(db, query, groups=_stock(db, query))


@summary
def explained_page(db: Database, name: str, offset: int = 0) -> Page:
    """A page of `tax_calculations` or `tax_id_validations` with an `explanation` column."""
    page = query_dataset(db, name, limit=PAGE_SIZE, offset=offset)
    return Page(details.with_explanations(page.rows, name), page.total, (*page.columns, "explanation"))


# --- Each page's default view (issue 19): the figures it reads with the default filters -------------------
# After a sync, when nobody has read a figure lately (a database nobody viewed yet, or not for 30 minutes),
# the worker and `opsdash sync` build these, so the first view reads stored figures. The arguments are the
# pages' own: the sidebar's default window (ui/filters.py uses DEFAULT_PAST / DEFAULT_FUTURE below), the
# Overview's previous period (ui/overview.py uses `previous_period` below), the Invoices page's default
# direction (pages/invoices.py) and TOP_PARTIES below, the first page of each table.
# tests/pages/test_default_views.py: a page's first read after a sync builds nothing.

DEFAULT_PAST = timedelta(days=90)  # the sidebar's default window: the last quarter, plus the coming month
DEFAULT_FUTURE = timedelta(days=30)  # (orders are planned ahead)
TOP_PARTIES = 15  # pages/invoices.py shows this many counterparty totals unless asked for all (size flat)

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def default_dates(today: date) -> tuple[date, date]:
    return today - DEFAULT_PAST, today + DEFAULT_FUTURE


def previous_period(query: Mapping[str, Any], start: date, end: date, column: str = "order_date") -> dict[str, Any]:
    """The same filters over the period of equal length just before `start`..`end`."""
    days = (end - start).days + 1
    return {**query, f"{column}__gte": (start - timedelta(days=days)).isoformat(),
            f"{column}__lt": start.isoformat()}


def default_views(today: date) -> dict[str, list[Call]]:
    """page -> the builder calls (fn, args, kwargs) of its default view, as the page makes them."""
    start, end = default_dates(today)
    orders = {"order_date__gte": start.isoformat(), "order_date__lt": (end + timedelta(days=1)).isoformat()}
    receivable = {"direction": "receivable"}
    return {
        "overview": [
            (order_kpis, (orders,), {}), (money_kpis, ({}, "receivable"), {}), (money_kpis, ({}, "payable"), {}),
            (money_kpis, (kpis.payee_filters({}, "carriers"), "payable"), {}),
            (money_kpis, (kpis.payee_filters({}, "suppliers"), "payable"), {}),
            (stock_kpis, (), {}), (tax_id_kpis, (), {}),
            (dataset_page, ("business_orders", previous_period(orders, start, end)), {"limit": 1}),
            (orders_over_time, (orders,), {}), (outstanding_aging, ({}, "receivable"), {}),
            (outstanding_aging, ({}, "payable"), {}), (stock_below, (), {}),
        ],
        "invoices": [
            (aging, (receivable,), {}), (counterparty_count, (receivable,), {}),
            (counterparty_totals, (receivable, TOP_PARTIES), {}),
            (dataset_page, ("receivables_outstanding", {}), {"offset": 0, "order_by": None}),
        ],
        "stock": [
            (dataset_page, ("stock_levels", {}), {"offset": 0, "order_by": None}), (lead_times, (), {}),
            (reorder_levels, (), {}), (warehouse_choices, (), {}), (warehouse_names, (), {}),
            (warehouse_totals, ({},), {}),
        ],
    }


def prime_default_views(db: Database, now: datetime | None = None) -> int:
    """When no stored figure was read within `stored.REFRESH_READ_WITHIN`, build the default views' figures
    that are not current (after a sync: what it wrote); returns how many were built. Otherwise the figures
    people read are the ones refreshed (`stored.refresh`), and nothing is primed."""
    moment = now or utcnow()
    read_lately = db.conn.execute(f"SELECT 1 FROM {stored.TABLE} WHERE read_at >= ? AND inputs != ? LIMIT 1",
                                  [iso(moment - stored.REFRESH_READ_WITHIN), stored.CONTENT]).fetchone()
    if read_lately is not None:
        return 0
    today = stored.business_today(moment)
    built = 0
    for calls in default_views(date.fromisoformat(today)).values():
        for fn, args, kwargs in calls:
            name = name_of(fn)
            if stored.servable(db, stored.key_of(name, args, kwargs), today, moment, fresh=True) is None:
                stored.build(db, name, fn, args, kwargs, today=today, now=moment)
                built += 1
    return built
