"""The dataset registry (ARCHITECTURE.md, "Datasets (contract)"): name -> SQL, columns, order, sources.

Each dataset is defined once, in its role's module of store/dataset_sql/ (orders.py, invoices.py,
stock_and_fleet.py, local.py; `Dataset` and `minor_text` in base.py), and registered here under its
contract name; their public names are re-exported from here, so `from store.datasets import X` reads any.
A new dataset: its definition in the module of its role, its entry in `DATASETS` below.

Datasets are SELECT statements kept here, in the query layer, rather than SQLite views: several
depend on "today" (`days_overdue`, lateness, current unavailabilities), and a view cannot take a
parameter. Each statement may use the named parameters `:today` (YYYY-MM-DD, the business date
of store/calendar.py) and `:now` (UTC ISO timestamp), which `store.queries` binds from a passed-in
clock, so tests fix the date.

Money columns of vendor tables are integer minor units next to `currency`. In the outstanding lists
(`receivables_outstanding`, `payables_outstanding`, their union `invoices_outstanding`) `amount_due`
is exact decimal TEXT for every source ("120.00", JPY "5000"; Qasida sends decimals of any precision,
"12.345"), which `store.queries.format_minor` and `exports.export.money_value` read as a decimal.
Cargobase's list has no amounts (seeds/004 lines 22-30): its `amount_due` and `currency` are NULL
rather than a guess. Sums are exact (`figures.kpis.decimal_sum`), never SQLite's float `sum`.

`columns` is the output schema (a test checks it against the SQL); `filterable` whitelists the
column names a caller may filter or sort on; `sources` maps the dataset to the (vendor, resource)
pairs whose sync freshness it shows.

For ad-hoc SQL (the sqlite3 shell, a notebook) `ensure_views` also installs each derived dataset
as a view of the same name, with `:today`/`:now` read from the clock (`date('now')`, UTC). The
application reads through `store.queries`, which binds the clock instead. Datasets that are a
projection of a table of the same name (jobs, audit_log, ...) need no view: the table is there.
"""

from __future__ import annotations

import re

from sqlite_utils import Database

from store.dataset_sql.base import CURRENCY_EXPONENTS, Dataset, Source, minor_text
from store.dataset_sql.invoices import (
    CARRIER_INVOICES,
    EXACT_AMOUNT,
    INVOICES_OUTSTANDING,
    PAYABLES,
    RECEIVABLES,
)
from store.dataset_sql.local import LOCAL
from store.dataset_sql.orders import BUSINESS_ORDERS, ORDERS, expected_late_on, late_on
from store.dataset_sql.stock_and_fleet import RESOURCES, STOCK_LEVELS
from store.db import transaction

__all__ = [
    "BUSINESS_ORDERS", "CARRIER_INVOICES", "CONTRACT_NAMES", "CURRENCY_EXPONENTS", "DATASETS", "EXACT_AMOUNT",
    "INVOICES_OUTSTANDING", "LOCAL", "ORDERS", "PAYABLES", "RECEIVABLES", "RESOURCES", "STOCK_LEVELS", "Dataset",
    "Source", "ensure_views", "expected_late_on", "get_dataset", "late_on", "minor_text", "sql_for",
]

DATASETS: dict[str, Dataset] = {
    d.name: d for d in (ORDERS, BUSINESS_ORDERS, RECEIVABLES, PAYABLES, INVOICES_OUTSTANDING,
                        CARRIER_INVOICES, STOCK_LEVELS, RESOURCES, *LOCAL)
}

CONTRACT_NAMES = ("orders", "order_uploads", "invoices_outstanding", "carrier_invoices", "stock_levels",
                  "resources", "tax_calculations", "tax_id_validations", "sync_runs", "jobs",
                  "audit_log", "webhook_events", "receivables_outstanding", "payables_outstanding",
                  "business_orders")


def sql_for(db: Database, dataset: Dataset) -> str:
    """The dataset's SQL for this database: an optional table that is missing, or lacks a column
    the SQL reads, is replaced by an empty SELECT (so a figure degrades to "none"/"unknown")."""
    sql = dataset.sql
    for table, columns, empty in dataset.optional:
        present = set(db[table].columns_dict)  # empty when the table is missing (either database)
        if not set(columns) <= present:
            sql = re.sub(rf"\b{table}\b", f"({empty})", sql)
    return sql


def get_dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise KeyError(f"unknown dataset {name!r}; known datasets: {known}") from None


def _view_sql(dataset: Dataset) -> str:
    body = (dataset.sql.replace(":today", "date('now')")
            .replace(":now", "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"))
    return f"CREATE VIEW {dataset.name} AS {body}"


def ensure_views(db: Database) -> list[str]:
    """(Re)create the views whose SQL changed; returns their names. Read-only when none did."""
    tables = set(db.table_names())
    wanted = {d.name: _view_sql(d) for d in DATASETS.values() if d.name not in tables}

    def changed() -> list[str]:
        current = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall())
        return [name for name, sql in wanted.items() if current.get(name) != sql]

    if not changed():
        return []
    with transaction(db):
        names = changed()  # again under the write lock: another process may have done it
        for name in names:
            db.execute(f"DROP VIEW IF EXISTS {name}")
            db.execute(wanted[name])
    return names
