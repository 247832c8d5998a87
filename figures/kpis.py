"""KPI and chart queries for the Overview page: plain SQL over the contract datasets, no streamlit.

Every function takes `filters` in the `store.queries` format (`{"source__in": [...],
"order_date__gte": "2025-01-01"}`), applied to the dataset it reads, and `now`, which fixes
`:today` (the business date, store/calendar.py) so tests pin the date.

Receivables and payables stay apart (issue 9): every money figure is per direction and per
currency, exact `Decimal` (`{"EUR": Decimal("1234.50")}`), summed with `decimal_sum`, an exact
SQL aggregate registered on the connection; nothing adds a payable to a receivable, or two
currencies together.

Orders are counted as business orders (`business_orders` dataset): an ERP customer order and its
transport order(s) are one order, not two.

"Change vs 7 days ago" (`Outstanding.issued_7d`, `Outstanding.overdue_7d`): the cache keeps the
current state of each invoice, not its history, so a payment made this week leaves no trace.
What can be said honestly from issue and due dates of invoices open today is
- how much of today's outstanding was issued in the last 7 days (sources with an issue date:
  Quaderno, Qasida claims and liabilities, Upwell; Cargobase lists carry no amounts), and
- how much of today's overdue amount fell overdue in the last 7 days (due in [today-7, today)).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlite_utils import Database

from store.calendar import AGING_BUCKETS, aging_sql, clock, days_ago
from store.datasets import EXACT_AMOUNT as EXACT
from store.datasets import get_dataset, sql_for
from store.decimals import DecimalSum, decimal_sum
from store.queries import build_where

Filters = Mapping[str, Any]
Money = dict[str, Decimal]  # currency -> exact amount in major units
DIRECTIONS = ("receivable", "payable")
_DATASET = {"receivable": "receivables_outstanding", "payable": "payables_outstanding"}

__all__ = ["AGING_BUCKETS", "DecimalSum", "Outstanding", "Overview", "StockSummary", "aging", "decimal_sum", "overview"]


@dataclass(frozen=True)
class Outstanding:
    """One direction (receivable or payable) of the outstanding invoices, per currency."""

    direction: str
    outstanding: Money
    issued_7d: Money  # part of `outstanding` issued in the last 7 days
    overdue: Money
    overdue_count: int
    overdue_7d: Money  # part of `overdue` that fell due in the last 7 days
    invoices: int = 0
    without_amount: int = 0  # listed without an amount (Cargobase): counted, never summed
    overdue_long: Money = field(default_factory=dict)  # part of `overdue` more than LONG_OVERDUE_DAYS overdue


@dataclass(frozen=True)
class StockSummary:
    items: int  # stock cards (product x warehouse)
    below_reorder_level: int
    no_level: int  # "no level set", never "fine"
    runs_out_before_next_delivery: int


@dataclass(frozen=True)
class Overview:
    orders_by_status: dict[str, int]  # business orders by the status a manager reads (transport, else ERP)
    late_orders: int
    receivables: Outstanding
    payables: Outstanding
    stock: StockSummary
    tax_ids: dict[str, int] = field(default_factory=dict)  # latest result per ID: valid/invalid/...
    business_orders: int = 0
    expected_late_orders: int = 0  # not late yet, but an ETA after the planned date (store/datasets.py)

    @property
    def below_threshold(self) -> int:  # the earlier name of the stock KPI
        return self.stock.below_reorder_level


def select(db: Database, dataset: str, filters: Filters | None, now: datetime, columns: str,
           tail: str = "", extra: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """`SELECT columns FROM <dataset> WHERE <filters> tail` with bound parameters."""
    ds = get_dataset(dataset)
    where, params = build_where(ds, filters or {})
    sql = f"SELECT {columns} FROM ({sql_for(db, ds)}) {where} {tail}"
    return decimal_sum(db).conn.execute(sql, params | clock(now) | dict(extra or {})).fetchall()


def _money(rows: list[tuple[Any, ...]]) -> Money:
    return {currency: Decimal(total) for currency, total in rows if currency is not None and total is not None}


def overview(db: Database, now: datetime, orders: Filters | None = None,
             invoices: Filters | None = None, stock: Filters | None = None) -> Overview:
    """Every KPI card of the Overview page in one call. `orders` filters the business orders
    (order_date), `invoices` both outstanding lists (source), `stock` the stock levels."""
    by_status = orders_by_status(db, now, orders)
    return Overview(by_status, late_orders(db, now, orders), outstanding(db, now, "receivable", invoices),
                    outstanding(db, now, "payable", invoices), stock_summary(db, now, stock), tax_ids(db),
                    sum(by_status.values()), expected_late_orders(db, now, orders))


# --- orders -----------------------------------------------------------------------------------

_STATUS = "coalesce(transport_status, erp_status, 'unknown')"


def orders_by_status(db: Database, now: datetime, filters: Filters | None = None) -> dict[str, int]:
    """Business orders by status: the transport status when it has one, else the ERP status."""
    rows = select(db, "business_orders", filters, now, f"{_STATUS}, count(*)", "GROUP BY 1 ORDER BY 2 DESC, 1")
    return dict(rows)


def late_orders(db: Database, now: datetime, filters: Filters | None = None) -> int:
    """Business orders late on either side (store/datasets.py `late_on`: transport plan or ERP promise passed)."""
    return _orders_where(db, now, filters, "late")


def expected_late_orders(db: Database, now: datetime, filters: Filters | None = None) -> int:
    """Business orders not late yet whose transport ETA is after the planned date (`expected_late_on`)."""
    return _orders_where(db, now, filters, "expected_late")


def _orders_where(db: Database, now: datetime, filters: Filters | None, flag: str) -> int:
    flagged = {**(filters or {}), flag: 1}
    return int(select(db, "business_orders", flagged, now, "count(*)")[0][0])


def orders_over_time(db: Database, now: datetime, filters: Filters | None = None) -> pd.DataFrame:
    """Business orders per day and status (by order date)."""
    dated = {**(filters or {}), "order_date__ne": None}
    rows = select(db, "business_orders", dated, now,
                  f"substr(order_date, 1, 10), {_STATUS}, count(*)", "GROUP BY 1, 2 ORDER BY 1, 2")
    return pd.DataFrame(rows, columns=["day", "status", "orders"])


# --- money ------------------------------------------------------------------------------------


def outstanding(db: Database, now: datetime, direction: str, filters: Filters | None = None) -> Outstanding:
    """One pass over one direction's outstanding list, grouped by currency (one SQL: every money figure of a
    direction is a column of it). Overdue is the list's `days_overdue` (store/datasets.py, the one rule)."""
    rows = select(db, _DATASET[direction], filters, now, _OUTSTANDING_SQL, "GROUP BY currency ORDER BY currency",
                  {"week_ago": days_ago(7, now), "long_overdue": LONG_OVERDUE_DAYS})
    return Outstanding(
        direction=direction, outstanding=_money([(r[0], r[1]) for r in rows]),
        issued_7d=issued_since(db, now, direction, days_ago(7, now), filters),
        overdue=_money([(r[0], r[2]) for r in rows]), overdue_count=sum(r[3] for r in rows),
        overdue_7d=_money([(r[0], r[4]) for r in rows]), invoices=sum(r[5] for r in rows),
        without_amount=sum(r[6] for r in rows), overdue_long=_money([(r[0], r[7]) for r in rows]),
    )


