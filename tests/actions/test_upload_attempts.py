"""An upload job over several attempts (issue 22): one row per order line, an earlier attempt's in-flight
uploads polled instead of sent again, a holder that lost its job sends and writes nothing more."""

from __future__ import annotations

from typing import Any

import pytest
from sqlite_utils import Database

from actions import orders
from actions.order_file import parse_orders
from actions.orders import Polling
from jobs import jobs
from services.clients import make_client
from services.core import VendorClient
from services.settings import Settings
from tests.actions.conftest import OPERATOR
from tests.actions.test_orders import batch_csv


class Counting:
    """A Qargo client that counts POSTs and GETs, and runs `after_post` once after the first POST."""

    def __init__(self, client: VendorClient, after_post: Any = None) -> None:
        self.client, self.after_post, self.posts, self.gets = client, after_post, 0, 0

    def post_json(self, url: str, **kwargs: Any) -> Any:
        answer = self.client.post_json(url, **kwargs)
        self.posts += 1
        if self.after_post is not None:
            self.after_post()
            self.after_post = None
        return answer

    def get_json(self, url: str, **kwargs: Any) -> Any:
        self.gets += 1
        return self.client.get_json(url, **kwargs)


class Crash(Exception):
    """Stands for a kill: the run stops where it is, nothing is cleaned up."""


def queue(db: Database, tag: str) -> int:
    data = batch_csv(*({"customer_code": f"C0000{n}", "erp_order_number": f"SO-{tag}{n}"} for n in (1, 2, 3)))
    return orders.submit_upload(db, OPERATOR, parse_orders(data, "csv").inputs)


def take_over(db: Database, job_id: int) -> jobs.Job:
    """The holder's lease runs out and another worker claims the job (fence + 1)."""
    db.execute("UPDATE jobs SET lease_until = '2000-01-01T00:00:00.000Z' WHERE job_id = ?", [job_id])
    job = jobs.claim_next(db, "worker-2")
    assert job is not None and job.job_id == job_id
    return job


def run(db: Database, settings: Settings, job: jobs.Job, client: Counting, polling: Polling) -> dict[str, Any]:
    return orders.run_upload(db, settings, job, polling, client=client)  # type: ignore[arg-type]


def test_in_flight_uploads_of_an_earlier_attempt_are_polled_not_sent_again(
        db: Database, settings: Settings, fast_polling: Polling) -> None:
    job_id = queue(db, "P")
    first = jobs.claim(db, job_id, "worker-1")
    assert first is not None

    def crash(_: float) -> None:
        raise Crash

    with make_client(settings, "qargo") as qargo:
        with pytest.raises(Crash):  # all three sent, killed before the first poll
            run(db, settings, first, Counting(qargo), Polling(interval=0.0, sleep=crash))
        assert [r["status"] for r in orders.uploads_for_job(db, job_id)] == ["IN_PROGRESS"] * 3
        second = Counting(qargo)
        result = run(db, settings, take_over(db, job_id), second, fast_polling)
    assert (second.posts, result["by_status"], orders.message(result)) == (
        0, {"COMPLETED": 3}, "3 of 3 orders uploaded")
    rows = orders.uploads_for_job(db, job_id)
    assert len(rows) == 3 and all(r["order_id"] for r in rows)
    assert [r[0] for r in db.execute("SELECT attempt FROM order_uploads ORDER BY line")] == [2, 2, 2]


def test_a_send_whose_answer_was_not_stored_is_sent_again_and_said_so(
        db: Database, settings: Settings, fast_polling: Polling) -> None:
    job_id = queue(db, "L")
    first = jobs.claim(db, job_id, "worker-1")
    assert first is not None
    taken: list[jobs.Job] = []
    with make_client(settings, "qargo") as qargo:
        stalled = Counting(qargo, after_post=lambda: taken.append(take_over(db, job_id)))
        with pytest.raises(jobs.LeaseLost):
            run(db, settings, first, stalled, fast_polling)
        assert stalled.posts == 1  # the answer to its one POST is not written (fenced), nothing more sent
        assert db.execute("SELECT line, status, attempt FROM order_uploads").fetchall() == [(0, "SENDING", 1)]
        result = run(db, settings, taken[0], Counting(qargo), fast_polling)
    rows = orders.uploads_for_job(db, job_id)
    assert [r["status"] for r in rows] == ["DUPLICATE", "COMPLETED", "COMPLETED"]
    assert rows[0]["error"].startswith("sent again: attempt 1 stopped before Qargo's answer was stored")
    assert orders.message(result) == (
        "2 of 3 orders uploaded, 1 duplicate (already in Qargo with the same order identifier: nothing changed) "
        "of which 1 sent again after an interrupted send (most likely created by that send)")


def test_a_holder_that_lost_its_job_between_two_orders_sends_nothing_more(
        db: Database, settings: Settings, fast_polling: Polling, monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = queue(db, "S")
    first = jobs.claim(db, job_id, "worker-1")
    assert first is not None
    taken: list[jobs.Job] = []
    progress = jobs.progress

    def stall_after_first_progress(*args: Any, **kwargs: Any) -> None:
        progress(*args, **kwargs)
        if not taken:  # the holder stalls here, past its lease, and another worker takes the job
            taken.append(take_over(db, job_id))

    monkeypatch.setattr(jobs, "progress", stall_after_first_progress)
    with make_client(settings, "qargo") as qargo:
        stalled = Counting(qargo)
        with pytest.raises(jobs.LeaseLost):
            run(db, settings, first, stalled, fast_polling)
        monkeypatch.setattr(jobs, "progress", progress)
        assert stalled.posts == 1
        assert db.execute("SELECT line, status, attempt FROM order_uploads").fetchall() == [(0, "IN_PROGRESS", 1)]
        second = Counting(qargo)
        result = run(db, settings, taken[0], second, fast_polling)
    assert (second.posts, orders.message(result)) == (2, "3 of 3 orders uploaded")
    assert [r["status"] for r in orders.uploads_for_job(db, job_id)] == ["COMPLETED"] * 3
