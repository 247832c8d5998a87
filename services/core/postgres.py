"""PostgreSQL behind the small surface the code already uses on SQLite (issue 20).

`OPSDASH_DB` is a file path (SQLite) or a `postgresql://` URL. On SQLite a caller holds a sqlite_utils
`Database` and runs `db.execute(sql, params)` / `db.conn.execute(...)` with `?` (or `:name`) placeholders,
reads `fetchone()`, `fetchall()`, `rowcount`, `lastrowid`, and writes inside `store.db.transaction`. `PgDatabase`
offers the same few things over one psycopg 3 connection, so callers do not branch on the database.

SQLite's dialect becomes PostgreSQL's in one place, `translate` (services/core/pg_translate.py, re-exported
here): every statement goes through it. This module is the connections (`connect`, the pool `pooled`, a thread's
`kept` one) and the sqlite-utils-like surface over them (`PgDatabase`, `PgTable`, `PgConnection`, `PgCursor`).

`lastrowid`: PostgreSQL has none. A plain `INSERT` into a table with an identity column gets `RETURNING` that
column appended, and the cursor reports it as `lastrowid`, as sqlite3's does.

Connections run in autocommit, like the SQLite ones (`isolation_level=None`): a statement outside a transaction
commits on its own; `transaction()` opens one (READ COMMITTED), nested use is a savepoint.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from services.core.pg_translate import RETURNING, before_returning, translate

SCHEMES = ("postgresql://", "postgres://")


def is_url(target: object) -> bool:
    """Whether an `OPSDASH_DB` value names a PostgreSQL database rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(SCHEMES)


_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+\"?(\w+)\"?", re.IGNORECASE)
_DDL = re.compile(r"^\s*(CREATE|ALTER|DROP)\b", re.IGNORECASE)
_SQLITE_READ = 20  # sqlite3.SQLITE_READ
_WORDS = re.compile(r"[A-Za-z_]\w*")
_QUOTED = re.compile(r"'(?:[^']|'')*'")


class Column(NamedTuple):
    """What `store` reads of a column (the fields of sqlite_utils' `Column` it uses)."""

    cid: int
    name: str
    type: str
    notnull: bool
    default_value: Any
    is_pk: bool


class PgCursor:
    """A psycopg cursor that answers like sqlite3's for the calls the code makes."""

    def __init__(self, cursor: Any, lastrowid: int | None = None) -> None:
        self._cursor = cursor
        self.lastrowid = lastrowid
        self.rowcount: int = cursor.rowcount
        self.description = cursor.description

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cursor.fetchone() if self.description is not None else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cursor.fetchall() if self.description is not None else []

    def fetchmany(self, size: int = 1) -> list[tuple[Any, ...]]:
        return self._cursor.fetchmany(size) if self.description is not None else []

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._cursor) if self.description is not None else iter(())

    def close(self) -> None:
        if self.description is not None:
            self._cursor.close()


Params = Sequence[Any] | Mapping[str, Any] | None