LONG_OVERDUE_DAYS = 60  # "overdue more than 60 days" (Overview money cards)
# Per currency: outstanding, overdue, overdue count (amounts known), fell due in the last 7 days, invoices,
# listed without an amount, overdue more than LONG_OVERDUE_DAYS.
_OUTSTANDING_SQL = (
    f"currency, decimal_sum({EXACT}), decimal_sum(CASE WHEN days_overdue > 0 THEN {EXACT} END), "
    "count(CASE WHEN days_overdue > 0 AND amount_due IS NOT NULL THEN 1 END), "
    f"decimal_sum(CASE WHEN days_overdue > 0 AND due_date >= :week_ago THEN {EXACT} END), count(*), "
    "count(CASE WHEN amount_due IS NULL THEN 1 END), "
    f"decimal_sum(CASE WHEN days_overdue > :long_overdue THEN {EXACT} END)")


# Whom we owe (issue 21, "How much do we owe carriers?"): carriers invoice freight (Upwell carrier invoices,
# seeds/002; Cargobase invoices submitted to us for audit, seeds/004, which carry no amount), suppliers are
# the ERP's liabilities (Qasida, seeds/003 ~line 3124). Each is the payables figure over its sources.
PAYEES: dict[str, tuple[str, ...]] = {"carriers": ("upwell", "cargobase"), "suppliers": ("qasida",)}


def payee_filters(invoices: Filters | None, payee: str) -> dict[str, Any]:
    """The outstanding-list filters narrowed to one kind of payee, within a source filter already set."""
    chosen = (invoices or {}).get("source__in")
    return {**(invoices or {}), "source__in": [s for s in PAYEES[payee] if chosen is None or s in chosen]}


