"""Loaders of stored figures (issue 19, figures/stored.py): a rerun with no new data never recomputes, and
a page says how old what it shows is ("as of HH:MM:SS").

    @versioned
    def receivables_kpis(db: Database, filters: Mapping[str, Any]) -> Receivables: ...

    kpi = receivables_kpis({"source__in": ["quaderno"]})   # `db` is supplied here

A call asks SQLite whether the stored figure may be shown (`figures.stored.servable`: its inputs unchanged, or
a live worker that will refresh it within its pass) and looks the result up in Streamlit's memory under the
figure's stamp, so a warm rerun costs about a millisecond per loader whatever the size of the data. When
it may not be shown (no live worker and new data, or never built) the reader builds it once and stores it
for every other viewer and process. `as_of()` gives the oldest "built at" of the figures this run showed.

Arguments must be JSON-like (filters as dicts of str, numbers, lists): they are the figure's key and what
the worker calls the loader with when it refreshes it. Loaders whose result depends on the clock rather
than the data (freshness "3 min ago") stay on `ui.data.loader`'s TTL.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import streamlit as st
from sqlite_utils import Database

from figures import stored
from services.core.postgres import is_url, pooled
from services.settings import get_settings
from store.db import BUSY_TIMEOUT_MS, DATABASE_ERRORS
from store.schema import migrate, session
from ui import auth

P = ParamSpec("P")
T = TypeVar("T")

MEMORY_TTL_S = 3600  # old tokens' entries leave memory after this; current ones are re-read from SQLite
MEMORY_ENTRIES = 256  # per loader
LIVE_TTL_S = 5  # a figure over tables whose writers do not note (jobs, sync runs) is re-read after this
_LIVE: set[tuple[str, str]] = set()  # (database, figure) pairs found not storable


def db_path() -> str:
    return str(get_settings().opsdash_db)


def versioned(fn: Callable[Concatenate[Database, P], T]) -> Callable[P, T]:
    """`fn(db, *args)` -> cached `fn(*args)`, served stored (figures/stored.py) and rebuilt when out of date."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    stored.register(name, fn)

    def kept(path: str, key: str, token: str, *args: Any, **kwargs: Any) -> T:
        with _session(path) as db:
            value, _ = stored.read(db, name, fn, args, kwargs, today=stored.business_today())
        return value  # type: ignore[no-any-return]

    def live(path: str, key: str, *args: Any, **kwargs: Any) -> T:
        with _session(path) as db:
            value, stamp = stored.read(db, name, fn, args, kwargs, today=stored.business_today())
        _shown(stamp)
        return value  # type: ignore[no-any-return]

    kept.__module__, kept.__qualname__ = fn.__module__, f"{fn.__qualname__}.versioned"
    live.__module__, live.__qualname__ = fn.__module__, f"{fn.__qualname__}.live"
    in_memory = st.cache_data(ttl=MEMORY_TTL_S, max_entries=MEMORY_ENTRIES, show_spinner=False)(kept)
    # figures over tables whose writers do not note (jobs, sync runs): kept in memory for LIVE_TTL_S only
    live_memory = st.cache_data(ttl=LIVE_TTL_S, max_entries=MEMORY_ENTRIES, show_spinner=False)(live)

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        path, today = db_path(), stored.business_today()
        key = stored.key_of(name, args, kwargs)
        if (path, key) in _LIVE:
            return live_memory(path, key, *args, **kwargs)
        stamp = current_stamp(path, key, today)
        fresh = stamp is not None and stamp.built_at < (own_action_at(path) or "")
        if fresh:  # this user acted after the figure was built: they see their own action at once
            stamp = current_stamp(path, key, today, fresh=True)
        if stamp is None:  # out of date without a live worker, or never built: one session builds it
            with _building(path, key), _session(path) as db:
                value, stamp = stored.read(db, name, fn, args, kwargs, today=today, fresh=fresh)
            if stamp.token.startswith("live:"):  # not storable (reads tables whose writers do not note)
                _LIVE.add((path, key))
                _shown(stamp)
                return value  # type: ignore[no-any-return]
        elif _due_for_touch(path, key):
            with _session(path, migrated=False) as db:
                stored.touch(db, key)
        _shown(stamp)
        return in_memory(path, key, stamp.token, *args, **kwargs)

    return call


def current_stamp(path: str, key: str, today: str, *, fresh: bool = False) -> stored.Stamp | None:
    """The stored figure's stamp while a reader may show it; None otherwise (or before migrations)."""
    try:
        with _borrowed(path) as conn:
            return stored.servable(_database(conn), key, today, fresh=fresh)
    except DATABASE_ERRORS:  # no file or tables yet: the caller's session() creates and migrates them
        return None


