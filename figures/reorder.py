"""Reorder levels: ours, not the ERP's (issue 9 point 4: the ERP document has no reorder level).

One level per ERP product code, with an optional per-warehouse override: the table
`reorder_levels` (migration 0008) keys on (product_code, warehouse_id), `warehouse_id` '' meaning
every warehouse. In `stock_levels` (store/datasets.py) a per-warehouse row wins over the
every-warehouse row. `lead_time_days` (optional) is how long a reorder takes to arrive; it decides
`runs_out_before_next_delivery`.

CSV (`opsdash reorder-levels import FILE | export`): `product_code,warehouse,reorder_level`, plus an
optional `lead_time_days` column. `warehouse` is the warehouse's number (code) or name from the
ERP; blank = every warehouse. An import is all or nothing: every bad row is reported with its line
number and nothing is written when any is bad. Rows in the file are added or replace the level
already kept for the same product and warehouse; levels not in the file stay.

Bounds (issue 22): numbers go through the bounded parser of services/types.py (`1e999999` is refused,
never stored as infinity); a value longer than `MAX_CELL_CHARS` or holding a control character (NUL...)
is refused with its line and column; the export neutralises text a spreadsheet would run as a formula
(`figures.cells.neutralise`, the `'` prefix), and the import takes that prefix off again.

Writes here are plain cache writes; the role check and the audit entry are in actions/reorder.py.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import PydanticCustomError
from sqlite_utils import Database

from figures.cells import DANGEROUS_START, neutralise
from services.types import to_decimal
from store.changes import note_write
from store.db import iso, transaction, utcnow

HEADER = ("product_code", "warehouse", "reorder_level", "lead_time_days")
REQUIRED = HEADER[:3]
MAX_BYTES = 5 * 1024 * 1024
MAX_CELL_CHARS = 200  # a product code or warehouse name; a level is a short number
_CONTROL = {chr(c) for c in range(32)}


@dataclass(frozen=True)
class Level:
    product_code: str
    warehouse_id: str  # '' = every warehouse
    reorder_level: float
    lead_time_days: float | None = None


class ReorderLevelError(ValueError):
    """Bad reorder-level input: `problems` lists every bad row as "line N: what is wrong"."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} bad row(s), nothing imported:\n" + "\n".join(self.problems))


def warehouses(db: Database) -> dict[str, str]:
    """Warehouse number (code), name and id, each (case-folded) -> warehouse id."""
    found: dict[str, str] = {}
    for warehouse_id, code, name in db.conn.execute("SELECT warehouse_id, code, name FROM qasida_warehouses"):
        for key in (name, code, warehouse_id):  # id and code win over a name that happens to equal them
            if key:
                found[str(key).strip().casefold()] = str(warehouse_id)
    return found


def _number(text: str, what: str, *, required: bool) -> tuple[float | None, str | None]:
    """A non-negative decimal; returns (value, problem)."""
    text = text.strip()
    if not text:
        return None, (f"{what} is missing" if required else None)
    try:
        value = to_decimal(text)  # bounded: digits, decimals and magnitude checked before any arithmetic
    except PydanticCustomError as exc:
        if exc.type == "number_range":
            return None, f"{what}: {exc.message()}"
        return None, f"{what} {text!r} is not a number"
    if value < 0:
        return None, f"{what} {text!r} must be zero or more"
    return float(value), None  # a quantity (REAL column), not money; below 10^19, so finite


def _text(raw: Mapping[str, Any], column: str) -> tuple[str, str | None]:
    """A text cell, stripped, and what is wrong with it: too long or a control character (NUL...)."""
    text = str(raw.get(column) or "").strip()
    if len(text) > MAX_CELL_CHARS:
        return "", f"{column} is {len(text):,} characters long; at most {MAX_CELL_CHARS}"
    bad = next((ch for ch in text if ch in _CONTROL), None)
    if bad is not None:
        return "", f"{column} holds a control character (U+{ord(bad):04X}): remove it"
    if text[:1] == "'" and text[1:2] in DANGEROUS_START:
        text = text[1:]  # the export's formula guard, read back
    return text, None


def _cell(raw: Mapping[str, Any], name: str) -> str:
    """A cell as text; a level of 0 from the Stock page's editor is 0, not missing (issue 21)."""
    value = raw.get(name)
    return "" if value is None else str(value)


