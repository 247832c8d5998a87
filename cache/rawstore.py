"""Raw vendor JSON, compressed: the `raw` column at a fifth of its size (issue 12, "smaller files").

Every mirrored record keeps its vendor JSON in `raw` (for details and back-fills), and on the large
data set that JSON was most of the file. Records of one table share their keys and most of their
values' shapes, so each table gets a zlib preset dictionary, trained once from the first batch it
stores and kept in `raw_dicts` (migration 0011_perf); a record then compresses ~7x instead of ~2.5x.

Stored form, in the same STRICT TEXT column (no table rebuild, no new column in `SELECT *`):
`z:<dict id>:<base64 of the raw deflate stream>`. `decode(db, text)` returns the JSON text for either
form, so rows written before this module, small records (kept plain: compression would not pay)
and hand edits all read the same way.

Not compressed: tables whose `raw` a dataset's SQL reads with `json_extract` (found with an
authorizer, as `cache.versions` finds the tables a dataset reads) — SQL cannot read the
compressed form. Exports read columns, never `raw`, so every exported value stays the same.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sqlite3
import zlib
from collections.abc import Iterable, Sequence

from sqlite_utils import Database

from cache.datasets import DATASETS
from cache.db import transaction
from cache.versions import named_tables

PREFIX = "z:"
ENABLED = True  # bench/bench_sync.py turns it off to measure the size without it
MIN_BYTES = 200  # below this, base85 and the header eat the gain
_DICT_BYTES = 32 * 1024  # zlib's window: a longer dictionary is never used
_SAMPLE = 64  # records of the first batch that train a table's dictionary
_LEVEL = 6

_DICTS: dict[str, bytes] = {}  # dict id (content digest) -> dictionary; ids never change meaning


_PACKERS: dict[str, zlib._Compress] = {}  # dict id -> a compressor primed with it (copied per record)


def encode(text: str, dict_id: str, zdict: bytes) -> str:
    """`text` compressed with the table's dictionary, or `text` itself when that does not pay.

    Priming a compressor with a 32 KB dictionary costs more than compressing a record, so one primed
    compressor per dictionary is copied for each record (~20 µs a record instead of ~50)."""
    data = text.encode()
    if len(data) < MIN_BYTES:
        return text
    primed = _PACKERS.get(dict_id)
    if primed is None:
        primed = _PACKERS[dict_id] = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15, zdict=zdict)
    packer = primed.copy()
    # base64 (C) rather than base85 (Python): 7 % longer, several times faster.
    packed = base64.b64encode(packer.compress(data) + packer.flush()).decode("ascii")
    encoded = f"{PREFIX}{dict_id}:{packed}"
    return encoded if len(encoded) < len(text) else text


def decode(db: Database | sqlite3.Connection | None, text: str | None) -> str | None:
    """The JSON text of a stored `raw`, whether compressed or plain (None stays None)."""
    if not text or not text.startswith(PREFIX):
        return text
    dict_id, _, packed = text[len(PREFIX):].partition(":")
    unpacker = zlib.decompressobj(-15, zdict=_dictionary(db, dict_id))
    return (unpacker.decompress(base64.b64decode(packed)) + unpacker.flush()).decode()


def _dictionary(db: Database | sqlite3.Connection | None, dict_id: str) -> bytes:
    if dict_id not in _DICTS:
        if db is None:
            raise ValueError(f"compressed raw JSON needs its dictionary {dict_id}: pass the database")
        conn = db.conn if isinstance(db, Database) else db
        row = conn.execute("SELECT zdict FROM raw_dicts WHERE dict_id = ?", [dict_id]).fetchone()
        if row is None:
            raise ValueError(f"raw JSON dictionary {dict_id} is missing from raw_dicts")
        _DICTS[dict_id] = row[0]
    return _DICTS[dict_id]


def table_dictionary(db: Database, table: str, samples: Sequence[str]) -> tuple[str, bytes] | None:
    """The table's dictionary, trained from `samples` and stored if it has none yet (call inside
    the writer's transaction). None when the table's raw must stay plain or there is nothing to learn."""
    if not ENABLED or "raw_dicts" not in db.table_names() or table in sql_read_raw(db):
        return None
    row = db.conn.execute("SELECT dict_id, zdict FROM raw_dicts WHERE table_name = ?", [table]).fetchone()
    if row is not None:
        _DICTS.setdefault(row[0], row[1])
        return row[0], row[1]
    zdict = _train(samples)
    if not zdict:
        return None
    dict_id = hashlib.sha256(zdict).hexdigest()[:12]
    db.conn.execute("INSERT OR IGNORE INTO raw_dicts (dict_id, table_name, zdict) VALUES (?, ?, ?)",
                    [dict_id, table, zdict])
    _DICTS[dict_id] = zdict
    return dict_id, zdict


def _train(samples: Sequence[str]) -> bytes:
    """A preset dictionary: records spread over the batch, most common content last (zlib favours
    the dictionary's end for the shortest distances)."""
    big = [s for s in samples if len(s) >= MIN_BYTES]
    if len(big) < 4:
        return b""
    step = max(1, len(big) // _SAMPLE)
    picked = big[::step][:_SAMPLE]
    return "\n".join(picked).encode()[-_DICT_BYTES:]


_READ_RAW: dict[int, frozenset[str]] = {}


def sql_read_raw(db: Database) -> frozenset[str]:
    """Tables whose `raw` column some dataset's SQL reads (kept plain JSON)."""
    schema = int(db.conn.execute("PRAGMA schema_version").fetchone()[0])
    if schema not in _READ_RAW:
        _READ_RAW[schema] = frozenset(_raw_readers(db.conn, (d.sql for d in DATASETS.values())))
    return _READ_RAW[schema]


def _raw_readers(conn: sqlite3.Connection, statements: Iterable[str]) -> set[str]:
    tables: set[str] = set()

    def authorize(action: int, table: str | None, column: str | None, *_: object) -> int:
        if action == sqlite3.SQLITE_READ and table and column == "raw":
            tables.add(table)
        return sqlite3.SQLITE_OK

    params = {"today": "2000-01-01", "now": "2000-01-01T00:00:00.000Z"}
    conn.set_authorizer(authorize)
    try:
        for sql in statements:
            try:
                conn.execute(f"EXPLAIN {sql}", params).fetchall()
            except sqlite3.Error:  # a table this database does not have yet: judge by the text, cautiously
                if re.search(r"\braw\b", sql):
                    tables.update(named_tables(sql))
    finally:
        conn.set_authorizer(None)
    return tables


def compress_existing(db: Database, batch: int = 2_000) -> dict[str, int]:
    """Compress the plain raw JSON already stored (a database synced before this module, or with it off);
    returns rows compressed per table. Run `VACUUM` afterwards to give the space back to the disk."""
    done: dict[str, int] = {}
    readers = sql_read_raw(db)
    for table in db.table_names():
        if table in readers or "raw" not in db[table].columns_dict:
            continue
        done[table] = _compress_table(db, table, batch)
    return done


def _compress_table(db: Database, table: str, batch: int) -> int:
    name = '"' + table.replace('"', '""') + '"'
    sample = [r for (r,) in db.conn.execute(
        f"SELECT raw FROM {name} WHERE raw NOT LIKE 'z:%' ORDER BY random() LIMIT {_SAMPLE * 4}")]
    count, last = 0, 0
    with transaction(db):
        found = table_dictionary(db, table, sample)
    if found is None:
        return 0
    while True:
        rows = db.conn.execute(f"SELECT rowid, raw FROM {name} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                               [last, batch]).fetchall()
        if not rows:
            return count
        last = rows[-1][0]
        changed = [(encode(raw, *found), rowid) for rowid, raw in rows if raw and not raw.startswith(PREFIX)]
        with transaction(db):
            db.conn.executemany(f"UPDATE {name} SET raw = ? WHERE rowid = ?", changed)
        count += len(changed)
