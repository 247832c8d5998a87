"""Raw vendor JSON, compressed: the `raw` column at a fifth of its size (issue 12, "smaller files").

Every mirrored record keeps its vendor JSON in `raw` (for details and back-fills), and on the large
data set that JSON was most of the file. Records of one table share their keys and most of their
values' shapes, so each table gets a zlib preset dictionary, trained once from the first batch it
stores and kept in `raw_dicts` (migration 0011_perf); a record then compresses ~7x instead of ~2.5x.

One stored form for every table, in the same STRICT TEXT column (no table rebuild, no new column in
`SELECT *`): `z:<dict id>:<base64 of the raw deflate stream>`. Small records (compression would not
pay), rows written before this module and hand edits stay plain JSON; `decode(db, text)` returns the
JSON text for either.

`raw` is kept for audit and re-mapping only (issue 19): no dataset's SQL reads it, so how it is stored
never depends on that SQL. Every field a dataset reads is a column the mapper fills at write time
(sync/mappers.py); a new one is added and back-filled from `raw` by a migration, in Python through
`decode` (as 0023_raw_fields_as_columns does), never with `json_extract` on a compressed column.
tests/store/test_raw_columns.py keeps dataset SQL off `raw`. Exports read columns, never `raw`.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import zlib
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from store.changes import note_write
from store.db import transaction

PREFIX = "z:"
ENABLED = True  # bench/bench_sync.py turns it off to measure the size without it
MIN_BYTES = 64  # below this, base64 and the header eat the gain (a dictionary makes even 100-byte records 2-3x smaller)
_DICT_BYTES = 32 * 1024  # zlib's window: a longer dictionary is never used
_SAMPLE = 64  # records of the first batch that train a table's dictionary
# zlib level: 6. Level 5 costs 15-25 % less compression CPU (stock cards 9.5 -> 8.0 us, ERP orders 15.1 ->
# 11.7 us) but stores 2-4 % more raw bytes, which put a fresh sync of the large set at 0.50x its plain size,
# the bound (bench/bench_sync.py --db-size --fresh, 2026-11-29): not worth the margin.
_LEVEL = 6

_DICTS: dict[str, bytes] = {}  # dict id (content digest) -> dictionary; ids never change meaning


_PACKERS: dict[str, zlib._Compress] = {}  # dict id -> a compressor primed with it (copied per record)


def encode(text: str, dict_id: str, zdict: bytes) -> str:
    """`text` compressed with the table's dictionary (`z:<dict id>:<base64>`), or `text` itself when
    that does not pay.

    Priming a compressor with a 32 KB dictionary costs more than compressing a record, so one primed
    compressor per dictionary is copied for each record (~20 µs a record instead of ~50)."""
    data = text.encode()
    if len(data) < MIN_BYTES or is_packed(text):
        return text
    primed = _PACKERS.get(dict_id)
    if primed is None:
        primed = _PACKERS[dict_id] = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15, zdict=zdict)
    packer = primed.copy()
    # base64 (C) rather than base85 (Python): 7 % longer, several times faster.
    encoded = f"{PREFIX}{dict_id}:" + base64.b64encode(packer.compress(data) + packer.flush()).decode("ascii")
    return encoded if len(encoded) < len(text) else text


def pack_rows(db: Database, table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` (dicts with a `raw` JSON text) with their raw compressed, for writers that insert with
    their own SQL instead of `store.store.upsert_records`; call inside the write transaction."""
    found = table_dictionary(db, table, [r["raw"] for r in rows if isinstance(r.get("raw"), str)])
    if found is None:
        return rows
    return [{**r, "raw": encode(r["raw"], *found)} if isinstance(r.get("raw"), str) else r for r in rows]


def is_packed(text: str) -> bool:
    return text.startswith(PREFIX)


def decode(db: Database | sqlite3.Connection | None, text: str | None) -> str | None:
    """The JSON text of a stored `raw`, whether compressed or plain (None stays None)."""
    if not text or not is_packed(text):
        return text
    dict_id, _, body = text[len(PREFIX):].partition(":")
    unpacker = zlib.decompressobj(-15, zdict=_dictionary(db, dict_id))
    return (unpacker.decompress(base64.b64decode(body)) + unpacker.flush()).decode()


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


Packing = tuple[str, bytes]  # dict id, dictionary


def table_dictionary(db: Database, table: str, samples: Sequence[str]) -> Packing | None:
    """How to compress the table's raw: its dictionary, trained from `samples` and stored if it has
    none yet (call inside the writer's transaction). None when compression is off or there is
    nothing to learn yet."""
    if not ENABLED or "raw_dicts" not in db.table_names():
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


def compress_existing(db: Database, batch: int = 2_000) -> dict[str, int]:
    """Compress the plain raw JSON already stored (a database synced before this module, or with it off);
    returns rows compressed per table. Run `VACUUM` afterwards to give the space back to the disk."""
    done: dict[str, int] = {}
    for table in db.table_names():
        if "raw" in db[table].columns_dict:
            done[table] = _compress_table(db, table, batch)
    return done


def _compress_table(db: Database, table: str, batch: int) -> int:
    name = '"' + table.replace('"', '""') + '"'
    sample = [r for (r,) in db.conn.execute(
        f"SELECT raw FROM {name} WHERE raw NOT LIKE 'z:%' "
        f"ORDER BY random() LIMIT {_SAMPLE * 4}")]
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
        changed = [(encode(raw, *found), rowid) for rowid, raw in rows if raw and not is_packed(raw)]
        with transaction(db):
            db.conn.executemany(f"UPDATE {name} SET raw = ? WHERE rowid = ?", changed)
            note_write(db, table)
        count += len(changed)