def parse_row(raw: Mapping[str, Any], known: Mapping[str, str]) -> tuple[Level | None, list[str]]:
    """One row (CSV or the Stock page's editor) as a `Level`, or what is wrong with it."""
    (code, bad_code), (warehouse, bad_warehouse) = _text(raw, "product_code"), _text(raw, "warehouse")
    problems = [p for p in (bad_code, bad_warehouse) if p]
    if not code and not bad_code:
        problems.append("product_code is missing")
    warehouse_id = known.get(warehouse.casefold(), "") if warehouse else ""
    if warehouse and not warehouse_id:
        problems.append(f"warehouse {warehouse!r} is not a known warehouse number or name")
    level, problem = _number(_cell(raw, "reorder_level"), "reorder_level", required=True)
    lead, lead_problem = _number(_cell(raw, "lead_time_days"), "lead_time_days", required=False)
    problems += [p for p in (problem, lead_problem) if p]
    if problems or level is None:
        return None, problems
    return Level(code, warehouse_id, level, lead), []


def parse_csv(text: str, known: Mapping[str, str]) -> list[Level]:
    """Every row of a CSV, or `ReorderLevelError` naming each bad line (line 1 is the header)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ReorderLevelError([f"line 1: the header needs {', '.join(REQUIRED)}; missing {', '.join(missing)}"])
    reader.fieldnames = header
    levels: list[Level] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in _lines(reader):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a blank line
        level, wrong = parse_row(row, known)
        if level is not None and (level.product_code, level.warehouse_id) in seen:
            wrong = [f"repeats the product and warehouse of line {seen[(level.product_code, level.warehouse_id)]}"]
        problems += [f"line {line}: {p}" for p in wrong]
        if level is not None and not wrong:
            seen[(level.product_code, level.warehouse_id)] = line
            levels.append(level)
    if problems:
        raise ReorderLevelError(problems)
    return levels


def _lines(reader: csv.DictReader[str]) -> Iterable[tuple[int, dict[str, Any]]]:
    """(line number, row); a malformed CSV (a field over 131,072 characters, a NUL in Python < 3.11)
    is one problem naming its line, not a traceback."""
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise ReorderLevelError([f"line {reader.line_num + 1}: the CSV is malformed ({exc})"]) from None


def read_file(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ReorderLevelError([f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB"])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReorderLevelError([f"the file is not UTF-8 text (byte {exc.start})"]) from None


def upsert(db: Database, levels: Iterable[Level], actor: str, now: datetime | None = None) -> int:
    """Add or replace levels (one transaction); returns how many rows were written."""
    at = iso(now or utcnow())
    rows = [[lv.product_code, lv.warehouse_id, lv.reorder_level, lv.lead_time_days, at, actor] for lv in levels]
    with transaction(db):
        note_write(db, "reorder_levels")
        db.conn.executemany(
            "INSERT INTO reorder_levels (product_code, warehouse_id, reorder_level, lead_time_days, updated_at, "
            "updated_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (product_code, warehouse_id) DO UPDATE SET "
            "reorder_level = excluded.reorder_level, lead_time_days = excluded.lead_time_days, "
            "updated_at = excluded.updated_at, updated_by = excluded.updated_by", rows)
    return len(rows)


def replace_all(db: Database, levels: Iterable[Level], actor: str, now: datetime | None = None) -> int:
    """The Stock page's editor saves the whole table: what was removed there goes here too."""
    wanted = list(levels)
    with transaction(db):
        note_write(db, "reorder_levels")
        db.conn.execute("DELETE FROM reorder_levels")
        upsert(db, wanted, actor, now)
    return len(wanted)


def rows(db: Database) -> list[dict[str, Any]]:
    """Every level as the CSV shows it (warehouse by number, else name, else id; '' = every warehouse)."""
    cursor = db.conn.execute("""
        SELECT r.product_code, CASE WHEN r.warehouse_id = '' THEN ''
                                    ELSE coalesce(w.code, w.name, r.warehouse_id) END AS warehouse,
               r.reorder_level, r.lead_time_days, r.updated_at, r.updated_by
        FROM reorder_levels AS r LEFT JOIN qasida_warehouses AS w ON w.warehouse_id = r.warehouse_id
        ORDER BY r.product_code, r.warehouse_id""")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor]


def _plain(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def export_csv(db: Database) -> str:
    """The levels as CSV text (`HEADER` columns), the same shape `parse_csv` reads back."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows(db):
        writer.writerow([neutralise(row["product_code"]), neutralise(row["warehouse"]),
                         _plain(row["reorder_level"]), _plain(row["lead_time_days"])])
    return buffer.getvalue()


def without_level(db: Database) -> int:
    """How many stock items have no reorder level set ("no level set", never "fine")."""
    from store.queries import query_dataset

    return query_dataset(db, "stock_levels", {"reorder_level": None}, limit=0).total
