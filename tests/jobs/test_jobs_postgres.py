"""The jobs queue on PostgreSQL under concurrency (issue 20): workers on separate connections hammering one queue
claim every job exactly once (`FOR UPDATE SKIP LOCKED`, fencing kept), and concurrent enqueues of one action give
one job and no error (`ON CONFLICT`). Real PostgreSQL, one connection per thread, as separate processes would."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

from jobs import jobs
from store.db import connect, db_now, iso, leader

WORKERS = 8
JOBS = 300


def _run_threads(count: int, target: object) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            start.wait()
            target(i)  # type: ignore[operator]
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def test_concurrent_workers_claim_every_job_exactly_once(pg_url: str) -> None:
    db = connect(pg_url)
    queued = [jobs.enqueue(db, "sync", {"n": n}, "test") for n in range(JOBS)]
    claimed: list[tuple[int, int]] = []
    left_when_stopped: list[int] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        mine = connect(pg_url)
        try:
            while (job := jobs.claim_next(mine, f"w{i}")) is not None:
                jobs.finish(mine, job.job_id, {"by": i}, fence=job.fence)
                with lock:
                    claimed.append((job.job_id, job.fence))
            # nothing is enqueued meanwhile, so what is still queued now was queued when the claim came back empty
            left = mine.execute("SELECT count(*) FROM jobs WHERE status = 'queued'").fetchone()[0]
            with lock:
                left_when_stopped.append(left)
        finally:
            mine.close()

    assert _run_threads(WORKERS, work) == []
    # A worker stops only when the queue is drained, but for rows other workers are claiming at that moment
    # (without SKIP LOCKED it waits for a locked row, finds it taken, and comes back empty with hundreds left)
    assert max(left_when_stopped) < WORKERS
    counts = Counter(job_id for job_id, _ in claimed)
    assert sorted(counts) == sorted(queued) and set(counts.values()) == {1}
    assert {fence for _, fence in claimed} == {1}
    done = db.execute("SELECT count(*) FROM jobs WHERE status = 'done' AND attempts = 1").fetchone()[0]
    assert done == JOBS
    db.close()


def test_concurrent_enqueues_of_one_action_give_one_job_and_no_error(pg_url: str) -> None:
    ids: list[int] = []
    lock = threading.Lock()

    def enqueue(i: int) -> None:
        mine = connect(pg_url)
        try:
            for _ in range(40):
                found = jobs.enqueue(mine, "validate", {"file": "a.csv"}, f"u{i}", dedupe_key="validate:a.csv")
                with lock:
                    ids.append(found)
        finally:
            mine.close()

    assert _run_threads(WORKERS, enqueue) == []
    assert len(ids) == WORKERS * 40 and len(set(ids)) == 1
    db = connect(pg_url)
    assert db.execute("SELECT count(*) FROM jobs").fetchone()[0] == 1
    db.close()


def test_a_stalled_worker_is_fenced_out_on_the_database_clock(pg_url: str) -> None:
    """The lease is read from PostgreSQL's clock: a job leased for 0 s is taken over by the next claim, and the
    first holder can no longer write its result."""
    db = connect(pg_url)
    job_id = jobs.enqueue(db, "upload", {}, "test")
    first = jobs.claim_next(db, "stalled", lease=timedelta(0))
    assert first is not None and first.job_id == job_id
    assert db.execute("SELECT lease_until <= ? FROM jobs", [iso(db_now(db))]).fetchone()[0]
    other = connect(pg_url)
    second = jobs.claim_next(other, "fresh")
    assert second is not None and second.job_id == job_id and second.fence == first.fence + 1
    try:
        jobs.finish(db, job_id, {"late": True}, fence=first.fence)
        raise AssertionError("the stalled worker wrote its result")
    except jobs.LeaseLost:
        pass
    jobs.finish(other, job_id, {"ok": True}, fence=second.fence)
    assert jobs.get(db, job_id).result == {"ok": True}  # type: ignore[union-attr]
    db.close()
    other.close()


def test_one_worker_per_pass_wins_the_leader_lock(pg_url: str) -> None:
    """The scheduler pass (with alert evaluation) and the figure fold run in whichever worker wins the pass's
    lock; the others skip that pass. The lock goes with the session (a killed worker releases it)."""
    first, second = connect(pg_url), connect(pg_url)
    with (leader(first, "schedule") as won_first, leader(second, "schedule") as won_second,
          leader(second, "figures") as other_pass):
        assert (won_first, won_second, other_pass) == (True, False, True)
    with leader(second, "schedule") as won_after:
        assert won_after
    with leader(first, "schedule") as held:
        first.close()  # the worker dies holding it
        assert held
    # the server ends the dead session a moment later: poll with a deadline
    deadline = time.monotonic() + 10
    while True:
        with leader(second, "schedule") as won_after_death:
            if won_after_death or time.monotonic() > deadline:
                break
    assert won_after_death
    second.close()
