"""Summaries: the figures pages show, built once per data version and kept in SQLite for every
viewer and every process (issue 12, "page cost flat in data size").

A summary is any read function `fn(db, *args, **kwargs)` of the cache (KPIs, aging, totals per
counterparty, stock per warehouse, a page of a dataset with its count). `read` returns the stored
result when the tables the function read have not been written since (their `store.versions`
counters) and the business date is the same; otherwise it runs the function once, stores the result
with the versions it was built from, and every later reader gets it for the cost of one small
SELECT, whatever the size of the data. The tables a function reads are recorded by an SQLite
authorizer while it runs, so no list of dependencies is kept by hand.

Writers keep them fresh: the worker's scheduler calls `refresh`, which rebuilds every summary read
in the last day whose data changed, so the first viewer after a sync does not pay for the rebuild
either. The pages' builders are registered by figures/page_summaries.py, which both the UI and the
standalone `opsdash worker` import; a summary whose builder is not registered in this process is rebuilt
by its next reader instead.

Stored rows (`summaries`, migration 0011_perf): `key` (name + arguments), `version` (the token
`t1=5;t2=9;today=2026-11-29;code=<digest of the sources>`), the pickled `value` (our own objects, in our own file), `read_at`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import pickle
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from store.db import BUSY_TIMEOUT_MS, iso, transaction, utcnow
from store.versions import table_versions

log = logging.getLogger("opsdash.summaries")

Builder = Callable[..., Any]
BUILDERS: dict[str, Builder] = {}  # name -> fn(db, *args, **kwargs); registered by whoever reads them

READ_WITHIN = timedelta(days=1)  # a summary nobody read for this long is forgotten
REFRESH_READ_WITHIN = timedelta(minutes=30)  # the worker rebuilds only what someone looked at lately
_TOUCH_EVERY = timedelta(minutes=5)  # `read_at` is rewritten at most this often (a read stays a read)
_NOT_TRACKED = frozenset({"data_versions", "summaries", "raw_dicts", "sqlite_master", "sqlite_schema"})


def register(name: str, fn: Builder) -> Builder:
    """Let `refresh` rebuild summaries called `name` with `fn` (the reader registers its loaders)."""
    BUILDERS[name] = fn
    return fn


def key_of(name: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> str:
    return name + json.dumps([list(args), dict(kwargs or {})], sort_keys=True, default=str)


def token(versions: Mapping[str, int], tables: Sequence[str], today: str) -> str:
    """The data a summary was built from: each table's version and the business date, plus the code
    that built it (a deploy must not unpickle an object whose class has changed since)."""
    parts = [f"{t}={versions.get(t, 0)}" for t in sorted(tables)]
    return ";".join([*parts, f"today={today}", f"code={code_fingerprint()}"])


def _tables_of(version: str) -> list[str]:
    return [part.split("=", 1)[0] for part in version.split(";")
            if not part.startswith(("today=", "code="))]


ROOMS_DIGESTED = ("store", "figures", "sync", "webhooks", "jobs", "alerts", "exports", "ui", "pages")  # was cache/


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A digest of the application's Python sources (the rooms above services/ but actions/, and the top-level modules):
    any change to the code that builds or reads a summary gives new keys."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    # our top-level modules by name: installed, `root` is site-packages, beside every other package's modules
    top = [root / f"{name}.py" for name in ("app", "dashboard", "cli", "serve") if (root / f"{name}.py").exists()]
    for path in sorted([*top, *(p for d in ROOMS_DIGESTED for p in (root / d).rglob("*.py"))]):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def current(db: Database, key: str, today: str) -> str | None:
    """The stored summary's token if its data has not changed since it was built, else None."""
    row = db.conn.execute("SELECT version FROM summaries WHERE key = ?", [key]).fetchone()
    if row is None:
        return None
    fresh = token(table_versions(db), _tables_of(row[0]), today)
    return row[0] if fresh == row[0] else None


def read(db: Database, name: str, fn: Builder, args: Sequence[Any] = (),
         kwargs: Mapping[str, Any] | None = None, *, today: str, now: datetime | None = None) -> tuple[Any, str]:
    """(value, token): the stored summary when current, else built now and stored."""
    key = key_of(name, args, kwargs)
    row = db.conn.execute("SELECT version, value, read_at FROM summaries WHERE key = ?", [key]).fetchone()
    moment = now or utcnow()
    if row is not None and token(table_versions(db), _tables_of(row[0]), today) == row[0]:
        if row[2] < iso(moment - _TOUCH_EVERY):
            _write(db, "UPDATE summaries SET read_at = ? WHERE key = ?", [iso(moment), key])
        return pickle.loads(row[1]), row[0]
    return build(db, name, fn, args, kwargs, today=today, now=moment)


def touch(db: Database, key: str, now: datetime | None = None) -> None:
    """Note that a summary is still being looked at (readers serving it from memory call this now and
    then), so the worker keeps refreshing it and it is not forgotten."""
    _write(db, "UPDATE summaries SET read_at = ? WHERE key = ?", [iso(now or utcnow()), key])


