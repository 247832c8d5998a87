"""Data versions: a counter per table, bumped by every committed write, so reads are invalidated by
writes instead of by a clock (issue 12).

Every table of the cache gets three triggers (after insert, update, delete) that add one to its row
in `data_versions` (migration 0011_perf). Triggers, not calls in each writer, because the writers
are many (sync upserts, webhook ingest, actions, jobs, hand edits in the sqlite3 shell) and a
forgotten bump would show stale figures; the bump is in the writer's own transaction, so a rolled
back write bumps nothing and a reader never sees new rows under an old version. The cost is a
small-table update per written row (~2 µs; a sync spends ~100 µs per record on the wire).

A dataset's version is the versions of the tables its SQL reads, found by preparing the SQL under
an authorizer (so a dataset rewritten in `store.datasets` needs no list kept here), plus the
business date for datasets that depend on "today" (days overdue, lateness).

`ensure_triggers` runs from `store.schema.migrate`: a migration that rebuilds a table drops its
triggers, and the next start puts them back.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable

from sqlite_utils import Database

from store.datasets import get_dataset
from store.db import transaction

VERSIONS_TABLE = "data_versions"
# Our own bookkeeping: a version of the versions would bump itself forever.
_UNVERSIONED = frozenset({VERSIONS_TABLE, "summaries", "raw_dicts", "_sqlite_migrations"})
_EVENTS = {"ins": "INSERT", "upd": "UPDATE", "del": "DELETE"}


def _versioned_tables(db: Database) -> list[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return [name for (name,) in rows.fetchall() if name not in _UNVERSIONED and not name.startswith("_")]


BULK_TABLE = "summary_dirty"  # store/keyed.py's table; a row (`@<table>`, `*`) marks <table> written in bulk
BULK_PREFIX = "@"


def bulk_mark(table: str) -> tuple[str, str]:
    """The (summary, key) row meaning "<table> is being written in bulk in this transaction": its writer
    bumped the version once (store/keyed.py `mark_all`), so the row triggers need not, row by row."""
    return f"{BULK_PREFIX}{table}", "*"


def _trigger_sql(table: str, event: str, bulk: bool) -> str:
    name = _q(f"dv_{table}_{event}")
    summary, key = bulk_mark(table)
    when = (f" WHEN NOT EXISTS (SELECT 1 FROM {BULK_TABLE} WHERE summary = '{_literal(summary)}' AND key = '{key}')"
            if bulk else "")
    return (f"CREATE TRIGGER {name} AFTER {_EVENTS[event]} ON {_q(table)}{when} BEGIN "
            f"UPDATE {VERSIONS_TABLE} SET version = version + 1 WHERE name = '{_literal(table)}'; END")


def ensure_triggers(db: Database) -> list[str]:
    """Create the missing version rows and triggers (and re-create those whose SQL changed); returns the
    tables that got any. Read-only when every table has them (the common case at each start)."""
    if VERSIONS_TABLE not in db.table_names():
        return []

    def missing() -> dict[str, list[str]]:
        have = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
        rows = {n for (n,) in db.execute(f"SELECT name FROM {VERSIONS_TABLE}").fetchall()}
        bulk = BULK_TABLE in db.table_names()
        wanted = {t: [e for e in _EVENTS if have.get(f"dv_{t}_{e}") != _trigger_sql(t, e, bulk)]
                  for t in _versioned_tables(db)}
        return {t: events for t, events in wanted.items() if events or t not in rows}

    if not missing():
        return []
    with transaction(db):
        todo = missing()  # again under the write lock: another process may have done it
        bulk = BULK_TABLE in db.table_names()
        for table, events in todo.items():
            db.execute(f"INSERT OR IGNORE INTO {VERSIONS_TABLE} (name, version) VALUES (?, 0)", [table])
            for event in events:
                db.execute(f"DROP TRIGGER IF EXISTS {_q(f'dv_{table}_{event}')}")
                db.execute(_trigger_sql(table, event, bulk))
    return sorted(todo)


def table_versions(db: Database) -> dict[str, int]:
    """Every table's current version (one small read)."""
    if VERSIONS_TABLE not in db.table_names():
        return {}
    return dict(db.execute(f"SELECT name, version FROM {VERSIONS_TABLE}").fetchall())


def dataset_tables(db: Database, name: str) -> tuple[str, ...]:
    """The tables dataset `name`'s SQL reads (cached per SQL text)."""
    return _tables_read(db.conn, get_dataset(name).sql)


_TABLES_READ: dict[tuple[str, int], tuple[str, ...]] = {}


def _tables_read(conn: sqlite3.Connection, sql: str) -> tuple[str, ...]:
    key = (sql, int(conn.execute("PRAGMA schema_version").fetchone()[0]))
    if key not in _TABLES_READ:
        _TABLES_READ[key] = _authorized_reads(conn, sql)
    return _TABLES_READ[key]


def _authorized_reads(conn: sqlite3.Connection, sql: str) -> tuple[str, ...]:
    seen: set[str] = set()

    def authorize(action: int, arg1: str | None, *_: object) -> int:
        if action == sqlite3.SQLITE_READ and arg1:
            seen.add(arg1)
        return sqlite3.SQLITE_OK

    conn.set_authorizer(authorize)
    try:
        # EXPLAIN prepares the statement (running the authorizer) without reading a row.
        conn.execute(f"EXPLAIN {sql}", {"today": "2000-01-01", "now": "2000-01-01T00:00:00.000Z"}).fetchall()
    except sqlite3.Error:  # a table this database does not have yet: the names in the text
        seen.update(named_tables(sql))
    finally:
        conn.set_authorizer(None)
    return tuple(sorted(seen - _UNVERSIONED - {"sqlite_master"}))


_NAMED = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


def named_tables(sql: str) -> set[str]:
    """Table names after FROM/JOIN in `sql` (a cautious superset: CTE names are included)."""
    return set(_NAMED.findall(sql))


def dataset_version(db: Database, names: Iterable[str], today: str | None = None,
                    versions: dict[str, int] | None = None) -> str:
    """A token that changes whenever a table read by any of `names` is written (and with `today`).

    Equal tokens mean equal data: a cached result keyed on it never needs a clock."""
    current = table_versions(db) if versions is None else versions
    tables = sorted({t for name in names for t in dataset_tables(db, name)})
    parts = [f"{t}={current.get(t, 0)}" for t in tables]
    return ";".join([*parts, f"today={today}"] if today else parts)


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return text.replace("'", "''")
