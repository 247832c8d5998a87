"""The worker when PostgreSQL restarts (issue 20): it reconnects by itself (store.db.reopened before each step)
and goes on running jobs, each once, and its refresher beats again; no restart of the worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from jobs import jobs
from jobs.worker import HANDLERS, Worker
from services.settings import Settings
from store.db import connect, utcnow
from tests.pgrestart import Restartable, restartable_fixture  # noqa: F401 - the fixture `restartable`

DEADLINE_S = 30.0


def wait_for(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + DEADLINE_S
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {DEADLINE_S:.0f} s")
        time.sleep(0.05)
    return value


def query(url: str, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    db = connect(url)
    try:
        return [tuple(row) for row in db.execute(sql, params or []).fetchall()]
    finally:
        db.close()


def enqueue(url: str, n: int) -> int:
    db = connect(url)
    try:
        return jobs.enqueue(db, "note", {"n": n}, "test")
    finally:
        db.close()


def test_after_a_restart_the_worker_reconnects_runs_each_job_once_and_beats_again(
        restartable: Restartable, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[int] = []

    def note(worker: Worker, db: object, job: jobs.Job) -> int:
        ran.append(job.payload["n"])
        return int(job.payload["n"])

    monkeypatch.setitem(HANDLERS, "note", note)
    stop = threading.Event()
    thread = threading.Thread(target=Worker(Settings(opsdash_db=restartable.url)).run, args=(stop,),
                              kwargs={"idle_seconds": 0.05, "refresh_every": 0.2}, daemon=True)
    thread.start()
    try:
        first = enqueue(restartable.url, 1)
        wait_for(lambda: query(restartable.url, "SELECT status FROM jobs WHERE job_id = ?", [first]) == [("done",)],
                 "the first job done")
        restartable.stop()
        restartable.start()
        restarted = utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z")
        second = enqueue(restartable.url, 2)
        wait_for(lambda: query(restartable.url, "SELECT status FROM jobs WHERE job_id = ?", [second]) == [("done",)],
                 "the job queued after the restart done by the same worker")
        wait_for(lambda: query(restartable.url, "SELECT 1 FROM figure_worker WHERE beat_at > ?", [restarted]),
                 "the refresher's beat after the restart")
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=30)
    assert ran == [1, 2]
    assert query(restartable.url, "SELECT job_id, status, attempts FROM jobs ORDER BY job_id") == [
        (first, "done", 1), (second, "done", 1)]
