"""The worker: queues due syncs as jobs, then executes jobs (syncs, manual refreshes, actions).

Scheduled syncs go through the same `jobs` table as manual ones, with a dedupe key per resource, so
two workers on one database never run the same sync twice: `jobs.jobs.claim_next` hands each job
to exactly one of them. Runs in its own process (`opsdash worker`) or in a thread of the dashboard.

A job's lease is renewed while work goes on (every page of a sync, every progress update of an
action), fenced by the claim's number: a resource that runs longer than the lease keeps its job,
and a worker that stalled past its lease and lost the job stops at its next page without writing
(jobs/jobs.py `LeaseLost`; sync/engine.py `guard`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from figures import page_summaries, stored
from figures.words import vendor_name
from jobs import jobs
from services.clients import PULL_VENDORS, make_clients
from services.settings import Settings
from store.db import DATABASE_ERRORS, UNAVAILABLE, connect, db_now, iso, leader, reopened, utcnow
from store.schema import migrate
from sync import runs
from sync.engine import RunResult, SyncResource, held_off, run_resource, skip

log = logging.getLogger("opsdash.worker")

Handler = Callable[["Worker", Database, jobs.Job], Any]
HANDLERS: dict[str, Handler] = {}
Scheduled = Callable[[Database, Settings, datetime], Any]
SCHEDULED: list[Scheduled] = []  # periodic work besides syncs (e.g. re-checking unverifiable tax IDs)
REFRESH_EVERY_S = 5.0  # the worker refreshes stored figures at least this often (and after each job), in a thread
REFRESH_BUDGET_S = 30.0  # per refresh: jobs wait meanwhile; what is left waits for the next one


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register a job kind (actions register theirs the same way)."""
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn
    return register




def scheduled(fn: Scheduled) -> Scheduled:
    """Register a function the scheduler calls on every pass; it queues jobs when they are due."""
    SCHEDULED.append(fn)
    return fn





def declared_resources(db: Database, vendors: list[str] | None = None) -> list[SyncResource]:
    from sync.resources import resources_for

    return list(resources_for(db, vendors))


