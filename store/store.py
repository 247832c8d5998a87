"""Writes from the sync engine: idempotent upserts, sync-run bookkeeping, checkpoints.

`upsert_records` is the one write path for mirrored vendor records. It is idempotent (running a
page twice leaves the same rows) and reports how many rows were new and how many already there,
which `sync_runs` records. Identifiers (table, columns) cannot be bound parameters, so they are
checked against the live schema before being quoted into the statement; values are always bound.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from typing import Any

from sqlite_utils import Database

from store.changes import note_write
from store.db import is_postgres, iso, transaction, utcnow
from store.rawstore import encode, table_dictionary

# Keys per existence probe: far below SQLite's 32766 bound-variable limit.
_PROBE_CHUNK = 500


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    updated: int


def upsert_records(
    db: Database,
    table: str,
    rows: Iterable[Mapping[str, Any]],
    pk: str | Sequence[str],
    *,
    insert_only: Sequence[str] = (),
) -> UpsertResult:
    """Insert or update `rows` in one transaction.

    The column list is the union of the rows' keys: a row missing a key writes NULL there.
    `insert_only` columns are written on insert and kept on update (e.g. `first_seen_at`).
    `updated` counts rows whose key already existed, whether or not a value changed."""
    rows = list(rows)
    if not rows:
        return UpsertResult(0, 0)
    keys = [pk] if isinstance(pk, str) else list(pk)
    columns = list(dict.fromkeys(chain.from_iterable(rows)))  # every row's keys, in first-seen order
    _check_identifiers(db, table, [*columns, *keys, *insert_only])
    sql = _upsert_sql(table, columns, keys, insert_only)
    params = [_row_params(row, columns) for row in rows]
    key_positions = [columns.index(k) for k in keys]
    with transaction(db):
        note_write(db, table)  # figures reading `table` are out of date (store/changes.py)
        if "raw" in columns:
            params = _compress_raw(db, table, params, columns.index("raw"))
        # PostgreSQL has no rowid, and its writers do not queue on one lock: keys are looked up first
        last = None if is_postgres(db) or _writes_rowid(db, table, columns) else _last_rowid(db, table)
        if last is None:  # no usable rowid: look the keys up before writing
            distinct = {tuple(p[i] for i in key_positions) for p in params}
            inserted = len(distinct) - _count_existing(db, table, keys, distinct)
            db.conn.executemany(sql, params)
        else:
            db.conn.executemany(sql, params)
            inserted = _count_since(db, table, last)
    return UpsertResult(inserted, len(rows) - inserted)


def _compress_raw(db: Database, table: str, params: list[tuple[Any, ...]], at: int) -> list[tuple[Any, ...]]:
    """The rows with their raw vendor JSON compressed (store/rawstore.py), in the writer's transaction."""
    found = table_dictionary(db, table, [p[at] for p in params if isinstance(p[at], str)])
    if found is None:
        return params
    return [p[:at] + (encode(p[at], *found),) + p[at + 1:] if isinstance(p[at], str) else p for p in params]