def owed_to(db: Database, now: datetime, payee: str, filters: Filters | None = None) -> Outstanding:
    """What we owe one kind of payee ("carriers" or "suppliers"), per currency; `without_amount` counts
    the Cargobase invoices that carry none."""
    return outstanding(db, now, "payable", payee_filters(filters, payee))


def receivables(db: Database, now: datetime, filters: Filters | None = None) -> Outstanding:
    return outstanding(db, now, "receivable", filters)


def payables(db: Database, now: datetime, filters: Filters | None = None) -> Outstanding:
    return outstanding(db, now, "payable", filters)


# Issue dates per source of each list, keyed the way the dataset names its rows.
_ISSUED = {
    "receivable": """
        SELECT 'quaderno' AS source, number AS invoice_number, substr(issue_date, 1, 10) AS issued
        FROM quaderno_invoices
        UNION ALL SELECT 'qasida', document_number, substr(issue_date, 1, 10) FROM qasida_claims""",
    "payable": """
        SELECT 'qasida' AS source, document_number AS invoice_number, substr(issue_date, 1, 10) AS issued
        FROM qasida_liabilities
        UNION ALL SELECT 'upwell', invoice_number, substr(issue_date, 1, 10) FROM carrier_invoices""",
}


def issued_since(db: Database, now: datetime, direction: str, since: str, filters: Filters | None = None) -> Money:
    """Open amounts (of the filtered list) on invoices issued on or after `since`."""
    ds = get_dataset(_DATASET[direction])
    where, params = build_where(ds, filters or {})
    joined = (f"SELECT o.*, i.issued FROM ({sql_for(db, ds)}) AS o JOIN ({_ISSUED[direction]}) AS i "
              "ON i.source = o.source AND i.invoice_number = o.invoice_number")
    sql = (f"SELECT currency, decimal_sum({EXACT}) FROM ({joined}) {where} "
           f"{'AND' if where else 'WHERE'} issued >= :since GROUP BY currency")
    return _money(decimal_sum(db).conn.execute(sql, params | clock(now) | {"since": since}).fetchall())


