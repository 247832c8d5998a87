"""What was written: one counter per table, bumped by the writer in its own transaction (issue 19).

A writer of a table some figure reads calls `note_write(db, table, ...)` inside the transaction that
writes it: the counter moves with the write (a rolled-back write moves nothing) and a figure built from the
older counters is out of date. No triggers: the write paths are few (store/store.py upserts and marks,
webhook ingest, reorder-level saves, the actions that write tables datasets read), and
tests/store/test_changes.py checks each against the tables SQLite reports it wrote. The statement is plain
SQL that SQLite (>= 3.24) and PostgreSQL both run.

`versions(db)` reads every counter (one small SELECT); `data_versions` is migration 0011's table.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

VERSIONS_TABLE = "data_versions"


# The tables whose every writer notes its writes: the vendors' mirrors (synced, or written by the webhook
# receiver and the actions) and ours that figures read. A figure reading any other table (jobs, sync runs,
# the audit log) is not stored (figures/stored.py): it is built on every read.
NOTED_PREFIXES = ("qargo_", "quaderno_", "qasida_", "cargobase_")
NOTED_TABLES = frozenset({"carrier_invoices", "lead_times", "reorder_levels", "tax_calculations",
                          "tax_id_validations"})


def noted(table: str) -> bool:
    """Whether every writer of `table` notes its writes (`note_write`)."""
    return table.startswith(NOTED_PREFIXES) or table in NOTED_TABLES


_BUMP = (f"INSERT INTO {VERSIONS_TABLE} (name, version) VALUES (?, 1) "
         f"ON CONFLICT (name) DO UPDATE SET version = {VERSIONS_TABLE}.version + 1")


def note_write(db: Database, *tables: str) -> None:
    """Note, in the writer's transaction, that `tables` were written: figures reading them are out of date."""
    db.conn.executemany(_BUMP, [(t,) for t in dict.fromkeys(tables)])


def versions(db: Database, tables: Iterable[str] | None = None) -> dict[str, int]:
    """The counters of `tables` (every table's when None); a table never written counts 0."""
    rows = dict(db.conn.execute(f"SELECT name, version FROM {VERSIONS_TABLE}").fetchall())
    return rows if tables is None else {t: int(rows.get(t, 0)) for t in tables}
