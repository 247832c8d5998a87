"""The jobs queue: enqueue/dedupe, atomic claims across threads and processes, leases, progress."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from jobs import jobs
from store.db import connect
from tests.conftest import NOW


def test_enqueue_and_claim_in_order(db: Database) -> None:
    first = jobs.enqueue(db, "upload_orders", {"file": "a.csv"}, "ops@x", now=NOW)
    second = jobs.enqueue(db, "validate_tax_ids", {"n": 2}, "fin@x", now=NOW)
    job = jobs.claim_next(db, "w1", now=NOW)
    assert job is not None
    assert (job.job_id, job.kind, job.payload, job.status, job.worker_id, job.attempts) == (
        first, "upload_orders", {"file": "a.csv"}, "running", "w1", 1)
    assert job.lease_until == "2025-03-10T12:05:00.000Z"
    assert jobs.claim_next(db, "w1", kinds=["sync"], now=NOW) is None
    assert jobs.claim_next(db, "w1", kinds=["validate_tax_ids"], now=NOW).job_id == second  # type: ignore[union-attr]
    assert jobs.claim_next(db, "w1", now=NOW) is None


def test_dedupe_key_returns_pending_job(db: Database) -> None:
    a = jobs.enqueue(db, "sync", {"vendor": "qargo"}, "u", dedupe_key="sync:qargo", now=NOW)
    assert jobs.enqueue(db, "sync", {"vendor": "qargo"}, "u", dedupe_key="sync:qargo", now=NOW) == a
    jobs.claim_next(db, "w", now=NOW)
    assert jobs.enqueue(db, "sync", {}, "u", dedupe_key="sync:qargo", now=NOW) == a  # running still dedupes
    jobs.finish(db, a, result={"pages": 1}, now=NOW)
    b = jobs.enqueue(db, "sync", {}, "u", dedupe_key="sync:qargo", now=NOW)
    assert b != a
    assert jobs.enqueue(db, "sync", {}, "u", dedupe_key="sync:quaderno", now=NOW) not in (a, b)


def test_progress_and_finish(db: Database) -> None:
    job_id = jobs.enqueue(db, "validate_tax_ids", {}, "u", now=NOW)
    jobs.claim_next(db, "w", now=NOW)
    jobs.progress(db, job_id, 5, 10, "5 of 10 checked", now=NOW + timedelta(minutes=4))
    job = jobs.get(db, job_id)
    assert job is not None
    assert (job.done, job.total, job.message, job.lease_until) == (5, 10, "5 of 10 checked",
                                                                   "2025-03-10T12:09:00.000Z")
    jobs.finish(db, job_id, result={"valid": 9, "invalid": 1}, now=NOW)
    done = jobs.get(db, job_id)
    assert done is not None and (done.status, done.result, done.lease_until) == (
        "done", {"valid": 9, "invalid": 1}, None)
    failed = jobs.enqueue(db, "x", {}, "u", now=NOW)
    jobs.finish(db, failed, error="Quaderno is unavailable: try again later", now=NOW)
    assert jobs.get(db, failed).status == "failed"  # type: ignore[union-attr]


def test_cancel_only_queued(db: Database) -> None:
    a, b = jobs.enqueue(db, "x", {}, "u", now=NOW), jobs.enqueue(db, "x", {}, "u", now=NOW)
    jobs.claim_next(db, "w", now=NOW)
    assert (jobs.cancel(db, a, now=NOW), jobs.cancel(db, b, now=NOW)) == (False, True)
    assert [j.status for j in jobs.recent(db)] == ["cancelled", "running"]
    assert [j.job_id for j in jobs.recent(db, statuses=["running"])] == [a]


@pytest.mark.parametrize(("attempts", "status"), [(1, "queued"), (2, "queued"), (3, "failed")])
def test_stale_lease_recovery(db: Database, attempts: int, status: str) -> None:
    job_id = jobs.enqueue(db, "x", {}, "u", now=NOW)
    moment = NOW
    for _ in range(attempts):
        assert jobs.claim_next(db, "dead-worker", now=moment) is not None
        moment += timedelta(minutes=6)  # the lease (5 min) expires without a heartbeat
    assert jobs.recover_stale(db, now=moment) == 1
    job = jobs.get(db, job_id)
    assert job is not None and (job.status, job.worker_id is None or status == "failed") == (status, True)
    if status == "queued":
        assert jobs.claim_next(db, "w2", now=moment).worker_id == "w2"  # type: ignore[union-attr]


def test_live_lease_is_not_recovered(db: Database) -> None:
    job_id = jobs.enqueue(db, "x", {}, "u", now=NOW)
    jobs.claim_next(db, "w", now=NOW)
    jobs.heartbeat(db, job_id, now=NOW + timedelta(minutes=4))
    assert jobs.recover_stale(db, now=NOW + timedelta(minutes=6)) == 0
    assert jobs.claim_next(db, "other", now=NOW + timedelta(minutes=6)) is None


def _drain(path: Path, worker: str) -> list[int]:
    db = connect(path)
    claimed = []
    while (job := jobs.claim_next(db, worker)) is not None:
        claimed.append(job.job_id)
        jobs.finish(db, job.job_id, result="ok")
    db.close()
    return claimed


def test_threads_claim_each_job_once(db_path: Path) -> None:
    db = connect(db_path)
    ids = [jobs.enqueue(db, "x", {"i": i}, "u") for i in range(60)]
    db.close()
    results: dict[str, list[int]] = {}
    threads = [threading.Thread(target=lambda w=w: results.__setitem__(w, _drain(db_path, w)))
               for w in ("t1", "t2", "t3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    claimed = [j for w in results.values() for j in w]
    assert sorted(claimed) == ids


def test_processes_claim_each_job_once(db_path: Path) -> None:
    db = connect(db_path)
    ids = [jobs.enqueue(db, "x", {"i": i}, "u") for i in range(40)]
    db.close()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        lists = pool.starmap(_drain, [(db_path, "p1"), (db_path, "p2")])
    assert sorted(j for lst in lists for j in lst) == ids


# --- fencing (issue 11 point 2): a second worker takes only a job whose holder stopped -------------

def test_each_claim_raises_the_fence_and_a_stale_holder_can_write_nothing(db: Database) -> None:
    job_id = jobs.enqueue(db, "sync", {}, "u", now=NOW)
    first = jobs.claim_next(db, "w1", lease=timedelta(minutes=1), now=NOW)
    assert first is not None and first.fence == 1
    later = NOW + timedelta(minutes=2)  # w1 stalled past its lease
    second = jobs.claim_next(db, "w2", now=later)
    assert second is not None and (second.job_id, second.fence, second.worker_id) == (job_id, 2, "w2")
    for stale_write in (lambda: jobs.heartbeat(db, job_id, fence=1, now=later),
                        lambda: jobs.progress(db, job_id, 9, 9, "w1 thinks it is done", fence=1, now=later),
                        lambda: jobs.finish(db, job_id, result="w1's result", fence=1, now=later)):
        with pytest.raises(jobs.LeaseLost, match=f"job {job_id}"):
            stale_write()
    jobs.progress(db, job_id, 1, 2, "w2 at work", fence=2, now=later)
    jobs.finish(db, job_id, result="w2's result", fence=2, now=later)
    done = jobs.get(db, job_id)
    assert done is not None and (done.status, done.result, done.message, done.worker_id) == (
        "done", "w2's result", "w2 at work", "w2")


def test_progress_renews_the_lease_so_a_long_job_is_not_taken(db: Database) -> None:
    job_id = jobs.enqueue(db, "sync", {}, "u", now=NOW)
    job = jobs.claim_next(db, "w1", lease=timedelta(minutes=1), now=NOW)
    assert job is not None
    for minute in range(1, 10):  # nine minutes of work, reporting every 50 s
        moment = NOW + timedelta(seconds=50 * minute)
        jobs.progress(db, job_id, minute, 10, lease=timedelta(minutes=1), now=moment)  # this thread's fence
        assert jobs.claim_next(db, "w2", now=moment + timedelta(seconds=30)) is None


def test_an_unclaimed_job_can_still_be_finished_without_a_fence(db: Database) -> None:
    job_id = jobs.enqueue(db, "x", {}, "u", now=NOW)
    jobs.finish(db, job_id, error="refused before it ran", now=NOW)
    assert jobs.get(db, job_id).status == "failed"  # type: ignore[union-attr]


def _dead_pid() -> int:
    """The pid of a process that has ended (reaped): no process on this host has it now."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid


def test_a_job_whose_holder_died_on_this_host_is_taken_at_once_not_after_its_lease(db: Database) -> None:
    import socket

    job_id = jobs.enqueue(db, "upload_orders", {}, "ops@x", now=NOW)
    dead = f"{socket.gethostname()}:{_dead_pid()}:inline"
    assert jobs.claim(db, job_id, dead, now=NOW) is not None  # lease until 12:05
    taken = jobs.claim_next(db, "w2", now=NOW + timedelta(seconds=1))
    assert taken is not None and (taken.job_id, taken.attempts, taken.fence) == (job_id, 2, 2)
    assert taken.message == f"the process running it ({dead}) is gone; queued again"


def test_a_job_held_on_another_host_waits_for_its_lease(db: Database) -> None:
    job_id = jobs.enqueue(db, "upload_orders", {}, "ops@x", now=NOW)
    assert jobs.claim(db, job_id, f"elsewhere.example:{_dead_pid()}:1", now=NOW) is not None
    assert jobs.claim_next(db, "w2", now=NOW + timedelta(minutes=4)) is None  # its process can't be checked
    assert jobs.claim_next(db, "w2", now=NOW + timedelta(minutes=5, seconds=1)).job_id == job_id  # type: ignore[union-attr]
