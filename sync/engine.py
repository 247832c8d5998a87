"""One loop syncs every declared resource (sync/resources.py): fetch pages, map, upsert, checkpoint.

A `SyncResource` is data: vendor, resource name (as in `figures.freshness.SOURCES`), table, key, how
to fetch pages from a cursor state, how to map a vendor record to a row, and the incremental mode:

- "full":         every run reads everything; `after_full_pass` may stamp records the vendor dropped,
                  unless the last batch says `verified = False` (its read may have skipped records).
- "since":        the vendor filters by change time (Qasida `since`); the next run asks from the
                  SERVER's time at the start of the last successful run, never the local clock.
- "newest_first": the vendor lists newest first (Quaderno `created_before`); a run stops at the newest
                  id already stored; every `full_every` a full pass catches state changes and deletions.

A failure keeps every page already upserted, leaves the checkpoint at the last complete page, and is
recorded in `sync_runs`; the next run resumes from there. Upserts are idempotent.

Each page is written in one transaction: the caller's `guard` (the worker's fenced job heartbeat:
it raises when another worker has taken the job over), the rows, the checkpoint and the run's
progress and lease (sync/runs.py), so a holder that lost its job writes nothing more. A run
stopped by anything else than a vendor failure (lease lost, shutdown, a bug) is recorded as
`interrupted` on the way out; a run whose process was killed is marked so at the next start.
Checkpoints hold record ids and cursors only, never record contents.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol

from sqlite_utils import Database

from services.core import RateLimited, VendorError
from store.db import db_now, iso, transaction
from store.store import finish_sync_run, get_checkpoint, set_checkpoint, upsert_records
from sync import runs

log = logging.getLogger("opsdash.sync")

Mode = Literal["full", "since", "newest_first"]
Row = dict[str, Any]


class Batch(Protocol):
    """What a fetch yields: the core's `Page` fits, so does any list of records with a checkpoint."""

    records: list[Any]

    def checkpoint(self) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class SyncState:
    """What a fetch starts from: a page to resume at, a `since` time, or the newest id stored."""

    resume: dict[str, Any] | None = None
    since: str | None = None
    newest: str | None = None
    full: bool = True  # this run reads everything (no `since`, no stop at `newest`)


Fetch = Callable[[Any, SyncState], Iterable[Batch]]


@dataclass(frozen=True)
class SyncResource:
    vendor: str
    name: str
    table: str
    pk: str | tuple[str, ...]
    fetch: Fetch
    to_row: Callable[[Any], Row]
    mode: Mode = "full"
    interval: timedelta = timedelta(minutes=15)
    full_every: timedelta = timedelta(hours=6)
    record_id: Callable[[Any], str] = str  # newest_first: the id compared with the stored newest
    insert_only: tuple[str, ...] = ()
    stamp: tuple[str, ...] = ()  # columns set to the run's time like synced_at (Cargobase last_seen_at)
    after_full_pass: Callable[[Database, str], None] | None = None  # (db, run start ISO)
    max_pages: int = 10_000


@dataclass
class RunResult:
    vendor: str
    resource: str
    pages: int = 0
    inserted: int = 0
    updated: int = 0
    error: str | None = None
    full: bool = False
    retry_after: float | None = None  # the vendor rate-limited us and asked for this many seconds

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        head = f"{self.vendor}/{self.resource}: {self.pages} pages, +{self.inserted} new, {self.updated} updated"
        return f"{head}, FAILED: {self.error}" if self.error else head


@dataclass
class _Checkpoint:
    resume: dict[str, Any] | None = None
    since: str | None = None
    newest: str | None = None
    last_full: str | None = None
    run: dict[str, Any] = field(default_factory=dict)  # the interrupted run's own state

    @classmethod
    def load(cls, db: Database, res: SyncResource) -> _Checkpoint:
        stored = get_checkpoint(db, res.vendor, res.name)
        if not stored or not stored["cursor"]:
            return cls()
        data = json.loads(stored["cursor"])
        return cls(**{k: data.get(k) for k in ("resume", "since", "newest", "last_full")}, run=data.get("run") or {})

    def save(self, db: Database, res: SyncResource) -> None:
        cursor = {"resume": self.resume, "since": self.since, "newest": self.newest,
                  "last_full": self.last_full, "run": self.run}
        set_checkpoint(db, res.vendor, res.name, json.dumps(cursor), server_time=self.since)


