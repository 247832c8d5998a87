"""The jobs queue: pages enqueue actions, workers claim and run them, pages read progress.

Life cycle: queued -> running -> done | failed (or queued -> cancelled). A running job holds a
lease (`lease_until`) that `progress`/`heartbeat` extend; if its worker dies, `recover_stale` (also run
by every claim) puts the job back in the queue, or fails it after `max_attempts`: at once when its
holder (`worker_id`, "host:pid:...") was a process on this host that no longer exists, else when the
lease has expired (another host's process can only be judged by its lease).

Concurrency: `claim_next` runs under `BEGIN IMMEDIATE` and moves exactly one queued row to
running with `UPDATE ... WHERE status = 'queued' RETURNING`, so two workers (threads or
processes) never claim the same job. A `dedupe_key` keeps the same action from being queued
twice while one is pending (backed by a partial unique index). On PostgreSQL (issue 20) the queued row is
picked `FOR UPDATE SKIP LOCKED` (workers on several machines take different jobs without waiting on each
other) and an enqueue meets the dedupe index with `ON CONFLICT DO NOTHING`. Every time this table holds
(created, started, finished, `lease_until`) and every lease comparison is read from the database's clock
(`store.db.db_now`, on both databases), so machines whose clocks drift agree on when a lease ran out; a caller
that passes `now` (tests) is taken at its word.

Fencing: every claim raises the job's `fence` by one and hands it to the claimer. `progress`,
`heartbeat` and `finish` only act while the row is still running under that fence, else they raise
`LeaseLost`: a worker that stalled past its lease, whose job was re-queued and taken by another,
can neither extend the lease, report progress nor write a result. Callers pass `fence=job.fence`;
without it, the fence this thread claimed the job with is used (so action handlers that call
`progress(db, job.job_id, ...)` are fenced too), and a job this thread never claimed is unfenced.
A handler's own rows are fenced the same way: `ensure_held` inside the row's write transaction.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from store.db import db_now, is_postgres, iso, target_name, transaction
from sync.runs import gone_here

DEFAULT_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 3
PENDING = ("queued", "running")

_COLUMNS = ("job_id, kind, payload, status, dedupe_key, requested_by, created_at, started_at, "
            "finished_at, worker_id, lease_until, attempts, done, total, message, result, error, fence")
_held = threading.local()  # (database file, job_id) -> fence, for the jobs this thread claimed


class LeaseLost(RuntimeError):
    """This worker no longer holds the job (its lease ran out and another worker took it): stop, write nothing."""


@dataclass(frozen=True)
class Job:
    job_id: int
    kind: str
    payload: dict[str, Any]
    status: str
    dedupe_key: str | None
    requested_by: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    worker_id: str | None
    lease_until: str | None
    attempts: int
    done: int
    total: int | None
    message: str | None
    result: Any
    error: str | None
    fence: int = 0


def _job(row: Sequence[Any]) -> Job:
    values = list(row)
    values[2] = json.loads(values[2] or "{}")
    values[15] = json.loads(values[15]) if values[15] is not None else None
    return Job(*values)


def enqueue(
    db: Database, kind: str, payload: dict[str, Any], requested_by: str | None,
    dedupe_key: str | None = None, now: datetime | None = None,
) -> int:
    """Queue a job; with a `dedupe_key` already queued or running, return that job instead."""
    if is_postgres(db):
        return _enqueue_postgres(db, kind, payload, requested_by, dedupe_key, now or db_now(db))
    with transaction(db):
        if dedupe_key is not None:
            found = db.conn.execute(
                "SELECT job_id FROM jobs WHERE dedupe_key = ? AND status IN ('queued', 'running')",
                [dedupe_key]).fetchone()
            if found:
                return int(found[0])
        cursor = db.conn.execute(
            "INSERT INTO jobs (kind, payload, status, dedupe_key, requested_by, created_at) "
            "VALUES (?, ?, 'queued', ?, ?, ?)",
            [kind, json.dumps(payload, sort_keys=True, default=str), dedupe_key, requested_by,
             iso(now or db_now(db))])
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _enqueue_postgres(db: Database, kind: str, payload: dict[str, Any], requested_by: str | None,
                      dedupe_key: str | None, moment: datetime) -> int:
    """PostgreSQL: the insert itself meets the dedupe index (`ON CONFLICT ... DO NOTHING`), so concurrent
    enqueues of one action give one job and no error; the loser reads the winner's id (retried if that job
    ended in between, leaving the key free again)."""
    values = [kind, json.dumps(payload, sort_keys=True, default=str), dedupe_key, requested_by, iso(moment)]
    while True:
        with transaction(db):
            row = db.execute(
                "INSERT INTO jobs (kind, payload, status, dedupe_key, requested_by, created_at) "
                "VALUES (?, ?, 'queued', ?, ?, ?) ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL "
                "AND status IN ('queued', 'running') DO NOTHING RETURNING job_id", values).fetchone()
            if row is None:
                row = db.execute("SELECT job_id FROM jobs WHERE dedupe_key = ? AND status IN ('queued', 'running')",
                                 [dedupe_key]).fetchone()
        if row is not None:
            return int(row[0])


_CLAIM = ("UPDATE jobs SET status = 'running', worker_id = ?, started_at = coalesce(started_at, ?), "
          "lease_until = ?, attempts = attempts + 1, fence = fence + 1 ")


def claim_next(
    db: Database, worker_id: str, kinds: Sequence[str] | None = None, *,
    lease: timedelta = DEFAULT_LEASE, now: datetime | None = None,
) -> Job | None:
    """Atomically take the oldest queued job (of `kinds`, if given) for `worker_id`."""
    kind_filter, params = "", []
    if kinds:
        kind_filter = f" AND kind IN ({', '.join('?' for _ in kinds)})"
        params = list(kinds)
    # PostgreSQL: a queued row another worker is claiming is locked; skip it rather than wait for it and then
    # find it running (SQLite: BEGIN IMMEDIATE already lets one claimer in at a time)
    skip = " FOR UPDATE SKIP LOCKED" if is_postgres(db) else ""
    where = (f"WHERE job_id = (SELECT job_id FROM jobs WHERE status = 'queued'{kind_filter} "
             f"ORDER BY job_id LIMIT 1{skip}) AND status = 'queued'")
    return _claim(db, worker_id, where, params, lease, now or db_now(db))


def claim(db: Database, job_id: int, worker_id: str, *, lease: timedelta = DEFAULT_LEASE,
          now: datetime | None = None) -> Job | None:
    """Take this very job if it is still queued (the CLI runs the job it queued); fenced like `claim_next`."""
    return _claim(db, worker_id, "WHERE job_id = ? AND status = 'queued'", [job_id], lease, now or db_now(db))


def _claim(db: Database, worker_id: str, where: str, params: list[Any], lease: timedelta,
           moment: datetime) -> Job | None:
    with transaction(db):
        recover_stale(db, now=moment)
        # fetchall: a RETURNING statement must run to completion before COMMIT
        rows = db.conn.execute(f"{_CLAIM}{where} RETURNING {_COLUMNS}",
                               [worker_id, iso(moment), iso(moment + lease), *params]).fetchall()
    if not rows:
        return None
    job = _job(rows[0])
    _fences()[_key(db, job.job_id)] = job.fence
    return job


def _fences() -> dict[tuple[str, int], int]:
    if not hasattr(_held, "fences"):
        _held.fences = {}
    fences: dict[tuple[str, int], int] = _held.fences
    return fences


def _key(db: Database, job_id: int) -> tuple[str, int]:
    """Job ids repeat across databases (tests, several caches): key the claim by the database (file or URL)."""
    return target_name(db), job_id


def _fenced(db: Database, job_id: int, fence: int | None) -> tuple[str, list[int]]:
    """The WHERE clause that keeps a write to the holder of `fence` (given, or this thread's claim)."""
    fence = fence if fence is not None else _fences().get(_key(db, job_id))
    if fence is None:
        return "job_id = ?", [job_id]
    return "job_id = ? AND fence = ?", [job_id, fence]


def _lost(db: Database, job_id: int, what: str) -> LeaseLost:
    _fences().pop(_key(db, job_id), None)
    return LeaseLost(f"job {job_id}: not holding it any more (lease expired, another worker took it); "
                     f"{what} not written")


def ensure_held(db: Database, job_id: int, fence: int) -> None:
    """Call inside the write transaction of a handler's own row: `LeaseLost` (and the row is not written)
    unless the job still runs under `fence`. The check and the write commit together."""
    held = db.conn.execute("SELECT 1 FROM jobs WHERE job_id = ? AND fence = ? AND status = 'running'",
                           [job_id, fence]).fetchone()
    if held is None:
        raise _lost(db, job_id, "row")


def heartbeat(db: Database, job_id: int, *, lease: timedelta = DEFAULT_LEASE,
              now: datetime | None = None, fence: int | None = None) -> None:
    """Extend a running job's lease; call more often than the lease length. `LeaseLost` if not ours."""
    moment = now or db_now(db)
    where, params = _fenced(db, job_id, fence)
    with transaction(db):
        changed = db.conn.execute(f"UPDATE jobs SET lease_until = ? WHERE {where} AND status = 'running'",
                                  [iso(moment + lease), *params]).rowcount
    if changed == 0 and len(params) == 2:
        raise _lost(db, job_id, "heartbeat")


def progress(
    db: Database, job_id: int, done: int, total: int | None, message: str | None = None, *,
    lease: timedelta = DEFAULT_LEASE, now: datetime | None = None, fence: int | None = None,
) -> None:
    """Record progress (shown by the jobs page); also extends the lease. `LeaseLost` if not ours."""
    moment = now or db_now(db)
    where, params = _fenced(db, job_id, fence)
    with transaction(db):
        changed = db.conn.execute(
            f"UPDATE jobs SET done = ?, total = ?, message = coalesce(?, message), lease_until = ? "
            f"WHERE {where} AND status = 'running'",
            [done, total, message, iso(moment + lease), *params]).rowcount
    if changed == 0 and len(params) == 2:
        raise _lost(db, job_id, "progress")


def finish(
    db: Database, job_id: int, result: Any = None, error: str | None = None,
    now: datetime | None = None, fence: int | None = None,
) -> None:
    """End a job: `failed` with an error message (for staff: what failed and what to try), else `done`.

    A fenced finish (see the module doc) writes only while this holder still runs the job, else `LeaseLost`."""
    status = "failed" if error else "done"
    encoded = None if result is None else json.dumps(result, sort_keys=True, default=str)
    where, params = _fenced(db, job_id, fence)
    running = " AND status = 'running'" if len(params) == 2 else ""
    with transaction(db):
        changed = db.conn.execute(
            f"UPDATE jobs SET status = ?, result = ?, error = ?, finished_at = ?, lease_until = NULL "
            f"WHERE {where}{running}", [status, encoded, error, iso(now or db_now(db)), *params]).rowcount
    if changed == 0 and running:
        raise _lost(db, job_id, "result")
    _fences().pop(_key(db, job_id), None)


def cancel(db: Database, job_id: int, now: datetime | None = None) -> bool:
    """Cancel a job that has not started; False when it already runs or ended."""
    with transaction(db):
        cursor = db.conn.execute(
            "UPDATE jobs SET status = 'cancelled', finished_at = ? WHERE job_id = ? AND status = 'queued'",
            [iso(now or db_now(db)), job_id])
    return cursor.rowcount == 1


def recover_stale(db: Database, *, now: datetime | None = None, max_attempts: int = MAX_ATTEMPTS) -> int:
    """Re-queue running jobs whose holder is gone (a dead process on this host, or an expired lease); fail
    those out of attempts."""
    moment = iso(now or db_now(db))
    with transaction(db):
        _expire_dead_holders(db, moment)
        failed = db.conn.execute(
            "UPDATE jobs SET status = 'failed', finished_at = ?, lease_until = NULL, "
            "error = 'the worker stopped responding ' || attempts || ' times; queue the action again' "
            "WHERE status = 'running' AND lease_until < ? AND attempts >= ?",
            [moment, moment, max_attempts]).rowcount
        requeued = db.conn.execute(
            "UPDATE jobs SET status = 'queued', worker_id = NULL, lease_until = NULL, "
            "message = CASE WHEN lease_until = ? THEN 'the process running it (' || worker_id || ') is gone; "
            "queued again' ELSE 'worker lease expired; queued again' END "
            "WHERE status = 'running' AND lease_until < ?", [_BEFORE_ANY_TIME, moment]).rowcount
    return failed + requeued


def _expire_dead_holders(db: Database, moment: str) -> None:
    """A running job whose holder process died on this host needs no 5-minute wait: end its lease now."""
    running = db.conn.execute("SELECT job_id, worker_id FROM jobs WHERE status = 'running' "
                              "AND lease_until >= ?", [moment]).fetchall()
    for job_id, worker_id in running:
        if gone_here(worker_id):
            db.conn.execute("UPDATE jobs SET lease_until = ? WHERE job_id = ? AND status = 'running'",
                            [_BEFORE_ANY_TIME, job_id])


_BEFORE_ANY_TIME = "0000-00-00T00:00:00.000Z"  # sorts before every iso() timestamp


def get(db: Database, job_id: int) -> Job | None:
    row = db.conn.execute(f"SELECT {_COLUMNS} FROM jobs WHERE job_id = ?", [job_id]).fetchone()
    return _job(row) if row else None


def recent(
    db: Database, *, limit: int = 50, kinds: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
) -> list[Job]:
    """Newest first, optionally only some kinds/statuses (for the jobs page and the worker)."""
    clauses: list[str] = ["1 = 1"]
    params: list[str | int] = []
    for column, values in (("kind", kinds), ("status", statuses)):
        if values:
            clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    sql = f"SELECT {_COLUMNS} FROM jobs WHERE {' AND '.join(clauses)} ORDER BY job_id DESC LIMIT ?"
    return [_job(r) for r in db.conn.execute(sql, [*params, limit])]