class Worker:
    def __init__(self, settings: Settings, worker_id: str | None = None,
                 clock: Callable[[], datetime] = utcnow, lease: timedelta = jobs.DEFAULT_LEASE) -> None:
        self.settings, self.clock, self.lease = settings, clock, lease
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"

    def schedule_due(self, db: Database) -> list[int]:
        """Queue a sync job for every configured resource whose interval has passed (and first mark the runs
        of dead processes interrupted). On the database's clock, as the sync runs' leases and start times are."""
        now, queued = self._lease_now(db), []
        runs.sweep(db, now)
        for res in declared_resources(db, [v for v in PULL_VENDORS if self.settings.configured(v)]):  # type: ignore[arg-type]
            # an interrupted run does not count: the resource resumes on the next pass, not an interval later
            last = db.execute("SELECT max(started_at) FROM sync_runs WHERE vendor = ? AND resource = ? "
                              "AND status != 'interrupted'", [res.vendor, res.name]).fetchone()[0]
            if last is None or last <= iso(now - res.interval):
                queued.append(jobs.enqueue(db, "sync", {"vendor": res.vendor, "resource": res.name}, "scheduler",
                                           dedupe_key=f"sync:{res.vendor}:{res.name}", now=now))
        for fn in SCHEDULED:
            job_id = fn(db, self.settings, now)
            if job_id is not None:
                queued.append(job_id)
        return queued

    def run_next(self, db: Database) -> jobs.Job | None:
        """Claim and execute one job; returns it, or None when the queue is empty."""
        job = jobs.claim_next(db, self.worker_id, kinds=list(HANDLERS), lease=self.lease, now=self._lease_now(db))
        if job is None:
            return None
        try:
            result = HANDLERS[job.kind](self, db, job)
            jobs.finish(db, job.job_id, result=_jsonable(result), error=_failure(result), fence=job.fence)
        except jobs.LeaseLost as exc:  # another worker holds the job now: its result is the one that counts
            log.warning("job %s (%s) stopped: %s", job.job_id, job.kind, exc)
        except Exception as exc:  # a failed job is recorded, never kills the worker
            log.exception("job %s (%s) failed", job.job_id, job.kind)
            self._finish_failed(db, job, exc)
        return job

    def renew(self, db: Database, job: jobs.Job) -> None:
        """Extend `job`'s lease now (a fenced heartbeat); `jobs.LeaseLost` when it is not ours any more."""
        jobs.heartbeat(db, job.job_id, lease=self.lease, now=self._lease_now(db), fence=job.fence)

    def _lease_now(self, db: Database) -> datetime:
        """Leases run on the database's clock (on PostgreSQL one clock for every machine, issue 20); a clock
        given to the worker (tests) wins."""
        return _now(db, self.clock)

    def _finish_failed(self, db: Database, job: jobs.Job, exc: Exception) -> None:
        try:
            jobs.finish(db, job.job_id, error=f"{type(exc).__name__}: {exc}", fence=job.fence)
        except jobs.LeaseLost as lost:
            log.warning("job %s (%s): %s", job.job_id, job.kind, lost)

    def run(self, stop: threading.Event, idle_seconds: float = 1.0, schedule_every: float = 15.0,
            refresh_every: float = REFRESH_EVERY_S) -> None:
        """Run jobs until `stop`; stored figures are refreshed by a thread of their own, after each job and at
        least every `refresh_every` s, also while a long job runs (a webhook's write during a 45 s sync)."""
        db = connect(self.settings.opsdash_db)
        migrate(db)
        done, wake = threading.Event(), threading.Event()
        refresher = threading.Thread(target=self._refresh_loop, args=(stop, done, wake, refresh_every),
                                     name="opsdash-figures", daemon=True)
        refresher.start()
        next_schedule = 0.0
        try:
            while not stop.is_set():
                try:  # PostgreSQL restarted: reconnect, without a restart of the worker (issue 20)
                    db = reopened(db)
                    if time.monotonic() >= next_schedule:
                        self._schedule_safely(db)
                        next_schedule = time.monotonic() + schedule_every
                    job = self.run_next(db)
                except UNAVAILABLE as exc:  # unreachable or busy: a job it held is taken again after its lease
                    log.warning("database unavailable, retrying in %g s: %s", idle_seconds, exc)
                    job = None
                if job is not None:
                    wake.set()  # the figures it wrote, now
                else:
                    stop.wait(idle_seconds)
        finally:
            done.set()
            wake.set()
            refresher.join(timeout=60)
            db.close()

    def _refresh_loop(self, stop: threading.Event, done: threading.Event, wake: threading.Event,
                      every: float) -> None:
        """A pass every `every` s from the start of the last one (at once when a pass took longer, or a job ended):
        a write waits at most max(every, a pass) + a pass (docs/performance.md, "Staleness")."""
        db = connect(self.settings.opsdash_db)
        try:
            while not (stop.is_set() or done.is_set()):
                started = time.monotonic()
                try:
                    db = reopened(db)  # PostgreSQL restarted: a new connection (UNAVAILABLE until it answers)
                    refresh_figures(db, self.clock)
                except Exception:  # the refresher must outlive a bad pass
                    log.exception("figure refresh failed")
                wake.wait(max(0.0, every - (time.monotonic() - started)))
                wake.clear()
        finally:
            db.close()


    def run_once(self) -> int:
        """One scheduler pass, then every job queued until the queue is empty (`opsdash worker --once`,
        e.g. from cron); returns how many jobs ran."""
        db = connect(self.settings.opsdash_db)
        migrate(db)
        count = 0
        try:
            # the second pass runs what the first pass queued besides syncs (periodic work); the figures the
            # jobs changed are refreshed after each pass
            for _ in range(2):
                self._schedule_safely(db)
                while self.run_next(db) is not None:
                    count += 1
                refresh_figures(db, self.clock)
        finally:
            db.close()
        return count

    def _schedule_safely(self, db: Database) -> None:
        try:
            with leader(db, "schedule") as won:  # PostgreSQL: one worker per pass schedules and evaluates alerts
                if won:
                    self.schedule_due(db)
        except Exception:  # the scheduler must not take the job loop down with it
            log.exception("could not schedule syncs")


