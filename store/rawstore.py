"""Raw vendor JSON, compressed: the `raw` column at a fifth of its size (issue 12, "smaller files").

Every mirrored record keeps its vendor JSON in `raw` (for details and back-fills), and on the large
data set that JSON was most of the file. Records of one table share their keys and most of their
values' shapes, so each table gets a zlib preset dictionary, trained once from the first batch it
stores and kept in `raw_dicts` (migration 0011_perf); a record then compresses ~7x instead of ~2.5x.

Stored form, in the same STRICT TEXT column (no table rebuild, no new column in `SELECT *`):
`z:<dict id>:<base64 of the raw deflate stream>`. `decode(db, text)` returns the JSON text for either
form, so rows written before this module, small records (kept plain: compression would not pay)
and hand edits all read the same way.

Tables whose `raw` a dataset's SQL reads (found with an authorizer, as figures/stored.py finds the
tables a dataset reads) keep the keys that SQL extracts in plain JSON next to the compressed record:
`{"productCode": "SKU-1", "warehouseId": 44, "~z": "<dict id>:<base64>"}`, so
`json_extract(raw, '$.productCode')` reads the same value. When the SQL does anything else with
`raw` than `json_extract(raw, '$.key')`, those tables stay plain. Exports read columns, never
`raw`, so every exported value stays the same.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlite_utils import Database

from store.changes import note_write
from store.datasets import DATASETS
from store.db import transaction

_NAMED = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


def named_tables(sql: str) -> set[str]:
    """Table names after FROM/JOIN in `sql` (a cautious superset: CTE names are included)."""
    return set(_NAMED.findall(sql))


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


def encode(text: str, dict_id: str, zdict: bytes, keep: frozenset[str] | None = None) -> str:
    """`text` compressed with the table's dictionary, or `text` itself when that does not pay.

    `keep`: keys SQL reads from this table's raw, kept in plain JSON beside the compressed record.
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
    packed = f"{dict_id}:" + base64.b64encode(packer.compress(data) + packer.flush()).decode("ascii")
    encoded = PREFIX + packed if keep is None else _with_plain_keys(text, packed, keep)
    return encoded if encoded is not None and len(encoded) < len(text) else text


