"""Connections to the SQLite cache: one per call or thread, WAL, explicit write transactions.

Why a fresh connection per caller: a sqlite3 connection is not safe to share across threads, and
Streamlit serves each session from its own thread. Opening a connection is cheap (well under a
millisecond); holding one in `st.cache_resource` is the anti-pattern STYLE.md names.

Transactions: connections run with `isolation_level=None`, so a statement outside a transaction
commits on its own and no hidden `BEGIN` is ever issued. Writers that touch several rows use
`transaction(db)`, which starts with `BEGIN IMMEDIATE`: the write lock is taken up front, so two
writers queue on `busy_timeout` instead of failing with "database is locked" when a read
transaction later tries to upgrade.

PostgreSQL (issue 20): `OPSDASH_DB` may be a `postgresql://` URL; `connect` then returns a `PgDatabase`
(services/core/postgres.py) with the same small surface, and `transaction` opens a READ COMMITTED transaction.
It does not serialise writers as `BEGIN IMMEDIATE` does: code whose correctness rests on one writer at a time
branches on `is_postgres` and uses PostgreSQL's own means (row locks, `ON CONFLICT`, advisory locks).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import psycopg
from sqlite_utils import Database

from services.core.postgres import PgDatabase, is_url
from services.core.postgres import connect as pg_connect

# The database is busy or out of reach for now (SQLite locked past busy_timeout, PostgreSQL restarting or
# unreachable): a caller that can answer "retry later" (the webhook receiver's 503) catches these.
UNAVAILABLE: tuple[type[Exception], ...] = (sqlite3.OperationalError, psycopg.OperationalError)
# Any error of either database.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)

BUSY_TIMEOUT_MS = 10_000
CACHE_KIB = 64 * 1024

_BUSY = f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"  # first: the WAL switch and the rest wait on it
_PRAGMAS = (
    # NORMAL is durable in WAL mode except for the last commits on power loss: fine for a cache.
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    # Up to 64 MiB of page cache per connection (SQLite's default is 2 MiB), taken only as pages are read:
    # with the default, a sync's inserts into each index of a 100k-row table miss the cache and every
    # extra index cost ~40 % of the insert rate (bench/bench_upsert.py); with it an index costs ~nothing.
    f"PRAGMA cache_size = -{CACHE_KIB}",
)


def connect(path: str | Path) -> Database:
    """A new connection for this caller; close it (or use `session`) when done. A `postgresql://` URL gives a
    `PgDatabase`, typed as `Database` for the callers: it answers the calls they make."""
    if is_url(path):
        return cast(Database, pg_connect(str(path)))
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        _owner_only(Path(path))
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(_BUSY)
    _wal(conn)
    for pragma in _PRAGMAS:
        conn.execute(pragma)
    return Database(conn)


_WAL_TRIES = 200  # x 50 ms: the busy timeout


def _wal(conn: sqlite3.Connection) -> None:
    """WAL mode (it persists in the file). Switching a new file to it takes an exclusive lock without
    waiting on the busy handler, so two processes opening a new database together could see "database
    is locked" (tests/store/test_db.py): the switch is retried, a bounded number of times."""
    for attempt in range(_WAL_TRIES):
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == _WAL_TRIES - 1:
                raise
            time.sleep(0.05)


def _owner_only(path: Path) -> None:
    """The cache holds the Qargo access token (1 h) and business data: create it 0600, before SQLite does.

    SQLite creates the `-wal` and `-shm` files with the database file's permissions, so they are 0600
    too. A file we own that others can read (made by an earlier version) is tightened the same way."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o077 and stat.S_ISREG(info.st_mode):
            for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                with suppress(FileNotFoundError):
                    name.chmod(0o600)
        return
    os.close(fd)


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """A write transaction (`BEGIN IMMEDIATE`); nested use becomes a savepoint. On PostgreSQL a READ
    COMMITTED transaction (nested: a savepoint)."""
    if is_postgres(db):
        with cast(PgDatabase, db).atomic():
            yield db
        return
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def iso(moment: datetime) -> str:
    """The one timestamp format of our own tables: UTC, milliseconds, `Z` suffix.

    One format everywhere keeps text comparisons (`lease_until < ?`) and SQLite's date
    functions (which accept the `Z`) correct."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC datetime")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_postgres(db: object) -> bool:
    """Whether `db` is a PostgreSQL connection (`connect` with a `postgresql://` URL)."""
    return isinstance(db, PgDatabase)


def db_now(db: Database) -> datetime:
    """The database's clock: the one "now" of every lease, heartbeat and expiry another process compares (job
    leases, sync-run leases, the figure worker's beat, the alert channels' send lease; issue 20), so machines
    whose clocks drift agree on when one ran out. PostgreSQL's `clock_timestamp()`; on SQLite its own 'now' (the
    host's clock, shared by every process using the file), read the same way so one code path serves both and a
    process's Python clock never enters a lease. Callers that are given a time (tests) use that instead."""
    if is_postgres(db):
        moment: datetime = db.execute("SELECT clock_timestamp()").fetchone()[0]
        return moment.astimezone(UTC)
    (text,) = db.conn.execute("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')").fetchone()
    return datetime.fromisoformat(text)


@contextmanager
def leader(db: Database, name: str) -> Iterator[bool]:
    """Whether this process runs the pass `name` now. PostgreSQL: the session that wins `pg_try_advisory_lock`
    on it, held for the block (several statements and transactions) and released at its end or when the session
    dies; the others skip this pass. SQLite: always True (one host; its write lock already orders writers)."""
    if not is_postgres(db):
        yield True
        return
    key = f"opsdash.pass:{name}"
    won = bool(db.execute("SELECT pg_try_advisory_lock(hashtextextended(?, 0))", [key]).fetchone()[0])
    try:
        yield won
    finally:
        if won:
            with suppress(psycopg.OperationalError):  # a dropped session released it already
                db.execute("SELECT pg_advisory_unlock(hashtextextended(?, 0))", [key])


def reopened(db: Database) -> Database:
    """`db`, or a new connection to the same database when PostgreSQL dropped this one (a restart, a failover:
    psycopg marks it broken after the statement that found out). A long-running process (the worker and its
    refresher) calls this before each step, so it reconnects without a restart of its own; raises one of
    UNAVAILABLE while the server still refuses. SQLite connections are never dropped: returned as they are."""
    if not is_postgres(db):
        return db
    pg = cast(PgDatabase, db)
    if not (pg.conn.raw.broken or pg.conn.raw.closed):
        return db
    fresh = cast(Database, pg_connect(pg.url))
    with suppress(psycopg.Error):
        pg.close()
    return fresh


def target_name(db: Database) -> str:
    """What `db` is connected to: the SQLite main file (or `memory:<id>`), or the PostgreSQL URL."""
    if is_postgres(db):
        return cast(PgDatabase, db).url
    files = {name: file for _, name, file in db.conn.execute("PRAGMA database_list")}
    return files.get("main") or f"memory:{id(db.conn)}"
