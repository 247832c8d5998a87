"""Stored figures: one way to keep what a page shows (issue 19).

A figure is a read function of the cache, `fn(db, *args)`, whose SQL is written once (figures/kpis.py,
figures/details.py, store/queries.py over the datasets of store/datasets.py). Its result is stored in
`figures` (migration 0022) as JSON (exact decimals as text, `codec` below), with the counters of the
tables it read (store/changes.py, recorded by an SQLite authorizer while it ran) and `built_at`.

- The worker's refresher thread brings stored figures up to date after each job and every 5 s, also while
  a job runs (jobs/worker.py; `refresh`), and beats `figure_worker` while it does.
- A reader gets the stored figure as long as a worker is live (a beat within `LIVE_WITHIN`), even when a
  write made it out of date: it lags that write by at most max(5 s, a pass) + a pass (docs/performance.md,
  "Staleness"), and the page says "as of HH:MM:SS". Without a live worker, the reader rebuilds an out of
  date figure itself before showing it.
- A figure that read a table whose writers do not note their writes (jobs, sync runs, the audit log:
  `changes.noted` says which do) is never stored: it is built on every read.
- A figure may be built from another stored figure (`nested`): the other is brought up to date first, and
  the tables it read count as read by the figure built from it (several figures folded from one pass over a
  large list pay for that pass once: figures/page_summaries.py, the stock figures).

Rows: `key` (name + JSON arguments), `name`, `args`, `inputs` (JSON {table: counter}), `today` (the
business date it was built for), `built_at`, `build_ms`, `read_at`, `value` (JSON).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from figures import codec
from store import changes
from store.db import BUSY_TIMEOUT_MS, db_now, is_postgres, iso, transaction, utcnow

log = logging.getLogger("opsdash.figures")

Builder = Callable[..., Any]
BUILDERS: dict[str, Builder] = {}  # name -> fn(db, *args, **kwargs); figures/page_summaries.py registers them

TABLE = "figures"
LIVE_WITHIN = timedelta(seconds=15)  # a worker that beat within this is live: readers leave refreshing to it
READ_WITHIN = timedelta(days=1)  # a figure nobody read for this long is forgotten
REFRESH_READ_WITHIN = timedelta(minutes=30)  # the worker refreshes only what someone looked at lately
_TOUCH_EVERY = timedelta(minutes=5)  # `read_at` is rewritten at most this often
_UNTRACKED = frozenset({TABLE, "figure_worker", changes.VERSIONS_TABLE, "raw_dicts", "sqlite_master",
                        "sqlite_schema", "pragma_table_info"})


@dataclass(frozen=True)
class Stamp:
    """What a stored figure was built from: `token` changes with its inputs; `built_at` is shown as "as of"."""

    token: str
    built_at: str


def register(name: str, fn: Builder) -> Builder:
    BUILDERS[name] = fn
    return fn


def key_of(name: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> str:
    return name + json.dumps([list(args), dict(kwargs or {})], sort_keys=True, default=str)


# The application's rooms (README, "Layout"; tests/test_layout.py): a change in any of them may change a figure.
_ROOMS = ("actions", "alerts", "exports", "figures", "jobs", "pages", "services", "store", "sync", "ui", "webhooks")


def sources() -> list[Path]:
    """The Python sources a figure's value may depend on: the rooms and the entry points."""
    root = Path(__file__).resolve().parents[1]
    top = [root / f"{name}.py" for name in ("app", "dashboard", "cli", "serve") if (root / f"{name}.py").exists()]
    return sorted([*top, *(p for d in _ROOMS for p in (root / d).rglob("*.py"))])


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A digest of the application's Python sources: a deploy that changes a figure's SQL rebuilds it."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sources():
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# --- the worker's beat ------------------------------------------------------------------------------


def beat(db: Database, now: datetime | None = None) -> None:
    """The worker is live (called on each of its passes); on the database's clock, as readers on other machines
    judge it (`store.db.db_now`)."""
    _write(db, "INSERT INTO figure_worker (id, beat_at) VALUES (1, ?) "
               "ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at", [iso(now or db_now(db))])


def worker_live(db: Database, now: datetime | None = None) -> bool:
    row = db.conn.execute("SELECT beat_at FROM figure_worker WHERE id = 1").fetchone()
    return row is not None and row[0] >= iso((now or db_now(db)) - LIVE_WITHIN)


# --- reading ----------------------------------------------------------------------------------------


def _inputs_current(db: Database, inputs: str) -> bool:
    built_from: dict[str, int] = json.loads(inputs)
    return changes.versions(db, built_from) == built_from


