"""KPI and chart queries for the Overview page: plain SQL over the contract datasets, no streamlit.

Every function takes `filters` in the `cache.queries` format (`{"source__in": [...],
"order_date__gte": "2025-01-01"}`), applied to the dataset it reads, and `now`, which fixes
`:today` so tests pin the date.

Money stays exact: sums are integer minor units per currency (`{"EUR": 123450}`); nothing here
adds amounts of different currencies.

"Change vs 7 days ago" (`Receivables.issued_7d`, `Receivables.overdue_7d`): the cache keeps the
current state of each invoice, not its history, so a payment made this week leaves no trace.
What can be said honestly from issue and due dates of invoices open today is
- how much of today's outstanding was issued in the last 7 days (Quaderno and Upwell carry an
  issue date; Qasida liabilities do not, and Cargobase lists carry no amounts), and
- how much of today's overdue amount fell overdue in the last 7 days (due in [today-7, today)).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlite_utils import Database

from cache.datasets import get_dataset
from cache.db import iso
from cache.queries import build_where, minor_to_decimal

Filters = Mapping[str, Any]
Money = dict[str, int]  # currency -> integer minor units

AGING_BUCKETS = ("0–30", "31–60", "61–90", "90+")
_AGING_SQL = ("CASE WHEN days_overdue <= 30 THEN '0–30' WHEN days_overdue <= 60 THEN '31–60' "
              "WHEN days_overdue <= 90 THEN '61–90' ELSE '90+' END")


@dataclass(frozen=True)
class Receivables:
    outstanding: Money
    issued_7d: Money  # part of `outstanding` issued in the last 7 days
    overdue: Money
    overdue_count: int
    overdue_7d: Money  # part of `overdue` that fell due in the last 7 days


@dataclass(frozen=True)
class Overview:
    orders_by_status: dict[str, int]
    late_orders: int
    receivables: Receivables
    below_threshold: int
    tax_ids: dict[str, int] = field(default_factory=dict)  # latest result per ID: valid/invalid/unavailable


def clock(now: datetime) -> dict[str, str]:
    return {"now": iso(now), "today": iso(now)[:10]}


def select(db: Database, dataset: str, filters: Filters | None, now: datetime, columns: str,
           tail: str = "") -> list[tuple[Any, ...]]:
    """`SELECT columns FROM <dataset> WHERE <filters> tail` with bound parameters."""
    where, params = build_where(get_dataset(dataset), filters or {})
    sql = f"SELECT {columns} FROM ({get_dataset(dataset).sql}) {where} {tail}"
    return db.conn.execute(sql, params | clock(now)).fetchall()


def _money(rows: list[tuple[Any, ...]]) -> Money:
    return {currency: int(total) for currency, total in rows if currency is not None and total is not None}


def overview(db: Database, now: datetime, orders: Filters | None = None,
             invoices: Filters | None = None, stock: Filters | None = None) -> Overview:
    """Every KPI card of the Overview page in one call."""
    return Overview(orders_by_status(db, now, orders), late_orders(db, now, orders),
                    receivables(db, now, invoices), below_threshold(db, now, stock), tax_ids(db))


def orders_by_status(db: Database, now: datetime, filters: Filters | None = None) -> dict[str, int]:
    rows = select(db, "orders", filters, now, "coalesce(status, 'unknown'), count(*)",
                  "GROUP BY 1 ORDER BY 2 DESC, 1")
    return dict(rows)


def late_orders(db: Database, now: datetime, filters: Filters | None = None) -> int:
    return int(select(db, "orders", {**(filters or {}), "late": 1}, now, "count(*)")[0][0])


def receivables(db: Database, now: datetime, filters: Filters | None = None) -> Receivables:
    """One pass over the outstanding invoices (the union over four sources is the costly part)."""
    week_ago = (date.fromisoformat(iso(now)[:10]) - timedelta(days=7)).isoformat()
    columns = ("currency, sum(amount_due), sum(CASE WHEN days_overdue > 0 THEN amount_due END), "
               "count(CASE WHEN days_overdue > 0 THEN 1 END), "
               "sum(CASE WHEN days_overdue > 0 AND due_date >= :week_ago THEN amount_due END)")
    where, params = build_where(get_dataset("invoices_outstanding"), {**(filters or {}), "amount_due__ne": None})
    sql = (f"SELECT {columns} FROM ({get_dataset('invoices_outstanding').sql}) {where} "
           "GROUP BY currency ORDER BY currency")
    rows = db.conn.execute(sql, params | clock(now) | {"week_ago": week_ago}).fetchall()
    return Receivables(
        outstanding=_money([(r[0], r[1]) for r in rows]),
        issued_7d=issued_since(db, week_ago, (filters or {}).get("source__in")),
        overdue=_money([(r[0], r[2]) for r in rows]),
        overdue_count=sum(r[3] for r in rows),
        overdue_7d=_money([(r[0], r[4]) for r in rows]),
    )


_ISSUED = {
    "quaderno": "SELECT currency, amount_due AS amount FROM quaderno_invoices "
                "WHERE state IN ('outstanding', 'late') AND substr(issue_date, 1, 10) >= :since",
    "upwell": "SELECT currency, balance AS amount FROM carrier_invoices "
              "WHERE balance > 0 AND deleted_at IS NULL AND substr(issue_date, 1, 10) >= :since",
}


def issued_since(db: Database, since: str, sources: Any = None) -> Money:
    """Open amounts on invoices issued on or after `since` (sources with an issue date only)."""
    parts = [sql for source, sql in _ISSUED.items() if not sources or source in sources]
    if not parts:
        return {}
    sql = f"SELECT currency, sum(amount) FROM ({' UNION ALL '.join(parts)}) GROUP BY currency"
    return _money(db.conn.execute(sql, {"since": since}).fetchall())


def below_threshold(db: Database, now: datetime, filters: Filters | None = None) -> int:
    return int(select(db, "stock_levels", {**(filters or {}), "below_threshold": 1}, now, "count(*)")[0][0])


def tax_ids(db: Database) -> dict[str, int]:
    """Latest validation result per (country, tax ID), counted by result."""
    rows = db.conn.execute(
        "SELECT result, count(*) FROM tax_id_validations AS t WHERE id = (SELECT max(id) FROM "
        "tax_id_validations AS u WHERE u.country = t.country AND u.tax_id = t.tax_id) GROUP BY result"
    ).fetchall()
    return dict(rows)


def orders_over_time(db: Database, now: datetime, filters: Filters | None = None) -> pd.DataFrame:
    """Orders per day and status (by order date)."""
    rows = select(db, "orders", {**(filters or {}), "order_date__ne": None}, now,
                  "substr(order_date, 1, 10), coalesce(status, 'unknown'), count(*)", "GROUP BY 1, 2 ORDER BY 1, 2")
    return pd.DataFrame(rows, columns=["day", "status", "orders"])


def aging(db: Database, now: datetime, filters: Filters | None = None) -> pd.DataFrame:
    """Open receivables by days overdue bucket, source and currency (not yet due counts as 0–30)."""
    rows = select(db, "invoices_outstanding", {**(filters or {}), "amount_due__ne": None}, now,
                  f"source, currency, {_AGING_SQL} AS bucket, sum(amount_due), count(*)",
                  "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    frame = pd.DataFrame(rows, columns=["source", "currency", "bucket", "amount_minor", "invoices"])
    frame["amount"] = [str(minor_to_decimal(a, c)) for a, c in zip(frame.amount_minor, frame.currency)]
    return frame


def stock_below_by_warehouse(db: Database, now: datetime, filters: Filters | None = None) -> pd.DataFrame:
    rows = select(db, "stock_levels", {**(filters or {}), "below_threshold": 1}, now,
                  "coalesce(warehouse, warehouse_id), count(*)", "GROUP BY 1 ORDER BY 2 DESC, 1")
    return pd.DataFrame(rows, columns=["warehouse", "items"])
