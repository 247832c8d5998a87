"""Loaders keyed on data versions instead of a clock (issue 12): a rerun with no new data never
recomputes, and new data shows on the next rerun.

    @versioned
    def receivables_kpis(db: Database, filters: Mapping[str, Any]) -> Receivables: ...

    kpi = receivables_kpis({"source__in": ["quaderno"]})   # `db` is supplied here

A call reads the current token of its summary (`figures.summaries.current`: one small SELECT plus
the table versions) and looks the result up in Streamlit's memory under that token, so a warm
rerun costs about a millisecond per loader whatever the size of the data. When the data changed
(or nobody built it yet) the summary is read from SQLite, where the worker keeps it current, or
built once and stored for every other viewer and process.

Arguments must be JSON-like (filters as dicts of str, numbers, lists): they are the summary's key
and what the worker calls the loader with when it rebuilds it. Loaders whose result depends on the
clock rather than the data (freshness "3 min ago") stay on `ui.data.loader`'s TTL.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

import streamlit as st
from sqlite_utils import Database

from figures import summaries
from services.settings import get_settings
from store.db import BUSY_TIMEOUT_MS
from store.schema import session

P = ParamSpec("P")
T = TypeVar("T")

MEMORY_TTL_S = 3600  # old tokens' entries leave memory after this; current ones are re-read from SQLite
MEMORY_ENTRIES = 256  # per loader


def db_path() -> str:
    return str(get_settings().opsdash_db)


def versioned(fn: Callable[Concatenate[Database, P], T]) -> Callable[P, T]:
    """`fn(db, *args)` -> cached `fn(*args)`, rebuilt only when the tables it reads were written."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    summaries.register(name, fn)

    def stored(path: str, key: str, token: str, *args: Any, **kwargs: Any) -> T:
        with session(path) as db:
            value, _ = summaries.read(db, name, fn, args, kwargs, today=summaries.business_today())
        return value  # type: ignore[no-any-return]

    stored.__module__, stored.__qualname__ = fn.__module__, f"{fn.__qualname__}.versioned"
    in_memory = st.cache_data(ttl=MEMORY_TTL_S, max_entries=MEMORY_ENTRIES, show_spinner=False)(stored)

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        path, today = db_path(), summaries.business_today()
        key = summaries.key_of(name, args, kwargs)
        token = current_token(path, key, today)
        if token is None:  # changed data or never built: one session builds it, the others wait and read it
            with _building(path, key), session(path) as db:
                _, token = summaries.read(db, name, fn, args, kwargs, today=today)
        elif _due_for_touch(path, key):
            with session(path, migrated=False) as db:
                summaries.touch(db, key)
        return in_memory(path, key, token, *args, **kwargs)

    return call


def current_token(path: str, key: str, today: str) -> str | None:
    """The stored summary's token while its data is unchanged; None otherwise (or before migrations)."""
    try:
        with _borrowed(path) as conn:
            return summaries.current(Database(conn), key, today)
    except sqlite3.Error:  # no file or tables yet: the caller's session() creates and migrates them
        return None


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
    arrived wait for the first one's result (summaries.read finds it current) instead of each
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


@contextlib.contextmanager
def _borrowed(path: str) -> Iterator[sqlite3.Connection]:
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
