"""The entry points register the action handlers by importing `actions` (above the cache)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import actions  # noqa: F401  (what app.py and `opsdash worker` do)
from jobs import jobs, worker
from jobs.worker import HANDLERS, SCHEDULED, Worker
from services.settings import Settings
from store.schema import session
from tests.conftest import suite_database
from tests.sync.test_engine import FakeVendor, resource


def test_a_worker_started_by_an_entry_point_has_the_sync_and_action_handlers(tmp_path: Path) -> None:
    Worker(Settings(opsdash_db=suite_database(tmp_path / "w.db")))
    assert {"sync", "upload_orders", "validate_tax_ids"} <= set(HANDLERS)
    assert any(fn.__name__ == "retry_unavailable" for fn in SCHEDULED)


# --- a resource longer than the lease runs once (issue 11 point 2) --------------------------------


class SlowVendor(FakeVendor):
    """Ten pages, each taking `delay` seconds: the whole resource lasts several leases."""

    def __init__(self, delay: float) -> None:
        super().__init__(list(range(20, 0, -1)), size=2)
        self.delay = delay

    def fetch(self, client: Any, state: Any):  # type: ignore[no-untyped-def]
        for page in super().fetch(client, state):
            time.sleep(self.delay)  # the vendor's latency, not a wait for a result
            yield page


class NoClient:
    def close(self) -> None:
        pass


def test_two_workers_and_a_resource_longer_than_the_lease_run_it_once(tmp_path: Path, monkeypatch) -> None:
    db_path = suite_database(tmp_path / "w.db")
    vendor = SlowVendor(delay=0.3)
    with session(db_path) as db:
        db.execute("CREATE TABLE fake_items (id TEXT PRIMARY KEY, name TEXT, raw TEXT, synced_at TEXT NOT NULL)")
        job_id = jobs.enqueue(db, "sync", {"vendor": "fake"}, "ops@example.com")
    monkeypatch.setattr(worker, "declared_resources", lambda db, vendors: [resource(vendor)])
    monkeypatch.setattr(worker, "make_clients", lambda settings, vendors: {"fake": NoClient()})
    settings = Settings(opsdash_db=db_path)
    lease = timedelta(seconds=1.2)  # each page renews it; the resource takes 3 s
    ran: dict[str, int] = {"a": 0, "b": 0}
    stop = threading.Event()

    def work(name: str) -> None:
        w = Worker(settings, worker_id=name, lease=lease)
        with session(db_path) as conn:
            while not stop.is_set():
                if w.run_next(conn) is not None:
                    ran[name] += 1
                else:
                    stop.wait(0.05)  # idle like Worker.run: a tight loop would starve the holder's writes

    threads = [threading.Thread(target=work, args=(n,)) for n in ran]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 30
        with session(db_path) as db:
            while jobs.get(db, job_id).status in jobs.PENDING:  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the job never finished"
                time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    with session(db_path) as db:
        job = jobs.get(db, job_id)
        statuses = [r["status"] for r in db.query("SELECT status FROM sync_runs")]
    assert job is not None and job.status == "done" and job.attempts == 1
    assert sorted(ran.values()) == [0, 1] and vendor.requests == 10  # one run, no page fetched twice
    assert statuses == ["ok"]


def test_a_worker_that_lost_its_job_writes_no_result(tmp_path: Path) -> None:
    db_path = suite_database(tmp_path / "w.db")
    with session(db_path) as db:
        job_id = jobs.enqueue(db, "stalls", {}, "u")
        holder = Worker(Settings(opsdash_db=db_path), worker_id="stalled", lease=timedelta(seconds=60))

        def stalls(w: Worker, conn: Any, job: jobs.Job) -> str:
            # while it "stalls", its lease is taken over: re-queued and claimed by another worker
            conn.execute("UPDATE jobs SET lease_until = '2000-01-01T00:00:00.000Z' WHERE job_id = ?", [job.job_id])
            assert jobs.claim_next(conn, "other") is not None
            return "the stale result"

        worker.HANDLERS["stalls"] = stalls
        try:
            holder.run_next(db)
        finally:
            del worker.HANDLERS["stalls"]
        job = jobs.get(db, job_id)
    assert job is not None and (job.status, job.worker_id, job.result, job.fence) == ("running", "other", None, 2)


@pytest.mark.parametrize("kind", ["sync"])
def test_worker_lease_defaults_to_the_jobs_lease(kind: str, tmp_path: Path) -> None:
    assert Worker(Settings(opsdash_db=suite_database(tmp_path / "w.db"))).lease == jobs.DEFAULT_LEASE


def test_figures_are_refreshed_while_a_long_job_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The staleness bound holds during a job (a webhook's write while a 45 s sync runs): the refresher has a
    thread of its own."""
    from figures import stored
    from store.db import connect
    from store.store import upsert_records

    db_path = suite_database(tmp_path / "w.db")
    release, running = threading.Event(), threading.Event()

    def long_job(w: Worker, db: Any, job: jobs.Job) -> None:
        running.set()
        release.wait(30)  # a job that lasts until the test has seen the figure refreshed

    def invoices(db: Any) -> int:
        return int(db.execute("SELECT count(*) FROM quaderno_invoices").fetchone()[0])

    monkeypatch.setitem(HANDLERS, "long", long_job)
    monkeypatch.setitem(stored.BUILDERS, "invoices", invoices)
    monkeypatch.setattr(worker, "declared_resources", lambda db, vendors: [])
    with session(db_path) as db:
        today = stored.business_today()
        assert stored.read(db, "invoices", invoices, today=today)[0] == 0
        jobs.enqueue(db, "long", {}, "ops@example.com")
    stop = threading.Event()
    thread = threading.Thread(target=Worker(Settings(opsdash_db=db_path)).run, args=(stop,),
                              kwargs={"idle_seconds": 0.05, "refresh_every": 0.1}, daemon=True)
    thread.start()
    db = connect(db_path)
    try:
        assert running.wait(10)
        upsert_records(db, "quaderno_invoices", [{"invoice_id": "i1", "number": "N1", "currency": "EUR",
                                                  "state": "outstanding", "amount_due": 100,
                                                  "synced_at": "2026-01-01T00:00:00.000Z"}], "invoice_id")
        deadline = time.monotonic() + 10
        while stored.servable(db, stored.key_of("invoices"), today, fresh=True) is None and time.monotonic() < deadline:
            release.wait(0.02)
        assert stored.servable(db, stored.key_of("invoices"), today, fresh=True) is not None  # by the worker
        assert not release.is_set() and running.is_set()  # while the job still runs
        assert stored.read(db, "invoices", invoices, today=today)[0] == 1
    finally:
        release.set()
        stop.set()
        thread.join(timeout=30)
        db.close()
    assert not thread.is_alive()
