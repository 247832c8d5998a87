"""0027 onwards: the migrations that run on both databases (after store/pg_schema.py `SQUASHED_THROUGH`): SQL
SQLite and PostgreSQL both accept, or a branch on `store.db.is_postgres` inside the migration. The end of the
history: a new migration is appended at the end of this module (the package docstring says why).
"""

from __future__ import annotations

from sqlite_utils import Database

from store.migrations.registry import MIGRATIONS, _run


@MIGRATIONS(name="0027_receivable_filters")
def receivable_filters(db: Database) -> None:
    # Issue 19: a filter on the receivables nobody used yet (overdue only, counterparty or currency) is built by
    # its reader from every open Quaderno invoice (~62k at 2x the large set). This index holds the open ones only,
    # with every column the receivables list reads (store/datasets.py), so that pass reads no table row: its
    # WHERE is the open rule of store/statuses.py `quaderno_outstanding_sql()`, as the list writes it (the planner
    # uses a partial index only for a query that states its WHERE; tests/store/test_receivable_filters.py checks
    # they are the same text). Half the CPU of the pass at 2x (docs/performance.md).
    _run(db, [
        ("CREATE INDEX IF NOT EXISTS quaderno_invoices_open ON quaderno_invoices(state, due_date, number, "
         "contact_name, currency, amount_due, removed_at) "
         "WHERE state IN ('late', 'outstanding') AND coalesce(amount_due, 0) > 0 AND removed_at IS NULL"),
    ])


@MIGRATIONS(name="0031_document_files")
def document_files(db: Database) -> None:
    # Issue 20: a Qargo document a worker fetched was kept in a folder beside the SQLite file
    # (`<db name>-documents/<document id>`), on that worker's disk: a dashboard on another machine never saw it, and
    # on PostgreSQL the folder was named after the URL. Files now live in the database every process shares. On
    # SQLite the files already fetched are read in (the folder is left as it is, no longer read).
    from pathlib import Path

    from store.db import is_postgres

    _run(db, [f"""CREATE TABLE qargo_document_files (
                    document_id TEXT PRIMARY KEY, content {'BYTEA' if is_postgres(db) else 'BLOB'} NOT NULL,
                    fetched_at TEXT NOT NULL)"""])
    if is_postgres(db):
        return
    main = next((row[2] for row in db.execute("PRAGMA database_list").fetchall() if row[1] == "main"), "")
    folder = Path(main).with_name(f"{Path(main).stem}-documents") if main else None
    for file in sorted(folder.iterdir()) if folder and folder.is_dir() else ():
        if file.is_file() and not file.name.endswith(".part"):
            db.execute("INSERT INTO qargo_document_files (document_id, content, fetched_at) VALUES (?, ?, ?)",
                       [file.name, file.read_bytes(), "before 0031"])
