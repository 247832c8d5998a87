"""Writes a page asks for. They only enqueue jobs: the worker (jobs/worker.py) does the work."""

from __future__ import annotations

from jobs import jobs
from store.schema import session
from ui import data


def request_refresh(vendor: str, requested_by: str) -> int:
    """Queue a sync of `vendor` for the signed-in user `requested_by` (ui.operations.actor_name); a refresh
    already queued or running is reused (same job id). No default: a job always names who asked."""
    with session(data.db_path()) as db:
        job_id = jobs.enqueue(db, "sync", {"vendor": vendor}, requested_by,
                              dedupe_key=f"refresh:{vendor}")
    data.clear()
    return job_id
