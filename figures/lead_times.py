"""Lead times per warehouse, and the default for every warehouse: ours, not the ERP's (issue 21).

"Runs out before the next delivery" (store/datasets.py `stock_levels`) compares an item's days of cover with
how long a reorder takes to arrive. The ERP document has no lead-time, supplier-delivery or purchase-order
field (seeds/003: stock cards, products and warehouses carry none; docs/vendor-readings.md), so that time is
kept in opsdash, most specific first:
1. the product's, next to its reorder level (`reorder_levels.lead_time_days`, per warehouse or for all);
2. the warehouse's (`lead_times` row with its `warehouse_id`);
3. the default (`lead_times` row with `warehouse_id` ''), which migration 0024 sets to `DEFAULT_DAYS`.

The default row always stays (a save without it is refused): without it, items with no product or warehouse
lead time would read "unknown". Writes note `lead_times` (store/changes.py) so stored figures are rebuilt;
the role check and the audit entry are in actions/lead_times.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from figures.reorder import _number
from store.changes import note_write
from store.db import iso, transaction, utcnow

DEFAULT_DAYS = 7.0  # what migration 0024 sets: a week, until someone who knows the suppliers says otherwise
COLUMNS = ("warehouse", "lead_time_days")


class LeadTimeError(ValueError):
    """Bad lead-time rows: `problems` names each ("row 2: ..."); nothing was saved."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s), nothing saved:\n" + "\n".join(self.problems))


def rows(db: Database) -> list[dict[str, Any]]:
    """Every lead time as staff read it: warehouse by number (else name, else id), '' = every warehouse."""
    cursor = db.conn.execute("""
        SELECT CASE WHEN t.warehouse_id = '' THEN '' ELSE coalesce(w.code, w.name, t.warehouse_id) END,
               t.lead_time_days, t.updated_at, t.updated_by
        FROM lead_times AS t LEFT JOIN qasida_warehouses AS w ON w.warehouse_id = t.warehouse_id
        ORDER BY t.warehouse_id""")
    return [dict(zip((*COLUMNS, "updated_at", "updated_by"), r, strict=True)) for r in cursor]


def parse(edited: Sequence[Mapping[str, Any]], known: Mapping[str, str]) -> list[tuple[str, float]]:
    """(warehouse id, days) per row, or `LeadTimeError` naming every bad row; blank rows are skipped."""
    found: dict[str, float] = {}
    problems: list[str] = []
    for number, row in enumerate(edited, start=1):
        warehouse = str(row.get("warehouse") or "").strip()
        days_text = "" if row.get("lead_time_days") is None else str(row.get("lead_time_days"))
        if not warehouse and not days_text.strip() and number > 1:
            continue  # an empty row the editor added
        warehouse_id = known.get(warehouse.casefold(), "") if warehouse else ""
        days, problem = _number(days_text, "lead_time_days", required=True)
        wrong = [problem] if problem else []
        if warehouse and not warehouse_id:
            wrong.append(f"warehouse {warehouse!r} is not a known warehouse number or name")
        if not wrong and warehouse_id in found:
            wrong.append("repeats a warehouse of an earlier row")
        problems += [f"row {number}: {p}" for p in wrong]
        if not wrong and days is not None:
            found[warehouse_id] = days
    if not any(not str(row.get("warehouse") or "").strip() and row.get("lead_time_days") is not None
               for row in edited):
        problems.append("the row for every warehouse (warehouse blank) is the default: keep it")
    if problems:
        raise LeadTimeError(problems)
    return list(found.items())


def replace_all(db: Database, times: Sequence[tuple[str, float]], actor: str,
                now: datetime | None = None) -> int:
    """The table holds exactly `times` afterwards (one transaction); returns how many rows."""
    at = iso(now or utcnow())
    with transaction(db):
        note_write(db, "lead_times")
        db.conn.execute("DELETE FROM lead_times")
        db.conn.executemany("INSERT INTO lead_times (warehouse_id, lead_time_days, updated_at, updated_by) "
                            "VALUES (?, ?, ?, ?)", [(w, d, at, actor) for w, d in times])
    return len(times)
