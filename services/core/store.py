"""The core's two tables in the shared SQLite file (settings.opsdash_db), created idempotently here.

`service_tokens` is the OAuth token cache (a secret: never export or render it); `rate_buckets`
holds the client-side rate limiters shared by the worker, the dashboard and the CLI.
Each thread keeps one autocommit connection per file (`_connect`): no transaction stays open between
calls, so no process holds a lock between them.

PostgreSQL (`OPSDASH_DB` a `postgresql://` URL, issue 20): the same two tables (DOUBLE PRECISION, never the
4-byte REAL), one kept connection per thread; `immediate` is a plain transaction, and a read-modify-write of one
bucket holds that bucket's row (`hold_row`: `SELECT ... FOR UPDATE`) and reads the time from the database's clock,
so every process on every machine spends one budget by one clock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar, cast

from services.core.postgres import PgConnection, is_url
from services.core.postgres import kept as pg_kept

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS service_tokens (
        key TEXT PRIMARY KEY, token TEXT NOT NULL, expires_at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS rate_buckets (
        key TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_at REAL NOT NULL,
        blocked_until REAL NOT NULL DEFAULT 0)""",
)
_PG_SCHEMA = tuple(ddl.replace("REAL", "DOUBLE PRECISION") for ddl in _SCHEMA)
_BUSY_TIMEOUT_S = 30.0
Target = Path | str  # a SQLite file, or a PostgreSQL URL


def target(db: Path | str) -> Target:
    """`OPSDASH_DB` as given: a PostgreSQL URL stays text (a Path would fold its `//`), else a file path."""
    return db if is_url(db) else Path(db)


def _ensure_schema(conn: sqlite3.Connection) -> None:
    # Run on every connection (cheap no-ops once the tables exist), so a database file that was
    # deleted and recreated while this process runs still gets its tables.
    for ddl in _SCHEMA:
        conn.execute(ddl)


class _Kept(threading.local):
    """This thread's open connection per (opener, database file), with the file's identity when opened."""

    def __init__(self) -> None:
        # (opener, file) -> (the file's identity when opened, the connection, how to close it)
        self.conns: dict[tuple[Callable[[Path], Any], Path], tuple[tuple[int, int, int], Any, Callable[[Any], None]]] = {}


_KEPT = _Kept()
_KEPT_PER_THREAD = 8  # connections a thread keeps open at most (one per file and opener)
C = TypeVar("C")


def kept(path: Path, opener: Callable[[Path], C], close: Callable[[C], None]) -> C:
    """This thread's connection to `path` made by `opener`, opened once and kept between operations.

    Opening a connection costs ~2-3 ms on the cache's file (SQLite parses its whole schema, with its
    triggers, at the first statement): a sync asks the rate limiter before every page, the webhook
    receiver writes once per delivery. A kept autocommit connection holds no lock between operations.
    It is opened again when the file was deleted or replaced (another inode), or after a fork."""
    identity = _identity(path)
    key = (opener, path)
    found = _KEPT.conns.get(key)
    if found is not None and found[0] != identity:
        del _KEPT.conns[key]
        found[2](found[1])
        found = None
    if found is None:
        while len(_KEPT.conns) >= _KEPT_PER_THREAD:  # the oldest file first (tests make many)
            _, oldest, closer = _KEPT.conns.pop(next(iter(_KEPT.conns)))
            with suppress(Exception):
                closer(oldest)
        conn = opener(path)
        _KEPT.conns[key] = (_identity(path), conn, cast(Callable[[Any], None], close))
        return conn
    return cast(C, found[1])


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    """This thread's kept connection to the limiter's tables in `path` (see `kept`)."""
    yield kept(path, _open, sqlite3.Connection.close)


def _identity(path: Path) -> tuple[int, int, int]:
    """(process, device, inode) of `path`; (process, -1, -1) when it does not exist."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return os.getpid(), -1, -1
    return os.getpid(), info.st_dev, info.st_ino


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):  # the token cache lives here: owner-only, as store.db.connect makes it
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    try:
        _ensure_schema(conn)
    except BaseException:
        conn.close()
        raise
    return conn


_PG_READY: set[tuple[int, str]] = set()  # (connection id, url): the tables were ensured on it


def _pg(url: str) -> PgConnection:
    db = pg_kept(url)
    if (id(db), url) not in _PG_READY:
        with db.atomic():  # CREATE TABLE IF NOT EXISTS races another session's: one at a time
            db.execute("SELECT pg_advisory_xact_lock(hashtextextended('opsdash.core_schema', 0))")
            for ddl in _PG_SCHEMA:
                db.execute(ddl)
        _PG_READY.add((id(db), url))
    return db.conn


@contextmanager
def reading(path: Target) -> Iterator[Any]:
    """A plain autocommit connection for single reads (takes no write lock)."""
    if isinstance(path, str):
        yield _pg(path)
        return
    with _connect(path) as conn:
        yield conn


@contextmanager
def immediate(path: Target) -> Iterator[Any]:
    """A `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so a read-modify-write
    (token bucket, token cache) cannot interleave with another process's. PostgreSQL: a transaction; a
    read-modify-write holds its row with `hold_row`."""
    if isinstance(path, str):
        pg = _pg(path)
        with pg.raw.transaction():
            yield pg
        return
    with _connect(path) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def hold_row(conn: Any, key: str, tokens: float) -> float | None:
    """Inside `immediate`: on PostgreSQL, lock the `rate_buckets` row `key` (created with `tokens` when missing)
    until the transaction ends, and return the database's clock (epoch seconds). On SQLite None: `BEGIN
    IMMEDIATE` already holds the whole file, and the caller's clock is the host's."""
    if not isinstance(conn, PgConnection):
        return None
    # A new row is a full bucket stamped 0, not the database's time: a limiter given a clock of its own (virtual
    # time) compares this stamp with that clock, and a stamp in that clock's future would never let it refill.
    conn.execute("INSERT INTO rate_buckets (key, tokens, updated_at, blocked_until) "
                 "VALUES (?, ?, 0, 0) ON CONFLICT (key) DO NOTHING", [key, tokens])
    conn.execute("SELECT 1 FROM rate_buckets WHERE key = ? FOR UPDATE", [key])
    (now,) = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchall()[0]
    return float(now)