def servable(db: Database, key: str, today: str, now: datetime | None = None, *, fresh: bool = False) -> Stamp | None:
    """The stored figure's stamp when a reader may show it: its inputs unchanged, or (unless `fresh`: a reader
    who has just written and must see it) a live worker that will refresh it; None otherwise (the reader builds
    it)."""
    row = db.conn.execute(f"SELECT inputs, today, built_at FROM {TABLE} WHERE key = ?", [key]).fetchone()
    if row is None or row[1] != today or not row[0].endswith(code_fingerprint()):
        return None
    inputs = row[0].rsplit("|", 1)[0]
    if _inputs_current(db, inputs) or (not fresh and worker_live(db, now)):
        return Stamp(f"{row[2]}|{row[0]}", row[2])
    return None


def read(db: Database, name: str, fn: Builder, args: Sequence[Any] = (),
         kwargs: Mapping[str, Any] | None = None, *, today: str, now: datetime | None = None,
         fresh: bool = False) -> tuple[Any, Stamp]:
    """(value, stamp): the stored figure when servable, else built now (and stored when it can be kept)."""
    key = key_of(name, args, kwargs)
    moment = now or utcnow()
    stamp = servable(db, key, today, moment, fresh=fresh)
    if stamp is not None:
        row = db.conn.execute(f"SELECT value, read_at, inputs FROM {TABLE} WHERE key = ?", [key]).fetchone()
        if row is not None:
            if row[1] < iso(moment - _TOUCH_EVERY):
                touch(db, key, moment)
            for seen in _READING.get(id(db.conn), []):  # a figure built from this one read its inputs too
                seen.update(json.loads(row[2].rsplit("|", 1)[0]))
            return codec.loads(row[0]), stamp
    return build(db, name, fn, args, kwargs, today=today, now=moment)


def nested(db: Database, name: str, fn: Builder, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None,
           now: datetime | None = None) -> Any:
    """Inside a builder: the stored figure `name`, brought up to date first (never served out of date, even while
    a worker is live); the figure being built counts the tables it read as its own inputs."""
    return read(db, name, fn, args, kwargs, today=business_today(now), now=now, fresh=True)[0]


def touch(db: Database, key: str, now: datetime | None = None) -> None:
    """Someone still looks at this figure: the worker keeps refreshing it."""
    _write(db, f"UPDATE {TABLE} SET read_at = ? WHERE key = ?", [iso(now or utcnow()), key])


def build(db: Database, name: str, fn: Builder, args: Sequence[Any] = (),
          kwargs: Mapping[str, Any] | None = None, *, today: str, now: datetime | None = None,
          read: bool = True) -> tuple[Any, Stamp]:
    """Run `fn` once, recording the tables it reads, and store the result under the counters read before
    it ran (a write meanwhile leaves it out of date, never wrongly current). `read=False` (the worker's
    refresh) keeps a stored figure's `read_at`: a rebuild is not a read, or every figure once read would be
    rebuilt after every write for as long as writes come."""
    before = changes.versions(db)
    started = time.perf_counter()
    with reads(db.conn) as tables:
        value = fn(db, *args, **dict(kwargs or {}))
    moment = iso(now or utcnow())
    if not all(changes.noted(t) for t in tables):  # read a table whose writers do not note: build it on every read
        return value, Stamp(f"live:{moment}", moment)
    inputs = json.dumps({t: int(before.get(t, 0)) for t in sorted(tables)}) + "|" + code_fingerprint()
    _write(db, f"INSERT INTO {TABLE} (key, name, args, inputs, today, built_at, build_ms, read_at, value) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET inputs = excluded.inputs, "
               "today = excluded.today, built_at = excluded.built_at, build_ms = excluded.build_ms, "
               + ("read_at = excluded.read_at, " if read else "") + "value = excluded.value",
           [key_of(name, args, kwargs), name, json.dumps([list(args), dict(kwargs or {})], default=str), inputs,
            today, moment, round((time.perf_counter() - started) * 1000), moment, codec.dumps(value)])
    return value, Stamp(f"{moment}|{inputs}", moment)


# --- the worker's refresh ---------------------------------------------------------------------------


