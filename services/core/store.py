"""The core's two tables in the shared SQLite file (settings.opsdash_db), created idempotently here.

`service_tokens` is the OAuth token cache (a secret: never export or render it); `rate_buckets`
holds the client-side rate limiters shared by the worker, the dashboard and the CLI.
Connections are short-lived (one per operation) so no process holds a lock between calls.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS service_tokens (
        key TEXT PRIMARY KEY, token TEXT NOT NULL, expires_at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS rate_buckets (
        key TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_at REAL NOT NULL,
        blocked_until REAL NOT NULL DEFAULT 0)""",
)
_BUSY_TIMEOUT_S = 30.0


def _ensure_schema(conn: sqlite3.Connection) -> None:
    # Run on every connection (cheap no-ops once the tables exist), so a database file that was
    # deleted and recreated while this process runs still gets its tables.
    for ddl in _SCHEMA:
        conn.execute(ddl)


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):  # the token cache lives here: owner-only, as cache.db.connect makes it
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    with closing(sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)) as conn:
        _ensure_schema(conn)
        yield conn


@contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain autocommit connection for single reads (takes no write lock)."""
    with _connect(path) as conn:
        yield conn


@contextmanager
def immediate(path: Path) -> Iterator[sqlite3.Connection]:
    """A `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so a read-modify-write
    (token bucket, token cache) cannot interleave with another process's."""
    with _connect(path) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