def build(db: Database, name: str, fn: Builder, args: Sequence[Any] = (),
          kwargs: Mapping[str, Any] | None = None, *, today: str, now: datetime | None = None) -> tuple[Any, str]:
    """Run `fn` once, recording the tables it reads; store the result under the versions read before
    it ran (a write meanwhile makes the next reader rebuild, never keeps a stale result)."""
    before = table_versions(db)
    started = time.perf_counter()
    with reads(db.conn) as tables:
        value = fn(db, *args, **dict(kwargs or {}))
    version = token(before, sorted(tables), today)
    moment = iso(now or utcnow())
    _write(db, "INSERT INTO summaries (key, name, args, version, built_at, build_ms, read_at, value) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET version = excluded.version, "
               "built_at = excluded.built_at, build_ms = excluded.build_ms, read_at = excluded.read_at, "
               "value = excluded.value",
           [key_of(name, args, kwargs), name, json.dumps([list(args), dict(kwargs or {})], default=str), version,
            moment, round((time.perf_counter() - started) * 1000), moment, pickle.dumps(value, protocol=5)])
    return value, version


def refresh(db: Database, today: str, now: datetime | None = None, *, budget_s: float = 60.0) -> int:
    """Rebuild the summaries read within REFRESH_READ_WITHIN whose data changed (registered builders
    only), most recently read first; forget the ones nobody read within READ_WITHIN. Returns how many
    were rebuilt. Stops after `budget_s` (the rest wait for the next pass, or their next reader)."""
    moment = now or utcnow()
    _write(db, "DELETE FROM summaries WHERE read_at < ?", [iso(moment - READ_WITHIN)])
    rows = db.conn.execute("SELECT key, name, args, version FROM summaries WHERE read_at >= ? "
                           "ORDER BY read_at DESC", [iso(moment - REFRESH_READ_WITHIN)]).fetchall()
    versions, rebuilt, deadline = table_versions(db), 0, time.monotonic() + budget_s
    for key, name, args, version in rows:
        fn = BUILDERS.get(name)
        if fn is None or version == CONTENT or token(versions, _tables_of(version), today) == version:
            continue
        if time.monotonic() > deadline:
            break
        positional, named = json.loads(args)
        try:
            build(db, name, fn, positional, named, today=today, now=moment)
            rebuilt += 1
        except Exception:  # one broken summary must not stop the others (its reader will see the error)
            log.exception("could not rebuild summary %s", key)
    return rebuilt


CONTENT = "content"  # the version of a content-addressed entry (its key is a digest of its input)


def get_content(db: Database, key: str, now: datetime | None = None) -> Any | None:
    """A stored content-addressed value (e.g. a figure's spec, keyed by a digest of its data), or None."""
    row = db.conn.execute("SELECT value, read_at FROM summaries WHERE key = ? AND version = ?",
                          [key, CONTENT]).fetchone()
    if row is None:
        return None
    moment = now or utcnow()
    if row[1] < iso(moment - _TOUCH_EVERY):
        _write(db, "UPDATE summaries SET read_at = ? WHERE key = ?", [iso(moment), key])
    return pickle.loads(row[0])


def put_content(db: Database, key: str, name: str, value: Any, build_ms: int = 0,
                now: datetime | None = None) -> None:
    """Keep a content-addressed value for every process (forgotten when unread for READ_WITHIN)."""
    moment = iso(now or utcnow())
    _write(db, "INSERT OR REPLACE INTO summaries (key, name, args, version, built_at, build_ms, read_at, value) "
               "VALUES (?, ?, '[]', ?, ?, ?, ?, ?)",
           [key, name, CONTENT, moment, build_ms, moment, pickle.dumps(value, protocol=5)])


def business_today(now: datetime | None = None) -> str:
    """The business date (OPSDASH_TIMEZONE, store/calendar.py) as YYYY-MM-DD."""
    try:
        from store.calendar import today
    except ImportError:  # pragma: no cover - the calendar module is newer than this one
        return iso(now or utcnow())[:10]
    return today(now).isoformat()


def refresh_in_worker(db: Database, settings: object, now: datetime) -> None:
    """The worker's scheduler pass (every 15 s): rebuild what syncs and webhooks changed. jobs/worker.py
    registers it (the worker sits above the figures: they do not import it)."""
    rebuilt = refresh(db, business_today(now), now, budget_s=REFRESH_BUDGET_S)
    if rebuilt:
        log.info("rebuilt %d summaries", rebuilt)


REFRESH_BUDGET_S = 30.0  # per scheduler pass: the worker's jobs wait meanwhile


@contextlib.contextmanager
def reads(conn: sqlite3.Connection) -> Iterator[set[str]]:
    """The tables statements prepared on `conn` inside the block read."""
    seen: set[str] = set()

    def authorize(action: int, table: str | None, *_: object) -> int:
        if action == sqlite3.SQLITE_READ and table and table not in _NOT_TRACKED:
            seen.add(table)
        return sqlite3.SQLITE_OK

    conn.set_authorizer(authorize)
    try:
        yield seen
    finally:
        conn.set_authorizer(None)


WRITE_WAIT_MS = 500  # a page never waits longer than this for a sync's write lock to keep a summary


def _write(db: Database, sql: str, params: Sequence[Any]) -> None:
    """Keep a summary, or note a read; when a writer holds the lock longer than WRITE_WAIT_MS it is
    skipped (the summary is rebuilt by the worker or the next reader): a page must not wait on a sync."""
    db.conn.execute(f"PRAGMA busy_timeout = {WRITE_WAIT_MS}")
    try:
        with transaction(db):
            db.conn.execute(sql, params)
    except sqlite3.OperationalError as exc:
        log.warning("summary not stored (%s)", exc)
    finally:
        db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
