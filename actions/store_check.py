"""Whether two stores hold the same cache (actions/move_store.py runs it before it commits a move).

Three checks, each on both sides:
- the row count of every copied table;
- every row of every copied table equal, value by value (both read in primary-key order: SQLite's BINARY
  collation and PostgreSQL's C collation order text alike), so money text, minor units, timestamps and `raw`
  arrive exactly as stored;
- every dataset of store/datasets.py exported as JSON (exports/export.py, money as exact decimal text) at one
  clock: equal byte for byte, or else equal as canonical JSON (the same row objects, keys sorted, in any order:
  rows the dataset's ORDER BY ties may come back in either order). Anything else is a difference.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from itertools import zip_longest
from typing import Any

from sqlite_utils import Database

from exports.export import export
from store.datasets import DATASETS

_BATCH = 5_000


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    rows_equal: bool

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.rows_equal


@dataclass
class Comparison:
    tables: list[TableCheck] = field(default_factory=list)
    datasets_identical: list[str] = field(default_factory=list)  # the JSON export equal byte for byte
    datasets_canonical: list[str] = field(default_factory=list)  # equal rows, ties in another order
    datasets_differ: dict[str, str] = field(default_factory=dict)  # name -> what differs

    @property
    def tables_differ(self) -> list[str]:
        return [t.table for t in self.tables if not t.ok]

    @property
    def datasets_equal(self) -> int:
        return len(self.datasets_identical) + len(self.datasets_canonical)

    @property
    def ok(self) -> bool:
        return not self.tables_differ and not self.datasets_differ


def compare(src: Database, dst: Database, tables: list[str], now: datetime) -> Comparison:
    """Counts, rows and dataset exports of `src` against `dst`, datasets at the clock `now`."""
    result = Comparison([_table(src, dst, t) for t in tables])
    for name in DATASETS:
        if _digest_of_export(src, name, now) == _digest_of_export(dst, name, now):
            result.datasets_identical.append(name)
            continue
        ours, theirs = _export(src, name, now), _export(dst, name, now)  # held in memory only when they differ
        if _canonical(ours) == _canonical(theirs):
            result.datasets_canonical.append(name)
        else:
            result.datasets_differ[name] = _first_difference(ours, theirs)
    return result


def _table(src: Database, dst: Database, table: str) -> TableCheck:
    counts = [int(db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]) for db in (src, dst)]
    columns = list(src[table].columns_dict)
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'SELECT {names} FROM "{table}" ORDER BY {order_by(src, table)}'
    # a server-side cursor (inside the move's transaction): PostgreSQL's rows come BATCH at a time, not all at once
    with dst.conn.raw.cursor(name=f"compare_{table}") as theirs:  # type: ignore[attr-defined]
        theirs.execute(sql)
        equal = _same_rows(src.conn.execute(sql), theirs)
    return TableCheck(table, counts[0], counts[1], equal)


def order_by(db: Database, table: str) -> str:
    """The table's primary key (SQLite's rowid without one): the order both sides are read in."""
    keys = [c.name for c in sorted((c for c in db[table].columns if c.is_pk), key=lambda c: c.is_pk)]
    return ", ".join(f'"{k}"' for k in keys) if keys else "rowid"


def _same_rows(ours: Any, theirs: Any) -> bool:
    while True:
        a, b = ours.fetchmany(_BATCH), theirs.fetchmany(_BATCH)
        if not a and not b:
            return True
        if [tuple(r) for r in a] != [tuple(r) for r in b]:
            return False


class _Hashing:
    """A binary sink that keeps only the SHA-256 of what is written (a large dataset is never held)."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return len(data)

    def flush(self) -> None:
        pass


def _digest_of_export(db: Database, name: str, now: datetime) -> str:
    sink = _Hashing()
    export(db, name, "json", sink, now=now)  # type: ignore[arg-type]
    return sink.hash.hexdigest()


def _export(db: Database, name: str, now: datetime) -> bytes:
    out = io.BytesIO()
    export(db, name, "json", out, now=now)
    return out.getvalue()


def _canonical(data: bytes) -> list[str]:
    return sorted(json.dumps(row, sort_keys=True, ensure_ascii=False) for row in json.loads(data))


def _first_difference(ours: bytes, theirs: bytes) -> str:
    a, b = json.loads(ours), json.loads(theirs)
    if len(a) != len(b):
        return f"{len(a)} rows in the file, {len(b)} on the target"
    for number, (x, y) in enumerate(zip_longest(a, b), 1):
        if x != y:
            columns = sorted(k for k in x if x.get(k) != y.get(k))
            return f"row {number} differs in {', '.join(columns)} ({_digest(x)} / {_digest(y)})"
    return "equal numbers written differently (e.g. 1 and 1.0)"


def _digest(row: Any) -> str:
    """A short fingerprint, not the values: a row may hold personal data, and this is printed."""
    return hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest()[:8]
