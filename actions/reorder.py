"""Reorder levels as a staff action: operators set them (CSV import or the Stock page's editor),
every change is audited; anyone may export them. The rules and the storage are figures/reorder.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from actions.files import read_at_most
from actions.roles import Actor, require
from figures import reorder
from store import audit


def import_levels(db: Database, actor: Actor, data: bytes, source: str = "file",
                  now: datetime | None = None) -> int:
    """Import a CSV (all or nothing); returns how many levels were written.

    Raises `PermissionDenied` below operator, `reorder.ReorderLevelError` listing every bad line."""
    require(actor, "operator", "setting reorder levels")
    levels = reorder.parse_csv(reorder.read_file(data), reorder.warehouses(db))
    count = reorder.upsert(db, levels, actor.name, now)
    audit.record(db, actor.name, "reorder_levels.import", source, [vars(lv) for lv in levels],
                 f"{count} levels imported", now=now)
    return count


def import_file(db: Database, actor: Actor, path: Path, now: datetime | None = None) -> int:
    """`import_levels` of a file on disk, read with its size bounded first (`actions.files`)."""
    return import_levels(db, actor, read_at_most(path, reorder.MAX_BYTES), source=path.name, now=now)


def save_levels(db: Database, actor: Actor, edited: Sequence[Mapping[str, Any]],
                now: datetime | None = None) -> int:
    """Save the Stock page's edited table as the whole set of levels (all or nothing); returns how many were
    saved. A row with anything in it but not complete is named in `ReorderLevelError` and nothing is saved."""
    require(actor, "operator", "setting reorder levels")
    known = reorder.warehouses(db)
    levels, problems = [], []
    for number, row in enumerate(edited, start=1):
        if not any(v is not None and str(v).strip() for k, v in row.items() if k in reorder.HEADER):
            continue  # an empty row the editor added (a level of 0 is not empty)
        level, wrong = reorder.parse_row(row, known)
        named = f"row {number} ({row.get('product_code')})" if row.get("product_code") else f"row {number}"
        problems += [f"{named}: {p}" for p in wrong]  # an incomplete row is named, never dropped
        if level is not None:
            levels.append(level)
    keys = [(lv.product_code, lv.warehouse_id) for lv in levels]
    problems += [f"product {c!r} appears twice for the same warehouse" for c, _ in set(keys) if keys.count((c, _)) > 1]
    if problems:
        raise reorder.ReorderLevelError(problems)
    count = reorder.replace_all(db, levels, actor.name, now)
    audit.record(db, actor.name, "reorder_levels.edit", "stock page", [vars(lv) for lv in levels],
                 f"{count} levels kept", now=now)
    return count


def export_levels(db: Database, actor: Actor) -> str:
    require(actor, "viewer", "exporting reorder levels")
    return reorder.export_csv(db)
