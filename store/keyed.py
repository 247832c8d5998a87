"""Per-key summaries: figures kept per key (a counterparty, a due day, a warehouse) and recomputed only
for the keys a write touched, so a figure reads O(keys it shows), never O(rows) (issue 12).

A `Keyed` summary declares what it groups (a dataset of store/datasets.py, grouped by a key and a few
columns) and, per base table the dataset reads, how a written row names its key. From that:

- Triggers on each base table note the keys a write touches in `summary_dirty` (migration
  0015_keyed_summaries), in the writer's own transaction: an UPDATE notes the key before and after, a
  DELETE the key it had. A write no key describes (a product's code, a reorder level for every
  warehouse) notes `*`: everything.
- `fold` (the worker, after each sync job and every scheduler pass; a reorder-level save) recomputes the
  dirty keys' rows from the dataset and stores them in `summary_<name>`, then clears those keys, all in one
  transaction.
- `rows` reads exactly, without writing: the stored rows of clean keys plus the dirty keys' rows
  computed now, in one read snapshot. A reader never sees a figure older than the data, whether or not
  the worker has folded yet; until then it pays for the dirty keys only.

Nothing here depends on the business date: rows are kept per due day, and aging or "overdue" is worked
out when read (figures/kpis.py), so a summary never goes stale at midnight.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from store.calendar import clock
from store.datasets import (
    BUSINESS_ORDER_DAYS,
    EXACT_AMOUNT,
    PAYABLES_ISSUED,
    RECEIVABLES_ISSUED,
    STOCK_CARDS,
    Dataset,
    business_order_days_sql,
    expected_late_on,
    get_dataset,
    late_on,
    outstanding_for_keys,
    sql_for,
)
from store.db import transaction
from store.decimals import decimal_sum
from store.queries import build_where
from store.versions import VERSIONS_TABLE, bulk_mark

DIRTY = "summary_dirty"
ALL = "*"  # a dirty key meaning "every key"
_EVENTS = {"ins": ("INSERT", ("NEW",)), "upd": ("UPDATE", ("OLD", "NEW")), "del": ("DELETE", ("OLD",))}


@dataclass(frozen=True)
class Keyed:
    """`summary_<name>`: per `key` (SQL over the datasets' columns), the `groups` columns and the
    `aggregates`, from each of `datasets` ((dataset, extra constant columns SQL)). `sources`: per base
    table, SQL over one of its rows (`{r}` is `NEW.`/`OLD.`) giving the key that row counts under."""

    name: str
    datasets: tuple[tuple[str | Dataset, str], ...]  # a dataset's name, or an internal Dataset
    key: str
    groups: tuple[tuple[str, str], ...]  # (column name, SQL over the dataset's columns)
    aggregates: tuple[tuple[str, str], ...]  # (column name, aggregate SQL)
    sources: tuple[tuple[str, str], ...]  # (base table, key SQL over {r}columns)
    # the dataset filters this summary answers (dataset column -> SQL over the summary's columns)
    filters: tuple[tuple[str, str], ...] = ()
    # Rolled up: a second table of these group columns with the aggregates summed (numbers only, never
    # decimal text), kept per value of the first (a day, a warehouse), read as the kept rollup plus deltas.
    rollup: tuple[str, ...] = ()
    # The dataset's SQL narrowed to some keys where an outer WHERE would not reach (a union's arms, a join's
    # inner side): (dataset name, an SQL list of keys, or with `scoped` one per source; None: every key) -> SQL.
    # None: the outer `key IN (...)` is pushed down by SQLite.
    narrow: Callable[[str, Any], str] | None = None
    # Base table -> the value of the summary's `source` column its rows land under. With it, a write notes its
    # key for its own source only (`<source>\x1f<key>`), and a reader or fold recomputes that key from that
    # source's arm alone, keeping the other sources' stored rows: a webhook's carrier invoice does not send a
    # reader through every open Quaderno invoice of a counterparty of the same name.
    scoped: tuple[tuple[str, str], ...] = ()

    @property
    def table(self) -> str:
        return f"summary_{self.name}"

    @property
    def columns(self) -> tuple[str, ...]:
        return ("key", *(c for c, _ in self.groups), *(c for c, _ in self.aggregates))

    def create_sql(self) -> str:
        return f"CREATE TABLE {self.table} ({', '.join(self.columns)})"

    @property
    def rolled(self) -> str:
        return f"{self.table}_rollup"

    @property
    def rolled_columns(self) -> tuple[str, ...]:
        return (*self.rollup, *(c for c, _ in self.aggregates))

    def rolled_sql(self) -> str:
        return f"CREATE TABLE {self.rolled} ({', '.join(self.rolled_columns)})"

    def sums(self, source: str, where: str = "", having: str = "") -> str:
        """SELECT of the rollup's rows from `source` (rows with this summary's columns). Rolled-up
        aggregates are numbers (counts, totals), never decimal text: they are added and subtracted."""
        total = ", ".join(f"sum({c}) AS {c}" for c, _ in self.aggregates)
        return (f"SELECT {', '.join(self.rollup)}, {total} FROM {source} {where} GROUP BY {', '.join(self.rollup)}"
                + (f" HAVING {having}" if having else ""))


# --- the declarations -----------------------------------------------------------------------------

_QASIDA_NAME = "coalesce((SELECT name FROM qasida_customers WHERE customer_id = {r}customer_id), '')"
_DAY = "coalesce(substr({r}%s, 1, 10), '')"
# A row of `outstanding_by_due`'s days overdue on :today, as the datasets count them (store/datasets.py
# `_days_overdue`; without a due date, the ERP's days delayed).
DAYS_OVERDUE = ("CASE WHEN nullif(due_date, '') IS NULL THEN days_delayed "
                "ELSE max(0, CAST(julianday(:today) - julianday(due_date) AS INTEGER)) END")
_OUTSTANDING = (("receivables_outstanding", "'receivable'"), ("payables_outstanding", "'payable'"))
# The outstanding lists' `source` per base table (store/datasets.py): their summaries are scoped by it.
_SOURCES = (("quaderno_invoices", "quaderno"), ("qasida_claims", "qasida"), ("qasida_liabilities", "qasida"),
            ("qasida_customers", "qasida"), ("carrier_invoices", "upwell"), ("cargobase_invoices", "cargobase"))
_MONEY = (("invoices", "count(*)"), ("amount", f"decimal_sum({EXACT_AMOUNT})"),
          ("without_amount", "count(CASE WHEN amount_due IS NULL THEN 1 END)"))

# Outstanding per counterparty and currency: the Invoices page's totals, the Overview's sums per currency.
BY_PARTY = Keyed(
    name="outstanding_by_party", datasets=_OUTSTANDING, key="coalesce(counterparty, '')",
    narrow=lambda name, keys: outstanding_for_keys(name, "party", keys),
    groups=(("direction", "{direction}"), ("source", "source"), ("counterparty", "counterparty"),
            ("currency", "currency")),
    aggregates=_MONEY, filters=(("direction", "direction"), ("source", "source"), ("currency", "currency"),
                                ("counterparty", "counterparty")),
    sources=(("quaderno_invoices", "coalesce({r}contact_name, '')"), ("qasida_claims", _QASIDA_NAME),
             ("qasida_liabilities", _QASIDA_NAME), ("carrier_invoices", "coalesce({r}carrier, {r}carrier_id, '')"),
             ("cargobase_invoices", "coalesce({r}provider_name, '')"), ("qasida_customers", "coalesce({r}name, '')")),
    scoped=_SOURCES,
)

# Outstanding per due day (and, without a due date, the ERP's days delayed): aging buckets, overdue and
# "fell due in the last 7 days" are worked out from the day when read.
BY_DUE = Keyed(
    name="outstanding_by_due", datasets=_OUTSTANDING, key="coalesce(due_date, '')",
    narrow=lambda name, keys: outstanding_for_keys(name, "due", keys),
    groups=(("direction", "{direction}"), ("source", "source"), ("currency", "currency"),
            ("due_date", "due_date"), ("days_delayed", "CASE WHEN due_date IS NULL THEN days_overdue END")),
    aggregates=_MONEY, filters=(("direction", "direction"), ("source", "source"), ("currency", "currency"),
                                ("due_date", "due_date"), ("days_overdue", DAYS_OVERDUE)),
    sources=(("quaderno_invoices", _DAY % "due_date"), ("qasida_claims", _DAY % "due_date"),
             ("qasida_liabilities", _DAY % "due_date"), ("carrier_invoices", _DAY % "due_date"),
             ("cargobase_invoices", "''")),
    scoped=_SOURCES,
)

# Outstanding per issue day: "issued in the last 7 days" on the Overview's money cards.
BY_ISSUE = Keyed(
    name="outstanding_by_issue", datasets=((RECEIVABLES_ISSUED, "'receivable'"), (PAYABLES_ISSUED, "'payable'")),
    key="coalesce(issue_date, '')", narrow=lambda name, keys: outstanding_for_keys(name, "issue", keys),
    groups=(("direction", "{direction}"), ("source", "source"), ("currency", "currency"),
            ("issue_date", "issue_date")),
    aggregates=_MONEY, filters=(("direction", "direction"), ("source", "source"), ("currency", "currency"),
                                ("issue_date", "issue_date")),
    sources=(("quaderno_invoices", _DAY % "issue_date"), ("qasida_claims", _DAY % "issue_date"),
             ("qasida_liabilities", _DAY % "issue_date"), ("carrier_invoices", _DAY % "issue_date"),
             ("cargobase_invoices", "''")),
    scoped=_SOURCES,
)

# Stock per warehouse and product-id bucket, rolled up per warehouse and unit: the items, their quantities,
# those at or below their reorder level and those without one. A reorder level or a product's code names no key.
# The key is the warehouse and the last two characters of the product id: a write touches ~1/100 of a warehouse,
# and a full sync marks at most 100 keys per warehouse (a key per card made the dirty list as long as the table).
_CARD = "coalesce({r}warehouse_id, '') || '|' || substr(coalesce({r}product_id, ''), -2)"
STOCK = Keyed(
    name="stock_by_warehouse", datasets=((STOCK_CARDS, ""),), key=_CARD.format(r=""),
    groups=(("warehouse_id", "warehouse_id"), ("warehouse", "warehouse"), ("unit", "unit")),
    aggregates=(("products", "count(*)"), ("quantity", "total(quantity)"), ("reserved", "total(reserved)"),
                ("available", "total(available)"),
                ("items_below_level", "count(CASE WHEN below_reorder_level = 1 THEN 1 END)"),
                ("no_level_set", "count(CASE WHEN reorder_level IS NULL THEN 1 END)")),
    rollup=("warehouse_id", "warehouse", "unit"),
    filters=(("warehouse", "warehouse"),),
    sources=(("qasida_stock_cards", _CARD), ("reorder_levels", f"'{ALL}'"), ("qasida_products", f"'{ALL}'")),
)

# Business orders per order number (an ERP order and its transport orders), rolled up per day, status, side
# and the date-independent forms of lateness (store/datasets.py): the day the order becomes late (either side)
# and the day until which an ETA after the plan makes it expected late. Late and expected late are worked out
# from them when read, by the datasets' own rules (`late_on`, `expected_late_on`).
ORDERS = Keyed(
    name="orders_by_day", datasets=((BUSINESS_ORDER_DAYS, ""),), key="coalesce(order_number, '')",
    narrow=lambda _, keys: business_order_days_sql(keys),
    groups=(("day", "coalesce(substr(order_date, 1, 10), '')"),
            ("status", "coalesce(transport_status, erp_status, 'unknown')"), ("matched", "matched"),
            ("late_from", "late_from"), ("expected_until", "expected_until")),
    aggregates=(("orders", "count(*)"),),
    rollup=("day", "status", "matched", "late_from", "expected_until"),
    filters=(("order_date", "nullif(day, '')"), ("matched", "matched"), ("late", late_on("late_from")),
             ("expected_late", expected_late_on("expected_until", "late_from"))),
    sources=(("qasida_customer_orders", "coalesce({r}number, '')"),
             ("qargo_orders", "coalesce(nullif({r}reference, ''), '')")),
)

KEYED: dict[str, Keyed] = {k.name: k for k in (BY_PARTY, BY_DUE, BY_ISSUE, STOCK, ORDERS)}


def _dataset(ref: str | Dataset) -> Dataset:
    return ref if isinstance(ref, Dataset) else get_dataset(ref)


# --- schema: tables and triggers (store.schema.migrate calls `ensure`) ------------------------------


def ensure(db: Database) -> list[str]:
    """Create (or re-create, when its columns changed) each summary table, and the dirty-key triggers;
    a new table starts with every key dirty. Returns what changed. Read-only when nothing did."""
    if DIRTY not in db.table_names():
        return []
    present = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'trigger')").fetchall())
    tables = tuple(sorted((n, sql) for n, sql in present.items() if not n.startswith(("ks_", "dv_"))))
    if tables not in _WANTED:  # working the triggers out prepares every dataset: once per schema, not per session
        _WANTED.clear()
        _WANTED[tables] = dict(_triggers(db))
    wanted = _WANTED[tables]
    stale_tables = [k for k in KEYED.values() if present.get(k.table) != k.create_sql()
                    or (k.rollup and present.get(k.rolled) != k.rolled_sql())]
    stale_triggers = [n for n, sql in wanted.items() if present.get(n) != sql]
    dropped = [n for n in present if n.startswith("ks_") and n not in wanted]
    if not (stale_tables or stale_triggers or dropped):
        return []
    with transaction(db):
        for k in stale_tables:
            db.execute(f"DROP TABLE IF EXISTS {k.table}")
            db.execute(k.create_sql())
            db.execute(f"CREATE INDEX {k.table}_key ON {k.table}(key)")
            if k.rollup:
                db.execute(f"DROP TABLE IF EXISTS {k.rolled}")
                db.execute(k.rolled_sql())
                db.execute(f"CREATE INDEX {k.table}_part ON {k.table}({k.rollup[0]})")
                db.execute(f"CREATE INDEX {k.rolled}_part ON {k.rolled}({k.rollup[0]})")
            db.execute(f"INSERT OR IGNORE INTO {DIRTY} (summary, key) VALUES (?, ?)", [k.name, ALL])
        for name in [*stale_triggers, *dropped]:
            db.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        for name in stale_triggers:
            db.execute(wanted[name])
    return sorted({*(k.name for k in stale_tables), *stale_triggers, *dropped})


_WANTED: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}  # tables' SQL -> the triggers they need


def _triggers(db: Database) -> list[tuple[str, str]]:
    """One trigger per base table and event, noting the keys of every summary that reads the table. An
    UPDATE counts only when a column some summary reads changed (a re-sync of unchanged rows notes
    nothing), and notes the key before and after."""
    tables = set(db.table_names())
    by_table: dict[str, list[tuple[str, str]]] = {}
    for k in KEYED.values():
        for table, key in k.sources:
            if table in tables:
                by_table.setdefault(table, []).append((k.name, _scoped_key(k, table, key)))
    read = _columns_read(db)
    out = []
    for table, entries in sorted(by_table.items()):
        columns = sorted(read.get(table, set()))
        for event, (verb, rows) in _EVENTS.items():
            if verb == "UPDATE" and not columns:
                continue
            # Nothing to note once the summary is marked `*` (a sync's page did that: `mark_all`): one probe.
            inserts = " ".join(f"INSERT INTO {DIRTY} (summary, key) SELECT '{name}', {key.format(r=f'{r}.')} "
                               f"WHERE NOT EXISTS (SELECT 1 FROM {DIRTY} WHERE summary = '{name}' AND key = '{ALL}') "
                               "ON CONFLICT DO NOTHING;" for name, key in entries for r in rows)
            # Skipped whole while the table is marked written in bulk (a sync's page: `mark_all`, one probe);
            # an UPDATE also when it changed no column a summary reads.
            mark, star = bulk_mark(table)
            conditions = [f"NOT EXISTS (SELECT 1 FROM {DIRTY} WHERE summary = '{mark}' AND key = '{star}')"]
            if verb == "UPDATE":
                conditions.append("(" + " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in columns) + ")")
            when = " WHEN " + " AND ".join(conditions)
            name = f"ks_{table}_{event}"
            # ON CONFLICT DO NOTHING, not INSERT OR IGNORE: a trigger's OR clause yields to the writing
            # statement's (a sync's upsert would fail on a key already noted).
            sql = f'CREATE TRIGGER "{name}" AFTER {verb} ON {table}{when} BEGIN {inserts} END'
            out.append((name, sql))
    return out


SEP = "\x1f"  # between a scoped key's source and the key (store/keyed.py `Keyed.scoped`)


def _scoped_key(k: Keyed, table: str, key: str) -> str:
    """The key SQL a trigger notes for `table`: with the source in front when `k` is scoped."""
    source = dict(k.scoped).get(table)
    return key if source is None else f"'{source}' || char(31) || {key}"


def _columns_read(db: Database) -> dict[str, set[str]]:
    """Per table, the columns the summaries' datasets read (found by preparing their SQL under an
    authorizer, as store/versions.py finds the tables): no list kept by hand."""
    seen: dict[str, set[str]] = {}

    def authorize(action: int, table: str | None, column: str | None, *_: object) -> int:
        if action == sqlite3.SQLITE_READ and table and column:
            seen.setdefault(table, set()).add(column)
        return sqlite3.SQLITE_OK

    db.conn.set_authorizer(authorize)
    try:
        for k in KEYED.values():
            for dataset, _ in k.datasets:
                with contextlib.suppress(sqlite3.Error):  # a table this database lacks: nothing to watch
                    db.conn.execute(f"EXPLAIN {sql_for(db, _dataset(dataset))}", clock()).fetchall()
    finally:
        db.conn.set_authorizer(None)
    return seen


def mark_all(db: Database, table: str) -> None:
    """Before writing many rows of `table` (a sync's page), in the writer's transaction: mark every summary
    `table` feeds `*` (recounted whole at the next fold), bump the table's data version once, and mark the
    table written in bulk, so its triggers (keys here, versions in store/versions.py) stop at one probe
    per row. Counting a few hundred keys one by one would cost more than one recount. The writer calls
    `unmark_bulk` before its transaction ends: the bulk mark never outlives it."""
    names = [k.name for k in KEYED.values() if table in dict(k.sources)]
    if DIRTY not in db.table_names():
        return
    db.conn.executemany(f"INSERT INTO {DIRTY} (summary, key) VALUES (?, ?) ON CONFLICT DO NOTHING",
                        [*((n, ALL) for n in names), bulk_mark(table)])
    db.conn.execute(f"UPDATE {VERSIONS_TABLE} SET version = version + 1 WHERE name = ?", [table])


def unmark_bulk(db: Database, table: str) -> None:
    """The end of a bulk write of `table` (see `mark_all`): its rows' triggers note again from here on."""
    if DIRTY in db.table_names():
        db.conn.execute(f"DELETE FROM {DIRTY} WHERE summary = ? AND key = ?", bulk_mark(table))


# --- reading and folding --------------------------------------------------------------------------


MAX_KEYS = 400  # more dirty keys than this are recomputed by one pass over everything (cheaper by then)


def _computed(db: Database, k: Keyed, keys: Sequence[str] | None) -> tuple[str, dict[str, str], str]:
    """SELECT of `k`'s rows computed from its datasets for dirty `keys` only (None: every key), its
    parameters, and the condition over the summary's own rows that these computed rows replace ('' for
    all). The keys are bound one by one (`IN (:k0, :k1)`): the summary's `narrow` writes that list into
    each arm of a UNION (SQLite did not push an outer WHERE there); a one-arm dataset gets it pushed down."""
    params, narrowed, replaced = _narrowing(k, keys)
    where = f"WHERE {k.key} IN ({', '.join(':' + p for p in params)})" if keys is not None else ""
    arms = []
    for dataset, constant in k.datasets:
        groups = ", ".join(f"{sql.format(direction=constant)} AS {name}" for name, sql in k.groups)
        aggs = ", ".join(f"{sql} AS {name}" for name, sql in k.aggregates)
        ds = _dataset(dataset)
        source_sql = sql_for(db, ds) if k.narrow is None else k.narrow(ds.name, narrowed)
        arms.append(f"SELECT {k.key} AS key, {groups}, {aggs} FROM ({source_sql}) "
                    f"{where} GROUP BY {', '.join(str(i + 1) for i in range(len(k.groups) + 1))}")
    return f"SELECT {', '.join(k.columns)} FROM ({' UNION ALL '.join(arms)})", params, replaced


def _narrowing(k: Keyed, keys: Sequence[str] | None) -> tuple[dict[str, str], Any, str]:
    """For dirty `keys`: the bound keys, what `narrow` gets (an SQL list; for a scoped summary one per
    source, a source without a list taking no row), and the condition over the summary's stored rows that
    the recomputed rows replace. A scoped key noted with its source (`upwell\x1fAcme`) is recomputed from
    that source alone; a key without one, from every source."""
    if keys is None:
        return {}, None, ""
    params: dict[str, str] = {}
    by_source: dict[str | None, list[str]] = {}
    for i, entry in enumerate(keys):
        source, sep, key = entry.partition(SEP)
        scoped = bool(sep and k.scoped)
        params[f"k{i}"] = key if scoped else entry
        by_source.setdefault(source if scoped else None, []).append(f":k{i}")
    if not k.scoped:
        listed = f"({', '.join(':' + p for p in params)})"
        return params, listed, f"key IN {listed}"
    every = by_source.pop(None, [])
    narrowed = {src: f"({', '.join([*every, *by_source.get(src, [])])})"
                for src in {s for _, s in k.scoped} if every or src in by_source}
    replaced = [f"key IN ({', '.join(every)})"] if every else []
    replaced += [f"(source = '{src}' AND key IN ({', '.join(names)}))" for src, names in by_source.items()]
    return params, narrowed, " OR ".join(replaced) or "0"


def _dirty_keys(db: Database, name: str) -> list[str] | None:
    """The dirty keys of summary `name`; None when everything is (`*`, or more than MAX_KEYS)."""
    keys = [key for (key,) in db.conn.execute(f"SELECT key FROM {DIRTY} WHERE summary = ? LIMIT ?",
                                                [name, MAX_KEYS + 1])]
    return None if ALL in keys or len(keys) > MAX_KEYS else keys


def answers(name: str, filters: Mapping[str, Any] | None) -> bool:
    """Whether summary `name` can answer a question filtered by `filters` (dataset filters). The orders
    summary keeps days: it answers date filters given as whole days (`2026-11-01`), not instants."""
    allowed = dict(KEYED[name].filters)
    days = name != ORDERS.name or all(v is None or (isinstance(v, str) and len(v) == 10)
                                      for f, v in (filters or {}).items() if f.startswith("order_date"))
    return days and all(f.partition("__")[0] in allowed for f in (filters or {}))


def select(db: Database, name: str, columns: str, filters: Mapping[str, Any] | None = None, *,
           group: str = "", order: str = "", params: Mapping[str, Any] | None = None,
           now: Any = None, rolled: bool = False) -> list[tuple[Any, ...]]:
    """`SELECT columns` over summary `name`'s rows (its rollup's, with `rolled`), filtered by dataset
    `filters` (only those `answers` says yes to), grouped and ordered: exact for the data as it is now."""
    k = KEYED[name]
    view = Dataset(name=k.table, sql="", columns=tuple(c for c, _ in k.filters), order_by="",
                   expressions=k.filters)
    where, bound = build_where(view, filters or {})
    tail = (f" GROUP BY {group}" if group else "") + (f" ORDER BY {order}" if order else "")
    return rows(db, name, columns=columns, where=where.removeprefix("WHERE "), tail=tail,
                params={**bound, **(params or {})}, now=now, as_dicts=False, rolled=rolled)


def rows(db: Database, name: str, *, columns: str = "*", where: str = "", tail: str = "",
         params: Mapping[str, Any] | None = None, now: Any = None, as_dicts: bool = True,
         rolled: bool = False) -> list[Any]:
    """Summary `name`'s rows (`SELECT columns ... WHERE where tail` over them), exact for the data as it
    is now: stored rows for clean keys, computed rows for dirty ones, read in one snapshot. `rolled`: the
    rollup's rows, where the parts (days) a dirty key had or has are summed again from the kept rows."""
    k = KEYED[name]
    decimal_sum(db)
    with _snapshot(db.conn):
        keys = _dirty_keys(db, name)
        computed, bound, replaced = _computed(db, k, keys)
        cols = ", ".join(k.columns)
        if rolled and keys is None:
            sql = k.sums(f"({computed})")
        elif rolled and not keys:
            sql = f"SELECT {', '.join(k.rolled_columns)} FROM {k.rolled}"
        elif rolled:  # the kept rollup, minus what the dirty keys' kept rows added, plus their rows now
            negated = ", ".join([*k.rollup, *(f"-{c}" for c, _ in k.aggregates)])
            rows_now = ", ".join(k.rolled_columns)
            sql = k.sums(f"(SELECT {rows_now} FROM {k.rolled} UNION ALL SELECT {negated} FROM {k.table} "
                         f"WHERE {replaced} UNION ALL SELECT {rows_now} FROM ({computed}))",
                         having=f"sum({k.aggregates[0][0]}) != 0")
        elif keys is None:
            sql = computed
        elif not keys:
            sql = f"SELECT {cols} FROM {k.table}"
        else:
            sql = f"SELECT {cols} FROM {k.table} WHERE NOT ({replaced}) UNION ALL {computed}"
        cursor = db.conn.execute(f"SELECT {columns} FROM ({sql}) {('WHERE ' + where) if where else ''}{tail}",
                                 {**clock(now), **bound, **(params or {})})
        if not as_dicts:
            return cursor.fetchall()
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def dirty(db: Database, name: str | None = None) -> dict[str, int]:
    """Dirty keys per summary (`*` counts as one)."""
    sql = f"SELECT summary, count(*) FROM {DIRTY} {'WHERE summary = ?' if name else ''} GROUP BY summary"
    return dict(db.conn.execute(sql, [name] if name else []).fetchall())


def fold(db: Database, now: Any = None) -> dict[str, int]:
    """Recompute and store the dirty keys' rows of every summary; returns the keys folded per summary.
    Each summary in its own transaction (a sync waits for one summary at most)."""
    if DIRTY not in db.table_names():
        return {}
    decimal_sum(db)
    done = {}
    for k in KEYED.values():
        if not db.conn.execute(f"SELECT 1 FROM {DIRTY} WHERE summary = ? LIMIT 1", [k.name]).fetchone():
            continue
        with transaction(db):
            count = db.conn.execute(f"SELECT count(*) FROM {DIRTY} WHERE summary = ?", [k.name]).fetchone()[0]
            keys = _dirty_keys(db, k.name)
            computed, bound, replaced = _computed(db, k, keys)
            parts: set[Any] = set()
            if k.rollup and keys:
                parts |= _parts(db, k, replaced, bound)
            if keys is None:
                db.conn.execute(f"DELETE FROM {k.table}")
            else:
                db.conn.execute(f"DELETE FROM {k.table} WHERE {replaced}", bound)
            db.conn.execute(f"INSERT INTO {k.table} ({', '.join(k.columns)}) {computed}", {**clock(now), **bound})
            if k.rollup and keys is None:
                db.conn.execute(f"DELETE FROM {k.rolled}")
                db.conn.execute(f"INSERT INTO {k.rolled} {k.sums(k.table)}")
            elif k.rollup and keys:
                parts |= _parts(db, k, replaced, bound)
                chosen = {"parts": json.dumps(sorted(parts))}
                inside = f"{k.rollup[0]} IN (SELECT value FROM json_each(:parts))"
                db.conn.execute(f"DELETE FROM {k.rolled} WHERE {inside}", chosen)
                db.conn.execute(f"INSERT INTO {k.rolled} {k.sums(k.table, 'WHERE ' + inside)}", chosen)
            db.conn.execute(f"DELETE FROM {DIRTY} WHERE summary = ?", [k.name])
        done[k.name] = count
    return done


def _parts(db: Database, k: Keyed, replaced: str, bound: Mapping[str, str]) -> set[Any]:
    """The rollup parts (e.g. days) the kept rows of these keys are in."""
    sql = f"SELECT DISTINCT {k.rollup[0]} FROM {k.table} WHERE {replaced}"
    return {part for (part,) in db.conn.execute(sql, bound)}


@contextlib.contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read snapshot for several statements (a deferred transaction), unless one is open already."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


# --- counts for paging -----------------------------------------------------------------------------

_COUNTED = {"receivables_outstanding": ("receivable",), "payables_outstanding": ("payable",),
            "invoices_outstanding": ("receivable", "payable")}


def count(db: Database, dataset: str, filters: Mapping[str, Any] | None, now: Any = None) -> int | None:
    """Rows of `dataset` matching `filters`, from a summary; None when no summary answers that question."""
    for counted, k, total in (("stock_levels", STOCK, "products"), ("business_orders", ORDERS, "orders")):
        if dataset == counted:
            if not answers(k.name, filters):
                return None
            return int(select(db, k.name, f"coalesce(sum({total}), 0)", filters, now=now, rolled=True)[0][0])
    if dataset not in _COUNTED:
        return None
    pinned = dict(filters or {})
    if "direction" not in pinned:
        pinned["direction__in"] = list(_COUNTED[dataset])
    for name in (BY_DUE.name, BY_PARTY.name):
        if answers(name, pinned):
            return int(select(db, name, "coalesce(sum(invoices), 0)", pinned, now=now)[0][0])
    return None