Guard = Callable[[], None]


def run_resource(db: Database, client: Any, res: SyncResource, now: datetime | None = None, *,
                 guard: Guard | None = None) -> RunResult:
    """One run of `res`; `guard` runs inside each page's write and may raise to stop it (lease lost). The run's
    start, lease and heartbeats are on the database's clock (another process judges the lease), unless `now` is
    given (tests: it stays fixed)."""
    moment = now or db_now(db)
    clock = (lambda: moment) if now is not None else (lambda: db_now(db))
    cp = _Checkpoint.load(db, res)
    run_id = runs.start(db, res.vendor, res.name, moment)
    if not cp.resume:  # a fresh run (not resuming an interrupted one) decides full or incremental
        cp.run = {"full": _wants_full(res, cp, moment), "started": iso(moment)}
    state = SyncState(resume=cp.resume, since=cp.since, newest=cp.newest, full=bool(cp.run.get("full")))
    result = RunResult(res.vendor, res.name, full=state.full)
    try:
        _pull(db, client, res, cp, state, result, moment, _Progress(run_id, clock, guard))
    except (VendorError, ValueError) as exc:  # ValueError: a record the mapper could not read
        result.error = _message(exc)
        result.retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        log.warning("sync %s/%s failed: %s", res.vendor, res.name, result.error)
    except BaseException as exc:  # lease lost, shutdown, a bug: recorded, then passed on
        _interrupted(db, run_id, exc, clock())
        raise
    finish_sync_run(db, run_id, pages=result.pages, inserted=result.inserted, updated=result.updated,
                    error=result.error)
    return result


@dataclass(frozen=True)
class _Progress:
    run_id: int
    clock: Callable[[], datetime]
    guard: Guard | None

    def page(self, db: Database, result: RunResult) -> None:
        """Inside the page's transaction: the guard first, then the run's counts and lease."""
        if self.guard is not None:
            self.guard()
        runs.renew(db, self.run_id, result.pages, result.inserted, result.updated, self.clock())


def _interrupted(db: Database, run_id: int, exc: BaseException, now: datetime) -> None:
    try:
        runs.interrupt(db, run_id, f"interrupted ({type(exc).__name__}: {_message(exc)})"[:300], now)
    except Exception:  # the database itself may be what failed: the next start marks the run then
        log.exception("could not mark sync run %s interrupted", run_id)


def _pull(db: Database, client: Any, res: SyncResource, cp: _Checkpoint, state: SyncState,
          result: RunResult, moment: datetime, progress: _Progress) -> None:
    synced_at = iso(moment)
    vouched = True
    for batch in _bounded(res.fetch(client, state), res.max_pages):
        vouched = getattr(batch, "verified", None) is not False  # a read's own verdict (Cargobase)
        if "server_time" not in cp.run:
            cp.run["server_time"] = _server_time(batch) or synced_at
        records, reached_known = _until_known(res, state, batch.records)
        if records and res.mode == "newest_first" and "newest" not in cp.run and not state.resume:
            cp.run["newest"] = res.record_id(records[0])  # an id only: a checkpoint holds no record contents
        stamps = dict.fromkeys(res.stamp, synced_at)  # the same clock as after_full_pass's run start
        rows = [{**res.to_row(r), **stamps, "synced_at": synced_at} for r in records]
        with transaction(db):  # the guard, the rows, the checkpoint and the run's progress: all or none
            counts = upsert_records(db, res.table, rows, res.pk, insert_only=res.insert_only)
            result.pages, result.inserted, result.updated = (result.pages + 1, result.inserted + counts.inserted,
                                                             result.updated + counts.updated)
            cp.resume = None if reached_known else batch.checkpoint()
            cp.save(db, res)
            progress.page(db, result)
        if reached_known or cp.resume is None:
            break
    _complete(db, res, cp, state, vouched)


