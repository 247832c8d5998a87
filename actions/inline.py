"""Run one queued job in the calling process (the CLI), without a separate worker.

The job still goes through the `jobs` table, so the dashboard shows it and a second caller with the same
dedupe key gets the same job. When another process holds it, we wait for that run instead of racing it,
and say so (`say`: who holds it, until when its lease runs); on every poll we try to take it, so a job
whose holder died on this host (a killed CLI or worker) is taken at once, and one whose lease ran out
as soon as it did (jobs/jobs.py `recover_stale`).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from jobs import jobs

WAIT_TIMEOUT = 900.0
POLL_SECONDS = 1.0

Say = Callable[[str], None]


def _silent(_: str) -> None:
    return None


def claim(db: Database, job_id: int, worker_id: str) -> jobs.Job | None:
    """Take this very job if it is still queued (`jobs.claim_next` would take the oldest of any). The claim is
    fenced: should this process stall past its lease and a worker take the job over, this run's progress and
    result writes raise `jobs.LeaseLost` instead of racing the worker's."""
    return jobs.claim(db, job_id, worker_id)


def holder_id() -> str:
    """"host:pid:inline": the same shape as a worker's id, so a dead CLI is recognised on this host."""
    return f"{socket.gethostname()}:{os.getpid()}:inline"


def run_inline(
    db: Database, job_id: int, execute: Callable[[jobs.Job], Any], *,
    timeout: float = WAIT_TIMEOUT, sleep: Callable[[float], None] = time.sleep, say: Say = _silent,
    clock: Callable[[], float] = time.monotonic,
) -> jobs.Job:
    """Execute `job_id` here (or wait for its holder, saying so) and record its end; returns the ended job."""
    deadline, told = clock() + timeout, ""
    while True:
        job = claim(db, job_id, holder_id())
        if job is not None:
            if told or job.attempts > 1:  # e.g. "the process running it (host:4711:inline) is gone"
                say(f"job {job_id}: {job.message or 'queued again'}; taken over here (attempt {job.attempts})")
            ended = _execute(db, job, execute)
            if ended is not None:
                return ended
            continue  # a worker took the job over while this process stalled: its run is the one
        current = jobs.get(db, job_id)
        if current is None:
            raise LookupError(f"job {job_id} does not exist")
        if current.status not in jobs.PENDING:
            return current
        if _who(current) != told:  # once per holder, not per progress update
            say(waiting_note(current, timeout))
            told = _who(current)
        if clock() > deadline:
            raise TimeoutError(f"job {job_id} is still {current.status} ({_holder(current)}) after "
                               f"{timeout:.0f} s; check the jobs page")
        sleep(POLL_SECONDS)


def _execute(db: Database, job: jobs.Job, execute: Callable[[jobs.Job], Any]) -> jobs.Job | None:
    """Run and record the end; None when the lease was lost (another holder's end is the one to report)."""
    try:
        jobs.finish(db, job.job_id, result=execute(job), fence=job.fence)
    except jobs.LeaseLost:
        return None
    except Exception as exc:  # noqa: BLE001 - recorded on the job like the worker does; the caller reads it back
        try:
            jobs.finish(db, job.job_id, error=f"{type(exc).__name__}: {exc}", fence=job.fence)
        except jobs.LeaseLost:
            return None
    return jobs.get(db, job.job_id)


def waiting_note(job: jobs.Job, timeout: float) -> str:
    """What a waiting CLI prints once per holder: whom it waits for and until when at most."""
    return (f"job {job.job_id} is {job.status} ({_holder(job)}); waiting for it to end, up to {timeout:.0f} s. "
            "A holder that died on this host is taken over at once; one elsewhere when its lease runs out")


def _who(job: jobs.Job) -> str:
    return f"{job.status}:{job.worker_id}:{job.attempts}"


def _holder(job: jobs.Job) -> str:
    if job.status != "running":
        return "waiting for a worker"
    return (f"held by {job.worker_id}, attempt {job.attempts}, {job.done} of {job.total or '?'} done, "
            f"lease until {job.lease_until}")