class PgConnection:
    """One psycopg connection in autocommit; `execute` translates, `in_transaction` as sqlite3's."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._identity: dict[str, str] | None = None
        self._trace: Callable[[str], object] | None = None
        self._authorize: Callable[..., object] | None = None
        self._tables: set[str] | None = None

    def set_trace_callback(self, trace: Callable[[str], object] | None) -> None:
        """Call `trace` with each statement's SQL before it runs (sqlite3's hook of the same name)."""
        self._trace = trace

    def set_authorizer(self, authorize: Callable[..., object] | None) -> None:
        """sqlite3's hook, for what figures/stored.py asks of it: `authorize(SQLITE_READ, table, ...)` for each
        table a statement names (an identifier outside quotes equal to a table's name: a superset of what it
        reads, never less). PostgreSQL has no authorizer; the statement's text is what is known."""
        self._authorize = authorize

    def _note_reads(self, sql: str) -> None:
        if self._tables is None:
            rows = self.raw.execute("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
            self._tables = {name for (name,) in rows.fetchall()}
        named = {w for w in _WORDS.findall(_QUOTED.sub(" ", sql)) if w in self._tables}
        for table in sorted(named):
            self._authorize(_SQLITE_READ, table, None, "main", None)  # type: ignore[misc]

    def execute(self, sql: str, params: Params = None) -> PgCursor:
        if self._trace is not None:
            self._trace(sql)
        if self._authorize is not None:
            self._note_reads(sql)
        text = translate(sql)
        returning = self._returning(text)
        if returning:
            text = before_returning(text, "") + f" RETURNING {returning}"
        cursor = self.raw.execute(text, _params(params))
        if _DDL.match(text):
            self._identity = self._tables = None
        if returning:
            row = cursor.fetchone()
            return PgCursor(_Done(cursor.rowcount), row[0] if row else None)
        return PgCursor(cursor)

    def executemany(self, sql: str, rows: Sequence[Params]) -> PgCursor:
        if self._trace is not None:
            self._trace(sql)
        with self.raw.cursor() as cursor:
            cursor.executemany(translate(sql), [_params(r) for r in rows])
            return PgCursor(_Done(cursor.rowcount))

    @property
    def in_transaction(self) -> bool:
        return bool(self.raw.info.transaction_status != 0)  # 0: IDLE

    def close(self) -> None:
        self.raw.close()

    def _returning(self, sql: str) -> str | None:
        """The identity column to report as `lastrowid` for a plain single-row INSERT, else None."""
        found = _INSERT_INTO.match(sql)
        if found is None or RETURNING.search(sql):
            return None
        if self._identity is None:
            rows = self.raw.execute("SELECT table_name, column_name FROM information_schema.columns "
                                    "WHERE table_schema = current_schema() AND is_identity = 'YES'").fetchall()
            self._identity = dict(rows)
        return self._identity.get(found.group(1))


class _Done:
    """A finished statement with no rows left to read (its count kept)."""

    description = None

    def __init__(self, rowcount: int) -> None:
        self.rowcount = rowcount


def _params(params: Params) -> Sequence[Any] | Mapping[str, Any]:
    if params is None:
        return ()
    if isinstance(params, Mapping):
        return params
    return list(params)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class PgTable:
    """`db[name]`: the columns and row count of a table, and plain inserts (sqlite_utils' `Table.columns`,
    `columns_dict`, `count`, `insert`, `insert_all`)."""

    def __init__(self, db: PgDatabase, name: str) -> None:
        self.db, self.name = db, name

    @property
    def columns(self) -> list[Column]:
        rows = self.db.execute(
            "SELECT c.ordinal_position - 1, c.column_name, upper(c.data_type), c.is_nullable = 'NO', c.column_default, "
            "EXISTS (SELECT 1 FROM information_schema.key_column_usage k JOIN information_schema.table_constraints t "
            "ON t.constraint_name = k.constraint_name AND t.table_schema = k.table_schema "
            "WHERE t.constraint_type = 'PRIMARY KEY' AND k.table_schema = c.table_schema "
            "AND k.table_name = c.table_name AND k.column_name = c.column_name) "
            "FROM information_schema.columns c WHERE c.table_schema = current_schema() AND c.table_name = ? "
            "ORDER BY c.ordinal_position", [self.name]).fetchall()
        return [Column(*row) for row in rows]

    @property
    def columns_dict(self) -> dict[str, str]:
        return {c.name: c.type for c in self.columns}

    def exists(self) -> bool:
        return self.name in self.db.table_names()

    def insert(self, row: Mapping[str, Any]) -> PgTable:
        """One row (sqlite_utils' `Table.insert` without its options: the code's tests seed rows with it)."""
        return self.insert_all([row])

    def insert_all(self, rows: Iterable[Mapping[str, Any]]) -> PgTable:
        for row in rows:
            names = ", ".join(_quote(c) for c in row)
            self.db.execute(f"INSERT INTO {_quote(self.name)} ({names}) VALUES ({', '.join('?' for _ in row)})",
                            list(row.values()))
        return self

    @property
    def count(self) -> int:
        (found,) = self.db.execute(f"SELECT count(*) FROM {_quote(self.name)}").fetchall()[0]
        return int(found)


class PgDatabase:
    """The sqlite_utils `Database` calls the code makes (`execute`, `query`, `conn`, `table_names`,
    `db[t].columns_dict`, `atomic`, `close`), over one PostgreSQL connection."""

    dialect = "postgresql"

    def __init__(self, url: str, raw: Any) -> None:
        self.url = url
        self.conn = PgConnection(raw)

    def execute(self, sql: str, params: Params = None) -> PgCursor:
        return self.conn.execute(sql, params)

    def query(self, sql: str, params: Params = None) -> Iterator[dict[str, Any]]:
        """Rows as dicts (sqlite_utils' `Database.query`)."""
        cursor = self.execute(sql, params)
        names = [c.name for c in cursor.description or ()]
        for row in cursor:
            yield dict(zip(names, row, strict=True))

    def table_names(self) -> list[str]:
        rows = self.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                            "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()
        return [name for (name,) in rows]

    def view_names(self) -> list[str]:
        rows = self.execute("SELECT table_name FROM information_schema.views WHERE table_schema = current_schema() "
                            "ORDER BY table_name").fetchall()
        return [name for (name,) in rows]

    def __getitem__(self, name: str) -> PgTable:
        return PgTable(self, name)

    @contextmanager
    def atomic(self) -> Iterator[PgDatabase]:
        """A transaction; nested use becomes a savepoint (psycopg's `transaction()`)."""
        with self.conn.raw.transaction():
            yield self

    def close(self) -> None:
        self.conn.close()


_CONNECT_TIMEOUT_S = 10
# UTC sessions: a time without an offset means UTC, as in SQLite's date functions
_CONNECT_ARGS: dict[str, Any] = {"autocommit": True, "connect_timeout": _CONNECT_TIMEOUT_S,
                                 "application_name": "opsdash", "options": "-c TimeZone=UTC"}


def connect(url: str) -> PgDatabase:
    """A new autocommit connection for this caller; close it when done (as `store.db.connect`'s)."""
    import psycopg  # only a PostgreSQL deployment needs psycopg installed

    return PgDatabase(url, psycopg.connect(url, **_CONNECT_ARGS))


POOL_WAIT_S = 30.0  # a borrower waits this long for a free connection, then gets PoolTimeout (an OperationalError)
# (a dashboard's rerun during a restart of the database waits for it; the webhook receiver waits less: below)
_POOLS: dict[tuple[int, str], Any] = {}
_POOLS_LOCK = threading.Lock()


@contextmanager
def pooled(url: str, size: int, wait: float = POOL_WAIT_S) -> Iterator[PgDatabase]:
    """A connection from this process's pool for `url` (at most `size` open; the first borrower's `size` makes the
    pool), given back at the end of the block:
    the dashboard's reruns borrow one for a few statements instead of each session thread holding its own, so
    the connections a dashboard holds do not grow with its sessions (docs/deploy.md, "Connections"). Each
    is checked as it is handed out (one empty round trip), so a connection PostgreSQL dropped (a restart) is
    replaced instead of failing the borrower. While the server is unreachable a borrower waits up to `wait` s (a
    restart takes a few) before `PoolTimeout`. Do not close it; the block must not keep it past its end."""
    key = (os.getpid(), url)  # a forked child makes its own
    with _POOLS_LOCK:
        found = _POOLS.get(key)
        if found is None:
            from psycopg_pool import ConnectionPool

            found = ConnectionPool(url, min_size=1, max_size=size, kwargs=_CONNECT_ARGS, timeout=POOL_WAIT_S,
                                   check=ConnectionPool.check_connection, name="opsdash", open=True)
            _POOLS[key] = found
    with found.connection(timeout=wait) as raw:
        yield PgDatabase(url, raw)


class _Kept(threading.local):
    def __init__(self) -> None:
        self.conns: dict[tuple[int, str], PgDatabase] = {}


_KEPT = _Kept()


def kept(url: str) -> PgDatabase:
    """This thread's kept connection to `url` (the rate limiter and token cache ask before every request):
    reopened when it was closed or broken. Autocommit, so it holds no lock between calls."""
    key = (os.getpid(), url)  # a forked child opens its own
    found = _KEPT.conns.get(key)
    if found is not None and not found.conn.raw.closed and not found.conn.raw.broken:
        return found
    _KEPT.conns[key] = connect(url)
    return _KEPT.conns[key]