def _complete(db: Database, res: SyncResource, cp: _Checkpoint, state: SyncState, vouched: bool = True) -> None:
    """`vouched` False: the fetch's last batch said its read may have skipped records (a list that
    changed while paged), so `after_full_pass` (which marks unseen rows gone) does not run."""
    cp.resume = None
    cp.since = cp.run.get("server_time") or cp.since
    cp.newest = cp.run.get("newest") or cp.newest
    if state.full:
        cp.last_full = cp.run.get("started")
        if res.after_full_pass and vouched:
            res.after_full_pass(db, cp.run["started"])
    cp.run = {}
    cp.save(db, res)


def _wants_full(res: SyncResource, cp: _Checkpoint, moment: datetime) -> bool:
    if res.mode == "full" or cp.last_full is None:
        return True
    return datetime.fromisoformat(cp.last_full) <= moment - res.full_every


def _until_known(res: SyncResource, state: SyncState, records: list[Any]) -> tuple[list[Any], bool]:
    """newest_first: keep records newer than the newest stored; True once we reach it."""
    if res.mode != "newest_first" or state.full or state.newest is None:
        return records, False
    for i, record in enumerate(records):
        if _id_key(res.record_id(record)) <= _id_key(state.newest):
            return records[:i], True
    return records, False


def _id_key(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def _server_time(batch: Batch) -> str | None:
    """The vendor's own clock at the first page: an explicit server-time header (ISO), else HTTP `Date`."""
    response = getattr(batch, "response", None)
    if response is None:
        return None
    explicit, date = response.headers.get("x-server-time"), response.headers.get("date")
    try:
        if explicit:
            return iso(datetime.fromisoformat(explicit))
        return iso(parsedate_to_datetime(date)) if date else None
    except (TypeError, ValueError):
        return None


def _bounded(batches: Iterable[Batch], limit: int) -> Iterator[Batch]:
    for number, batch in enumerate(batches, start=1):
        if number > limit:
            raise ValueError(f"more than {limit} pages: stopped to protect the vendor; raise max_pages if real")
        yield batch


def _message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


# A vendor that answers 429 asking for a longer wait than this ends the pass for that vendor: its other
# resources are recorded as not run instead of each blocking the worker on the shared limiter.
STORM_SKIP_SECONDS = 30.0


def run_all(db: Database, clients: Mapping[str, Any], resources: Iterable[SyncResource],
            now: datetime | None = None) -> list[RunResult]:
    """One pass over `resources` whose vendor has a client; a vendor's failure doesn't stop the others."""
    results: list[RunResult] = []
    for res in resources:
        if res.vendor in clients:
            held = held_off(results, res.vendor)
            results.append(skip(db, res, held, now) if held else run_resource(db, clients[res.vendor], res, now))
    return results


def held_off(results: Iterable[RunResult], vendor: str) -> RunResult | None:
    """The earlier result of this pass in which `vendor` asked us to wait long (a 429 storm), if any."""
    return next((r for r in results if r.vendor == vendor and (r.retry_after or 0) > STORM_SKIP_SECONDS), None)


def skip(db: Database, res: SyncResource, cause: RunResult, now: datetime | None = None) -> RunResult:
    """Record `res` as not run in this pass because its vendor asked us to wait (see `held_off`)."""
    moment = now or db_now(db)
    error = (f"not run: {res.vendor.title()} asked us to wait {cause.retry_after:.0f} s (rate limited while "
             f"syncing {cause.resource}); the next pass runs it")
    run_id = runs.start(db, res.vendor, res.name, moment)
    finish_sync_run(db, run_id, error=error)
    return RunResult(res.vendor, res.name, error=error, retry_after=cause.retry_after)


def with_fetch(res: SyncResource, fetch: Fetch) -> SyncResource:
    """The same declaration with another fetch (tests swap in fakes this way)."""
    return replace(res, fetch=fetch)
