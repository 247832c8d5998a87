"""Connections, pragmas, migrations and concurrent access."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlite_utils import Database

from services.settings import Settings
from store.db import connect, iso, transaction
from store.migrations import MIGRATIONS
from store.schema import migrate, open_store, session
from tests.conftest import NOW


@pytest.mark.parametrize(("pragma", "expected"), [
    ("journal_mode", "wal"), ("busy_timeout", 10_000), ("synchronous", 1), ("foreign_keys", 1),
])
def test_connect_sets_pragmas(tmp_path: Path, pragma: str, expected: object) -> None:
    db = connect(tmp_path / "sub" / "x.db")
    assert db.execute(f"PRAGMA {pragma}").fetchone()[0] == expected
    db.close()


def test_migrate_applies_all_then_nothing(tmp_path: Path) -> None:
    db = connect(tmp_path / "x.db")
    assert migrate(db) == [m.name for m in MIGRATIONS._migrations]
    tables = set(db.table_names())
    assert migrate(db) == []
    assert set(db.table_names()) == tables
    assert {"qargo_orders", "carrier_invoices", "jobs", "audit_log", "webhook_events"} <= tables
    db.close()


def test_two_processes_style_migrations_apply_once(tmp_path: Path) -> None:
    """Two connections migrating together: each migration is recorded exactly once."""
    path = tmp_path / "x.db"
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with session(path):
                pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    db = connect(path)
    names = [r[0] for r in db.execute("SELECT name FROM _sqlite_migrations")]
    assert sorted(names) == sorted(m.name for m in MIGRATIONS._migrations)
    db.close()


def test_open_store_uses_settings_path(tmp_path: Path) -> None:
    db = open_store(Settings(opsdash_db=tmp_path / "data" / "o.db"))
    assert "sync_runs" in db.table_names()
    db.close()
    assert (tmp_path / "data" / "o.db").exists()


def test_transaction_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError), transaction(db):
        db.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t', 'a', 'x')")
        raise RuntimeError("boom")
    assert db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0
    assert not db.conn.in_transaction


def test_nested_transaction_is_a_savepoint(db: Database) -> None:
    with transaction(db):
        db.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t', 'a', 'outer')")
        with pytest.raises(ValueError), transaction(db):
            db.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t', 'a', 'inner')")
            raise ValueError
    assert [r[0] for r in db.execute("SELECT action FROM audit_log")] == ["outer"]


@pytest.mark.sqlite_only('STRICT refuses 1.5 in an INTEGER column; PostgreSQL rounds it (assignment cast): the code never binds a float to money')
def test_strict_tables_refuse_fractional_money(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO carrier_invoices (invoice_id, balance, synced_at) VALUES ('i', 1.5, 't')")


def test_iso_is_utc_with_z() -> None:
    assert iso(NOW) == "2025-03-10T12:00:00.000Z"
    with pytest.raises(ValueError):
        iso(NOW.replace(tzinfo=None))


def test_writer_and_readers_do_not_lock(db_path: Path) -> None:
    """One writer thread, two reader threads for ~2 s: no 'database is locked'."""
    deadline = time.monotonic() + 2.0
    errors: list[BaseException] = []
    counts = {"writes": 0, "reads": 0}

    def writer() -> None:
        db = connect(db_path)
        while time.monotonic() < deadline:
            with transaction(db):
                db.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t', 'w', 'x')")
            counts["writes"] += 1
        db.close()

    def reader() -> None:
        db = connect(db_path)
        while time.monotonic() < deadline:
            db.execute("SELECT count(*), max(id) FROM audit_log").fetchone()
            counts["reads"] += 1
        db.close()

    def guarded(fn):  # type: ignore[no-untyped-def]
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
        return run

    threads = [threading.Thread(target=guarded(f)) for f in (writer, reader, reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert counts["writes"] > 10 and counts["reads"] > 10
    check = connect(db_path)
    assert check.execute("SELECT count(*) FROM audit_log").fetchone()[0] == counts["writes"]
    check.close()


def test_the_store_never_imports_streamlit() -> None:
    store_dir = Path(__file__).resolve().parents[2] / "store"
    offenders = [p.name for p in store_dir.glob("*.py") if "import streamlit" in p.read_text()
                 or "from streamlit" in p.read_text()]
    assert offenders == []
