"""The CLI runs the job it queued under a fenced claim: if it stalls past its lease and a worker takes the job
over, the CLI's late result is not written and it reports the worker's (issue 11 point 2)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from actions.inline import run_inline
from jobs import jobs
from store.schema import session


def test_a_stalled_inline_run_loses_to_the_worker_that_took_its_job(db_path: Path | str) -> None:
    with session(db_path) as db:
        job_id = jobs.enqueue(db, "upload_orders", {}, "ops@example.com")

        def stalls(job: jobs.Job) -> str:
            assert job.fence == 1
            db.execute("UPDATE jobs SET lease_until = '2000-01-01T00:00:00.000Z' WHERE job_id = ?", [job_id])

            def worker() -> None:  # another thread, like a worker process: its own connection and claim
                with session(db_path) as other:
                    taken = jobs.claim_next(other, "worker-2")
                    assert taken is not None and taken.fence == 2
                    jobs.finish(other, job_id, result="the worker's result")

            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
            return "the stalled CLI's result"

        finished = run_inline(db, job_id, stalls, sleep=lambda _: None)
    assert (finished.status, finished.result, finished.worker_id, finished.fence) == (
        "done", "the worker's result", "worker-2", 2)


def test_an_inline_run_that_keeps_its_lease_writes_its_result(db_path: Path | str) -> None:
    with session(db_path) as db:
        job_id = jobs.enqueue(db, "upload_orders", {}, "ops@example.com")
        seen: dict[str, Any] = {}

        def works(job: jobs.Job) -> dict[str, int]:
            jobs.progress(db, job.job_id, 1, 2, "half way")  # fenced by this thread's claim
            seen["fence"] = job.fence
            return {"sent": 2}

        finished = run_inline(db, job_id, works)
    assert (finished.status, finished.result, seen["fence"]) == ("done", {"sent": 2}, 1)


def test_a_cli_waiting_on_a_job_held_elsewhere_says_whom_it_waits_for(db_path: Path | str) -> None:
    said: list[str] = []
    with session(db_path) as db:
        job_id = jobs.enqueue(db, "upload_orders", {}, "ops@example.com")
        held = jobs.claim(db, job_id, "other-host:4711:worker")
        assert held is not None
        jobs.progress(db, job_id, 3, 12, "sending orders to Qargo", fence=held.fence)

        def the_holder_finishes(_: float) -> None:
            jobs.finish(db, job_id, result="its result", fence=held.fence)

        finished = run_inline(db, job_id, lambda job: "not run here", sleep=the_holder_finishes, say=said.append)
    assert (finished.status, finished.result) == ("done", "its result")
    assert len(said) == 1 and said[0].startswith(
        f"job {job_id} is running (held by other-host:4711:worker, attempt 1, 3 of 12 done, lease until 20")
    assert "waiting for it to end, up to 900 s" in said[0]