def out_of_date(db: Database, today: str, now: datetime | None = None,
                read_within: timedelta = REFRESH_READ_WITHIN) -> list[tuple[str, str, str]]:
    """(key, name, args) of the figures read within `read_within` whose inputs changed (or were built for
    another day)."""
    moment = now or utcnow()
    rows = db.conn.execute(f"SELECT key, name, args, inputs, today FROM {TABLE} WHERE read_at >= ? "
                           "ORDER BY read_at DESC", [iso(moment - read_within)]).fetchall()
    code = code_fingerprint()
    return [(key, name, args) for key, name, args, inputs, day in rows
            if day != today or not inputs.endswith(code) or not _inputs_current(db, inputs.rsplit("|", 1)[0])]


def refresh(db: Database, today: str, now: datetime | None = None, *, budget_s: float = 60.0,
            read_within: timedelta = REFRESH_READ_WITHIN) -> int:
    """Rebuild the figures read within `read_within` (the worker: REFRESH_READ_WITHIN; a sync without a worker:
    READ_WITHIN, every figure still kept) whose inputs changed (registered builders only), most recently read
    first; forget the ones nobody read within READ_WITHIN. Returns how many
    were brought up to date (one built meanwhile for a figure folded from it is not built again); stops
    after `budget_s` (the rest wait for the next pass)."""
    moment = now or utcnow()
    _write(db, f"DELETE FROM {TABLE} WHERE read_at < ?", [iso(moment - READ_WITHIN)])
    rebuilt, deadline = 0, time.monotonic() + budget_s
    for key, name, args in out_of_date(db, today, moment, read_within):
        fn = BUILDERS.get(name)
        if fn is None:
            continue
        if time.monotonic() > deadline:
            break
        positional, named = json.loads(args)
        try:
            if servable(db, key, today, moment, fresh=True) is None:
                build(db, name, fn, positional, named, today=today, now=moment, read=False)
            rebuilt += 1
        except Exception:  # one broken figure must not stop the others (its reader sees the error)
            log.exception("could not rebuild figure %s", key)
    return rebuilt


def business_today(now: datetime | None = None) -> str:
    """The business date (OPSDASH_TIMEZONE, store/calendar.py) as YYYY-MM-DD."""
    from store.calendar import today

    return today(now).isoformat()


# --- content-addressed values (ui/figures.py: chart specs, formatted big tables) --------------------

CONTENT = "content"


def get_content(db: Database, key: str, now: datetime | None = None) -> Any | None:
    row = db.conn.execute(f"SELECT value, read_at FROM {TABLE} WHERE key = ? AND inputs = ?",
                          [key, CONTENT]).fetchone()
    if row is None:
        return None
    moment = now or utcnow()
    if row[1] < iso(moment - _TOUCH_EVERY):
        touch(db, key, moment)
    return codec.loads(row[0])


def put_content(db: Database, key: str, name: str, value: Any, build_ms: int = 0,
                now: datetime | None = None) -> None:
    moment = iso(now or utcnow())
    _write(db, f"INSERT INTO {TABLE} (key, name, args, inputs, today, built_at, build_ms, read_at, value) "
               "VALUES (?, ?, '[]', ?, '', ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
               "read_at = excluded.read_at",
           [key, name, CONTENT, moment, build_ms, moment, codec.dumps(value)])


_READING: dict[int, list[set[str]]] = {}  # id(connection) -> the tables each build under way on it has read


@contextlib.contextmanager
def reads(conn: sqlite3.Connection) -> Iterator[set[str]]:
    """The tables statements prepared on `conn` inside the block read (a block inside another one: what it reads
    counts for both)."""
    seen: set[str] = set()
    stack = _READING.setdefault(id(conn), [])
    stack.append(seen)

    def authorize(action: int, table: str | None, *_: object) -> int:
        if action == sqlite3.SQLITE_READ and table and table not in _UNTRACKED:
            for tables in stack:
                tables.add(table)
        return sqlite3.SQLITE_OK

    conn.set_authorizer(authorize)
    try:
        yield seen
    finally:
        stack.pop()
        if not stack:
            del _READING[id(conn)]
            conn.set_authorizer(None)


WRITE_WAIT_MS = 500  # a page never waits longer than this for a sync's write lock to keep a figure


def _write(db: Database, sql: str, params: Sequence[Any]) -> None:
    """Keep a figure or note a read; skipped when a writer holds the lock longer than WRITE_WAIT_MS."""
    if is_postgres(db):  # no file lock to wait on (issue 20)
        with transaction(db):
            db.conn.execute(sql, params)
        return
    db.conn.execute(f"PRAGMA busy_timeout = {WRITE_WAIT_MS}")
    try:
        with transaction(db):
            db.conn.execute(sql, params)
    except sqlite3.OperationalError as exc:
        log.warning("figure not stored (%s)", exc)
    finally:
        db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
