"""Run one queued job in the calling process (the CLI), without a separate worker.

The job still goes through the `jobs` table, so the dashboard shows it and a second caller with the same
dedupe key gets the same job: when a worker already runs it, we wait for that run instead of racing it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from cache import jobs

WAIT_TIMEOUT = 900.0


def claim(db: Database, job_id: int, worker_id: str) -> jobs.Job | None:
    """Take this very job if it is still queued (`jobs.claim_next` would take the oldest of any). The claim is
    fenced: should this process stall past its lease and a worker take the job over, this run's progress and
    result writes raise `jobs.LeaseLost` instead of racing the worker's."""
    return jobs.claim(db, job_id, worker_id)


def run_inline(
    db: Database, job_id: int, execute: Callable[[jobs.Job], Any], *,
    timeout: float = WAIT_TIMEOUT, sleep: Callable[[float], None] = time.sleep,
) -> jobs.Job:
    """Execute `job_id` here and record its end; returns the finished job."""
    job = claim(db, job_id, f"inline:{os.getpid()}")
    if job is None:
        return wait(db, job_id, timeout=timeout, sleep=sleep)
    try:
        jobs.finish(db, job_id, result=execute(job), fence=job.fence)
    except jobs.LeaseLost:  # a worker took the job over while this process stalled: its run is the one
        return wait(db, job_id, timeout=timeout, sleep=sleep)
    except Exception as exc:  # noqa: BLE001 - recorded on the job like the worker does; the caller reads it back
        try:
            jobs.finish(db, job_id, error=f"{type(exc).__name__}: {exc}", fence=job.fence)
        except jobs.LeaseLost:
            return wait(db, job_id, timeout=timeout, sleep=sleep)
    finished = jobs.get(db, job_id)
    assert finished is not None
    return finished


def wait(db: Database, job_id: int, *, timeout: float = WAIT_TIMEOUT,
         sleep: Callable[[float], None] = time.sleep) -> jobs.Job:
    """Poll until the job (run elsewhere) ends; `TimeoutError` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        job = jobs.get(db, job_id)
        if job is None:
            raise LookupError(f"job {job_id} does not exist")
        if job.status not in jobs.PENDING:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} is still {job.status} after {timeout:.0f} s; check the jobs page")
        sleep(0.5)