OWN_ACTIONS_WINDOW = 1000  # audit entries looked back through: an older action's figures were refreshed long ago


def own_action_at(path: str) -> str | None:
    """When this session's user last acted (their newest audit entry among the latest ones: a rowid range, a
    fraction of a millisecond). A live worker may serve a figure up to its pass late (docs/performance.md); a
    user who has just uploaded, calculated or approved sees their own action at once (read your writes)."""
    actor = auth.current_actor().name
    try:
        with _borrowed(path) as conn:
            row = conn.execute("SELECT max(at) FROM audit_log WHERE actor = ? AND id > "
                               "(SELECT coalesce(max(id), 0) - ? FROM audit_log)", [actor, OWN_ACTIONS_WINDOW]).fetchone()
    except DATABASE_ERRORS:
        return None
    return row[0] if row else None


_RUN = threading.local()  # per script run (Streamlit runs each session's script in its own thread)


def _shown(stamp: stored.Stamp) -> None:
    seen: list[str] = getattr(_RUN, "built_at", [])
    seen.append(stamp.built_at)
    _RUN.built_at = seen


def as_of() -> str | None:
    """The oldest "built at" (UTC ISO) of the figures read since the last call, then forgotten; None if none."""
    seen: list[str] = getattr(_RUN, "built_at", [])
    _RUN.built_at = []
    return min(seen) if seen else None


TOUCH_EVERY_S = 240.0  # how often a summary served from memory tells SQLite it is still looked at
_TOUCHED: dict[tuple[str, str], float] = {}


def _due_for_touch(path: str, key: str) -> bool:
    now = time.monotonic()
    with _POOL_LOCK:
        due = now - _TOUCHED.get((path, key), now - TOUCH_EVERY_S - 1) > TOUCH_EVERY_S
        if due:
            _TOUCHED[(path, key)] = now
    return due


_BUILD_LOCKS: dict[tuple[str, str], threading.Lock] = {}


@contextlib.contextmanager
def _building(path: str, key: str) -> Iterator[None]:
    """One build per summary at a time in this process: ten sessions opening a page after new data
    arrived wait for the first one's result (stored.read finds it current) instead of each
    scanning the rows again."""
    with _POOL_LOCK:
        lock = _BUILD_LOCKS.setdefault((path, key), threading.Lock())
    with lock:
        yield


# Read-only connections for the version checks, reused across reruns: a new connection parses the
# whole schema (tables, views, version triggers) on its first statement, ~2 ms, which is most of a
# warm rerun's cost. Each is used by one thread at a time (taken from the pool, given back), never
# shared; a migration changes the schema cookie and SQLite re-reads the schema by itself.
_POOL: dict[str, list[sqlite3.Connection]] = {}
_POOL_LOCK = threading.Lock()
_POOL_IDLE = 8  # per database: more idle connections than that are closed


def _database(conn: Any) -> Database:
    """A borrowed connection as the `Database` the figures take (PostgreSQL's is one already)."""
    return conn if hasattr(conn, "table_names") else Database(conn)


CHECK_WAIT_S = 5.0  # PostgreSQL: a rerun's checks wait this long for a connection (a restart), then build instead


def pool_size() -> int:
    return get_settings().opsdash_pg_pool_size


@contextlib.contextmanager
def _session(path: str, *, migrated: bool = True) -> Iterator[Database]:
    """`store.schema.session`; on PostgreSQL a pooled connection: a build borrows one of the process's connections
    instead of opening its own (`migrate` only checks a database this process already migrated: one SELECT)."""
    if not is_url(path):
        with session(path, migrated=migrated) as db:
            yield db
        return
    with pooled(path, pool_size()) as pg:
        db = cast(Database, pg)
        if migrated:
            migrate(db)
        yield db


@contextlib.contextmanager
def _borrowed(path: str) -> Iterator[Any]:
    if is_url(path):  # PostgreSQL (issue 20): one of the process's pooled connections, checked as it is handed out
        with pooled(path, pool_size(), wait=CHECK_WAIT_S) as db:
            yield db
        return
    with _POOL_LOCK:
        idle = _POOL.setdefault(path, [])
        conn = idle.pop() if idle else None
    if conn is None:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                               isolation_level=None, check_same_thread=False)
    healthy = False
    try:
        yield conn
        healthy = True
    finally:
        with _POOL_LOCK:
            idle = _POOL.setdefault(path, [])
            keep = healthy and len(idle) < _POOL_IDLE
            if keep:
                idle.append(conn)
        if not keep:
            conn.close()