def aging(db: Database, now: datetime, filters: Filters | None = None,
          direction: str = "receivable") -> pd.DataFrame:
    """Open amounts of one direction by aging bucket (store/calendar.py), source and currency.

    Rows without an amount (Cargobase) are counted in `invoices` with an empty amount."""
    rows = select(db, _DATASET[direction], filters, now,
                  f"source, currency, {aging_sql()} AS bucket, decimal_sum({EXACT}), count(*)",
                  "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    rows = [(source, currency, bucket, amount or "", count, direction) for source, currency, bucket, amount, count in rows]
    frame = pd.DataFrame(rows, columns=["source", "currency", "bucket", "amount", "invoices", "direction"], dtype=object)
    return frame.astype({"invoices": int})


# --- stock and tax ----------------------------------------------------------------------------


# Stock per warehouse, unit and flag, in one pass over the stock list (1M rows at 2x the large set): every stock
# figure (the KPIs, below per warehouse, the Stock page's totals and count) is a fold of these groups, so the
# figures built from one stored pass (figures/page_summaries.py) pay for it once. The flags (the list's own
# columns, store/datasets.py) are group keys too, so a filter on a flag is a fold of the same groups
# (`with_flags`), not another pass; a group's items below its level and running out are its items when its
# flag is 1 (no second CASE per row: the wider sort of the keys costs ~1 % of the pass at 2x, not ~11 %).
STOCK_FLAGS = ("below_reorder_level", "runs_out_before_next_delivery")
STOCK_GROUP_COLUMNS = ("warehouse", "warehouse_id", "unit", *STOCK_FLAGS, "products", "quantity", "reserved",
                       "available", "no_level_set")
_KEYS = f"warehouse_id, warehouse, unit, {', '.join(STOCK_FLAGS)}"
_STOCK_GROUPS = (f"warehouse, warehouse_id, unit, {', '.join(STOCK_FLAGS)}, count(*), total(quantity), "
                 "total(reserved), total(available), count(CASE WHEN reorder_level IS NULL THEN 1 END)")


def stock_groups(db: Database, now: datetime, filters: Filters | None = None) -> list[dict[str, Any]]:
    """Per (warehouse, warehouse id, unit, below its level, runs out): items, quantities, and how many are below
    their level, have none, and run out before the next delivery (no index orders by the warehouse id first:
    one scan, one sort)."""
    rows = select(db, "stock_levels", filters, now, _STOCK_GROUPS, f"GROUP BY {_KEYS} ORDER BY {_KEYS}")
    groups = [dict(zip(STOCK_GROUP_COLUMNS, row, strict=True)) for row in rows]
    for g in groups:
        g["items_below_level"] = g["products"] if g["below_reorder_level"] == 1 else 0
        g["runs_out"] = g["products"] if g["runs_out_before_next_delivery"] == 1 else 0
    return groups


def flag_filters(filters: Filters | None) -> tuple[dict[str, Any], dict[str, int | None]]:
    """(the other filters, the flag filters a fold of `stock_groups` answers: a flag equal to 0, 1 or None)."""
    rest, flags = dict(filters or {}), {}
    for column in STOCK_FLAGS:
        if column in rest and (rest[column] is None or type(rest[column]) is int):
            flags[column] = rest.pop(column)
    return rest, flags


def with_flags(groups: list[dict[str, Any]], flags: Mapping[str, int | None]) -> list[dict[str, Any]]:
    """The groups of `stock_groups(rest)` that `stock_groups(rest + flags)` returns: the flags are group keys."""
    return [g for g in groups if all(g[column] == value for column, value in flags.items())]


# The stock list's default order (store/datasets.py STOCK_LEVELS.order_by). The groups count the rows of each
# (below, runs out, warehouse) segment of it, so the rows of a page lie in known warehouses: the page reads
# those warehouses' cards (the index on the warehouse) instead of computing and sorting every card.
STOCK_ORDER = "below_reorder_level DESC, runs_out_before_next_delivery DESC, warehouse, product"


def _desc(value: Any) -> tuple[bool, Any]:
    return value is None, -value if value is not None else 0  # descending, NULL last (SQLite's order)


def _asc(value: Any) -> tuple[bool, Any]:
    return value is not None, value if value is not None else ""  # ascending, NULL first (SQLite's order)


def page_warehouses(groups: list[dict[str, Any]], offset: int, limit: int) -> tuple[list[str], int] | None:
    """(the warehouses whose cards hold rows offset .. offset + limit of the list the groups count, in
    STOCK_ORDER; how many rows of the other warehouses come before them): the same rows are rows offset - that ..
    of the list narrowed to those warehouses. None when one of them has no name (no IN list finds it)."""
    segments: dict[tuple[Any, Any, Any], int] = {}
    for g in groups:
        key = (g["below_reorder_level"], g["runs_out_before_next_delivery"], g["warehouse"])
        segments[key] = segments.get(key, 0) + int(g["products"])
    ordered, start = sorted(segments.items(), key=lambda kv: (_desc(kv[0][0]), _desc(kv[0][1]), _asc(kv[0][2]))), 0
    spans = []
    for key, count in ordered:
        spans.append((key[2], start, start + count))
        start += count
    needed = {w for w, first, end in spans if first < offset + limit and end > offset}
    if None in needed:
        return None
    return sorted(needed), sum(end - first for w, first, end in spans if w not in needed and end <= offset)


def stock_summary(db: Database, now: datetime, filters: Filters | None = None,
                  groups: list[dict[str, Any]] | None = None) -> StockSummary:
    """Items, below their level, without one, and running out before the next delivery (a fold of
    `stock_groups`, read now unless given)."""
    rows = stock_groups(db, now, filters) if groups is None else groups
    return StockSummary(*(sum(int(g[c]) for g in rows)
                          for c in ("products", "items_below_level", "no_level_set", "runs_out")))


def below_threshold(db: Database, now: datetime, filters: Filters | None = None) -> int:
    """Items at or below their reorder level (items without one are not counted: see `stock_summary`)."""
    return stock_summary(db, now, filters).below_reorder_level


def stock_below_by_warehouse(db: Database, now: datetime, filters: Filters | None = None,
                             groups: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """Per warehouse (its name, else its id): items below their level, and items with no level set (shown,
    never "fine"); most below first (a fold of `stock_groups`, read now unless given)."""
    below: dict[str, list[int]] = {}
    for g in stock_groups(db, now, filters) if groups is None else groups:
        counts = below.setdefault(g["warehouse"] if g["warehouse"] is not None else g["warehouse_id"], [0, 0])
        counts[0] += int(g["items_below_level"])
        counts[1] += int(g["no_level_set"])
    rows = sorted(below.items(), key=lambda kv: (-kv[1][0], kv[0] is not None, kv[0] or ""))
    return pd.DataFrame([(name, items, no_level) for name, (items, no_level) in rows],
                        columns=["warehouse", "items", "no_level"])


def tax_ids(db: Database) -> dict[str, int]:
    """Latest validation result per (country, tax ID), counted by result."""
    rows = db.conn.execute(
        "SELECT result, count(*) FROM tax_id_validations AS t WHERE id = (SELECT max(id) FROM "
        "tax_id_validations AS u WHERE u.country = t.country AND u.tax_id = t.tax_id) GROUP BY result"
    ).fetchall()
    return dict(rows)