def pack_rows(db: Database, table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` (dicts with a `raw` JSON text) with their raw compressed, for writers that insert with
    their own SQL instead of `store.store.upsert_records`; call inside the write transaction."""
    found = table_dictionary(db, table, [r["raw"] for r in rows if isinstance(r.get("raw"), str)])
    if found is None:
        return rows
    return [{**r, "raw": encode(r["raw"], *found)} if isinstance(r.get("raw"), str) else r for r in rows]


def _with_plain_keys(text: str, packed: str, keep: frozenset[str]) -> str | None:
    """`{"key": value, ..., "~z": packed}`; None (store plain) unless every kept value is exact in JSON."""
    plain = _parsed_values(text, keep)
    if plain is None:
        return None
    return "{" + "".join(f'"{k}":{v},' for k, v in plain) + f'"{_PACKED_KEY}":"{packed}"}}'


def _parsed_values(text: str, keep: frozenset[str]) -> list[tuple[str, str]] | None:
    """The kept top-level keys' values as JSON text; None for a float (re-spelled, it might no longer
    be the vendor's number) or anything that is not a JSON object.

    orjson reads a record ~3x faster than `json` (a sync parses every stock card and order here), but
    reads an integer beyond 64 bits as a float and refuses NaN and lone surrogates, which `json` reads:
    any of those, or a float among the kept values, and `json`'s reading decides, so the stored text
    is the same either way."""
    try:
        plain = _kept(orjson.loads(text), keep)
    except orjson.JSONDecodeError:
        plain = None
    if plain is None or any(type(v) not in _EXACT for v in plain.values()):
        try:
            plain = _kept(json.loads(text), keep)
        except ValueError:
            return None
    if plain is None or any(type(v) not in _EXACT for v in plain.values()):
        return None  # a float would be re-spelled; keep the record as it came
    return [(k, json.dumps(v)) for k, v in plain.items()]


def _kept(record: Any, keep: frozenset[str]) -> dict[str, Any] | None:
    if not isinstance(record, dict) or _PACKED_KEY in record:
        return None
    return {k: record[k] for k in sorted(keep) if k in record}


_PACKED_KEY = "~z"
_EXACT = frozenset({str, int, bool, type(None)})


def is_packed(text: str) -> bool:
    return text.startswith(PREFIX) or (text.endswith('"}') and f'"{_PACKED_KEY}":"' in text)


def decode(db: Database | sqlite3.Connection | None, text: str | None) -> str | None:
    """The JSON text of a stored `raw`, whether compressed or plain (None stays None)."""
    if not text:
        return text
    if text.startswith(PREFIX):
        packed = text[len(PREFIX):]
    elif is_packed(text):
        packed = json.loads(text)[_PACKED_KEY]
    else:
        return text
    dict_id, _, body = packed.partition(":")
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


Packing = tuple[str, bytes, frozenset[str] | None]  # dict id, dictionary, keys kept plain (None: none)


def table_dictionary(db: Database, table: str, samples: Sequence[str]) -> Packing | None:
    """How to compress the table's raw: its dictionary, trained from `samples` and stored if it has
    none yet (call inside the writer's transaction), and the keys SQL reads from it. None when the
    table's raw must stay plain or there is nothing to learn yet."""
    if not ENABLED or "raw_dicts" not in db.table_names():
        return None
    readers, keys = sql_raw_usage(db)
    keep = None
    if table in readers:
        if keys is None:
            return None
        keep = keys
    row = db.conn.execute("SELECT dict_id, zdict FROM raw_dicts WHERE table_name = ?", [table]).fetchone()
    if row is not None:
        _DICTS.setdefault(row[0], row[1])
        return row[0], row[1], keep
    zdict = _train(samples)
    if not zdict:
        return None
    dict_id = hashlib.sha256(zdict).hexdigest()[:12]
    db.conn.execute("INSERT OR IGNORE INTO raw_dicts (dict_id, table_name, zdict) VALUES (?, ?, ?)",
                    [dict_id, table, zdict])
    _DICTS[dict_id] = zdict
    return dict_id, zdict, keep


def _train(samples: Sequence[str]) -> bytes:
    """A preset dictionary: records spread over the batch, most common content last (zlib favours
    the dictionary's end for the shortest distances)."""
    big = [s for s in samples if len(s) >= MIN_BYTES]
    if len(big) < 4:
        return b""
    step = max(1, len(big) // _SAMPLE)
    picked = big[::step][:_SAMPLE]
    return "\n".join(picked).encode()[-_DICT_BYTES:]


_USAGE: dict[int, tuple[frozenset[str], frozenset[str] | None]] = {}
_KEY_READ = re.compile(r"json_extract\(\s*(?:\w+\.)?raw\s*,\s*'\$\.([A-Za-z_][A-Za-z0-9_]*)'\s*\)", re.IGNORECASE)
_ANY_RAW = re.compile(r"(?<![\w'])(?:\w+\.)?raw\b")


def sql_raw_usage(db: Database) -> tuple[frozenset[str], frozenset[str] | None]:
    """(tables whose `raw` some dataset's SQL reads, the keys it reads with `json_extract(raw, '$.key')`,
    or None when the SQL uses `raw` any other way)."""
    schema = int(db.conn.execute("PRAGMA schema_version").fetchone()[0])
    if schema not in _USAGE:
        statements = [d.sql for d in DATASETS.values()]
        keys: set[str] = set()
        simple = True
        for sql in statements:
            keys.update(_KEY_READ.findall(sql))
            simple = simple and len(_ANY_RAW.findall(sql)) == len(_KEY_READ.findall(sql))
        _USAGE[schema] = (frozenset(_raw_readers(db.conn, statements)), frozenset(keys) if simple else None)
    return _USAGE[schema]


def sql_read_raw(db: Database) -> frozenset[str]:
    """Tables whose `raw` column some dataset's SQL reads."""
    return sql_raw_usage(db)[0]


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
    for table in db.table_names():
        if "raw" in db[table].columns_dict:
            done[table] = _compress_table(db, table, batch)
    return done


def _compress_table(db: Database, table: str, batch: int) -> int:
    name = '"' + table.replace('"', '""') + '"'
    sample = [r for (r,) in db.conn.execute(
        f"SELECT raw FROM {name} WHERE raw NOT LIKE 'z:%' AND raw NOT LIKE '%\"~z\":%' "
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