def refresh_figures(db: Database, clock: Callable[[], datetime] = utcnow) -> int:
    """Beat (readers leave refreshing to a live worker), then bring the stored figures whose inputs were
    written up to date (figures/stored.py); returns how many were rebuilt."""
    try:
        with leader(db, "figures") as won:  # PostgreSQL: one fold at a time, by whichever worker wins the pass
            if not won:
                return 0
            now = _now(db, clock)  # the beat is compared by readers on other machines: the database's clock
            stored.beat(db, now)
            rebuilt = stored.refresh(db, stored.business_today(now), now, budget_s=REFRESH_BUDGET_S)
            # nobody read a figure lately (a database nobody viewed yet): the pages' default views, so the
            # first view after a sync reads stored figures (cheap when they are current: nothing is built); not
            # while a sync is queued or running (priming between its writes slowed a 1x full sync by ~30 %)
            if not _sync_in_flight(db):
                rebuilt += page_summaries.prime_default_views(db, now)
            stored.beat(db, _now(db, clock))
    except DATABASE_ERRORS:  # e.g. a sync holding the write lock: the next pass refreshes them
        log.warning("could not refresh figures this pass", exc_info=True)
        return 0
    if rebuilt:
        log.info("refreshed %d figures", rebuilt)
    return rebuilt


def _now(db: Database, clock: Callable[[], datetime]) -> datetime:
    """The database's clock (`store.db.db_now`), unless a clock other than the default was given (tests)."""
    return db_now(db) if clock is utcnow else clock()


def _sync_in_flight(db: Database) -> bool:
    return db.conn.execute("SELECT 1 FROM jobs WHERE kind = 'sync' AND status IN ('queued', 'running') "
                           "LIMIT 1").fetchone() is not None


@handler("sync")
def _sync_job(worker: Worker, db: Database, job: jobs.Job) -> list[RunResult]:
    """payload: {"vendor": name, "resource": optional name}: a manual refresh omits the resource."""
    vendor, resource = job.payload["vendor"], job.payload.get("resource")
    selected = [r for r in declared_resources(db, [vendor]) if resource in (None, r.name)]
    clients = make_clients(worker.settings, [vendor])
    if vendor not in clients:
        raise RuntimeError(f"{vendor} is not configured: set {vendor.upper()}_BASE_URL")
    results: list[RunResult] = []
    try:
        for done, res in enumerate(selected):
            jobs.progress(db, job.job_id, done, len(selected),  # words staff read on the Sync page (issue 21)
                          f"syncing {vendor_name(vendor)} {res.name.replace('_', ' ')}",
                          lease=worker.lease, fence=job.fence)
            held = held_off(results, vendor)  # a 429 storm with a long Retry-After ends this vendor's pass
            results.append(skip(db, res, held) if held else
                           run_resource(db, clients[vendor], res, guard=lambda: worker.renew(db, job)))
        jobs.progress(db, job.job_id, len(selected), len(selected), "done", lease=worker.lease, fence=job.fence)
    finally:
        clients[vendor].close()
    return results


def _failure(result: Any) -> str | None:
    if isinstance(result, list) and result and all(isinstance(r, RunResult) for r in result):
        errors = [r.summary() for r in result if not r.ok]
        return "; ".join(errors) or None
    return None


def _jsonable(result: Any) -> Any:
    if isinstance(result, list) and all(isinstance(r, RunResult) for r in result):
        return [r.summary() for r in result]
    return result


def start_inprocess_worker(settings: Settings) -> Callable[[], None]:
    """Start the worker in a daemon thread unless OPSDASH_INPROCESS_WORKER is false; returns stop()."""
    if not settings.opsdash_inprocess_worker:
        return lambda: None
    stop = threading.Event()
    thread = threading.Thread(target=Worker(settings).run, args=(stop,), name="opsdash-worker", daemon=True)
    thread.start()

    def stop_worker() -> None:
        stop.set()
        thread.join(timeout=30)

    return stop_worker
