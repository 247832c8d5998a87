"""The schema of the cache: migrations applied, dataset views installed, migrated connections.

Kept apart from `store.db` (connections and transactions), which every other module of the store
imports, so that no module imports one that imports it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from services.settings import Settings
from store.datasets import ensure_views
from store.db import connect, transaction
from store.migrations import MIGRATIONS


def migrate(db: Database) -> list[str]:
    """Apply pending migrations, then refresh the dataset views; returns the migrations applied.

    Safe to call at every start. The check and the apply run under one `BEGIN IMMEDIATE`, so two
    processes starting together apply each migration once: the second waits for the lock, then
    finds nothing pending."""
    pending: list[str] = []
    if MIGRATIONS.pending(db):
        with transaction(db):
            pending = [m.name for m in MIGRATIONS.pending(db)]
            MIGRATIONS.apply(db)
    ensure_views(db)
    return pending


def open_store(settings: Settings) -> Database:
    """Connect to `settings.opsdash_db` and bring its schema up to date."""
    db = connect(settings.opsdash_db)
    migrate(db)
    return db


@contextmanager
def session(path: str | Path, *, migrated: bool = True) -> Iterator[Database]:
    """`with session(path) as db:` a migrated connection, closed on exit."""
    db = connect(path)
    try:
        if migrated:
            migrate(db)
        yield db
    finally:
        db.close()