def _upsert_sql(table: str, columns: list[str], keys: list[str], insert_only: Sequence[str]) -> str:
    cols = ", ".join(_q(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    mutable = [c for c in columns if c not in keys and c not in insert_only]
    action = (
        "DO UPDATE SET " + ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in mutable)
        if mutable else "DO NOTHING"
    )
    conflict = ", ".join(_q(k) for k in keys)
    return f"INSERT INTO {_q(table)} ({cols}) VALUES ({marks}) ON CONFLICT ({conflict}) {action}"


_MAX_ROWID = 2**63 - 1


def _last_rowid(db: Database, table: str) -> int | None:
    """The table's largest rowid before a write (0 when empty), or None when new rows' rowids may not
    be above it: a WITHOUT ROWID table, or one whose largest rowid is the maximum (SQLite then picks
    free rowids at random). Otherwise SQLite gives each new row a rowid above the largest (an upsert's
    update keeps the row's rowid), and the write lock keeps other writers out, so the rows above it
    after the write are exactly the ones this write inserted: counted from the rowid index in
    O(inserted), instead of looking every key up first (bench/bench_upsert.py)."""
    try:
        last = db.conn.execute(f"SELECT max(rowid) FROM {_q(table)}").fetchone()[0]
    except sqlite3.OperationalError:  # no rowid column
        return None
    if last is None:
        return 0
    return None if last >= _MAX_ROWID else int(last)


def _writes_rowid(db: Database, table: str, columns: list[str]) -> bool:
    """Whether `columns` include the table's INTEGER PRIMARY KEY (its rowid): a written rowid can be
    anywhere, so new rows are not the ones above the largest."""
    pks = [c for c in db[table].columns if c.is_pk]
    return len(pks) == 1 and pks[0].type.upper() == "INTEGER" and pks[0].name in columns


def _count_since(db: Database, table: str, last: int) -> int:
    return int(db.conn.execute(f"SELECT count(*) FROM {_q(table)} WHERE rowid > ?", [last]).fetchone()[0])


def _count_existing(db: Database, table: str, keys: list[str], distinct: set[tuple[Any, ...]]) -> int:
    """How many of these keys are already in the table, each looked up in the primary-key index.

    A single key uses `IN (?, ...)`; a composite key joins a VALUES list, because
    `(a, b) IN (VALUES ...)` would scan the whole index instead."""
    pending = list(distinct)
    found = 0
    for start in range(0, len(pending), _PROBE_CHUNK):
        chunk = pending[start:start + _PROBE_CHUNK]
        found += db.conn.execute(_probe_sql(table, keys, len(chunk)), [v for key in chunk for v in key]).fetchone()[0]
    return found


def _probe_sql(table: str, keys: list[str], n: int) -> str:
    if len(keys) == 1:
        return f"SELECT count(*) FROM {_q(table)} WHERE {_q(keys[0])} IN ({', '.join('?' * n)})"
    on = " AND ".join(f"t.{_q(k)} = v.column{i + 1}" for i, k in enumerate(keys))
    one = "(" + ", ".join("?" for _ in keys) + ")"
    return f"SELECT count(*) FROM (VALUES {', '.join([one] * n)}) AS v JOIN {_q(table)} AS t ON {on}"


def _check_identifiers(db: Database, table: str, columns: Iterable[str]) -> None:
    """Refuse a table or column the live schema does not have. The columns a connection saw are kept on it: on
    PostgreSQL reading them (information_schema) was an eighth of a sync's time (two checks per page, ~6 ms each,
    bench/bench_sync.py profiled). A name not among the kept ones reads the schema again before it is refused (a
    table or column added since); a column dropped since is refused by the database itself at the write."""
    wanted = set(columns)
    kept: dict[str, frozenset[str]] = vars(db).setdefault("_opsdash_columns", {})
    if wanted <= kept.get(table, frozenset()):
        return
    if table not in db.table_names():
        raise ValueError(f"unknown table {table!r}")
    kept[table] = known = frozenset(db[table].columns_dict)
    unknown = sorted(wanted - known)
    if unknown:
        raise ValueError(f"unknown columns for {table}: {', '.join(unknown)}")


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


_PLAIN = frozenset({str, int, float, type(None)})


def _row_params(row: Mapping[str, Any], columns: list[str]) -> tuple[Any, ...]:
    # The hot path of a sync (bench/bench_upsert.py): most rows hold only plain values, checked in
    # one C-level pass; only a row with another value goes through `_adapt` value by value.
    values = tuple(map(row.get, columns))
    if _PLAIN.issuperset(map(type, values)):
        return values
    return tuple(v if type(v) in _PLAIN else _adapt(v) for v in values)


def _adapt(value: Any) -> Any:
    """Python values to SQLite ones without a process-wide adapter (which would leak elsewhere)."""
    if value is None or isinstance(value, (str, int)):
        return int(value) if isinstance(value, bool) else value
    if isinstance(value, Decimal):
        return str(value)  # exact; an INTEGER column of a STRICT table rejects a fraction
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list, tuple)):
        return _JSON.encode(value)
    return value


# json.dumps(value, sort_keys=True, default=str), without building an encoder for every value
_JSON = json.JSONEncoder(sort_keys=True, default=str)


def mark_gone(db: Database, table: str, *, not_seen_since: str, now: datetime | None = None) -> int:
    """Stamp `gone_from_vendor_at` on rows a full sync pass no longer returned (Cargobase drops
    finished invoices from its list after 24 h: the row stays, as history)."""
    _check_identifiers(db, table, ["last_seen_at", "gone_from_vendor_at"])
    sql = (f"UPDATE {_q(table)} SET gone_from_vendor_at = ? "
           "WHERE last_seen_at < ? AND gone_from_vendor_at IS NULL")
    with transaction(db):
        note_write(db, table)
        return db.conn.execute(sql, [iso(now or utcnow()), not_seen_since]).rowcount


# --- sync runs and checkpoints (read by figures.freshness) -------------------------------------

def start_sync_run(db: Database, vendor: str, resource: str, now: datetime | None = None) -> int:
    sql = "INSERT INTO sync_runs (vendor, resource, started_at, status) VALUES (?, ?, ?, 'running')"
    with transaction(db):
        run_id = db.conn.execute(sql, [vendor, resource, iso(now or utcnow())]).lastrowid
    assert run_id is not None
    return run_id


def finish_sync_run(
    db: Database, run_id: int, *, pages: int = 0, inserted: int = 0, updated: int = 0,
    error: str | None = None, now: datetime | None = None,
) -> None:
    """Close a run: `ok` without an error, `error` with one (a message fit for staff, no secrets)."""
    sql = ("UPDATE sync_runs SET finished_at = ?, status = ?, pages = ?, inserted = ?, updated = ?, "
           "error = ? WHERE run_id = ?")
    status = "error" if error else "ok"
    with transaction(db):
        db.conn.execute(sql, [iso(now or utcnow()), status, pages, inserted, updated, error, run_id])


def get_checkpoint(db: Database, vendor: str, resource: str) -> dict[str, Any] | None:
    sql = "SELECT cursor, server_time, updated_at FROM sync_checkpoints WHERE vendor = ? AND resource = ?"
    row = db.conn.execute(sql, [vendor, resource]).fetchone()
    return None if row is None else {"cursor": row[0], "server_time": row[1], "updated_at": row[2]}


def set_checkpoint(
    db: Database, vendor: str, resource: str, cursor: str | None,
    server_time: str | None = None, now: datetime | None = None,
) -> None:
    row = {"vendor": vendor, "resource": resource, "cursor": cursor, "server_time": server_time,
           "updated_at": iso(now or utcnow())}
    upsert_records(db, "sync_checkpoints", [row], ("vendor", "resource"))
