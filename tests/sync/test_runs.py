"""Sync runs that cannot finish: interrupted on the way out, or marked so at the next start; checkpoints hold ids."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlite_utils import Database

from figures.freshness import SOURCES, source_freshness
from store.store import get_checkpoint
from sync import runs
from sync.engine import SyncResource, run_resource
from tests.sync.test_engine import T0, FakeVendor, resource


@pytest.fixture
def table(db: Database) -> Database:
    db.execute("CREATE TABLE fake_items (id TEXT PRIMARY KEY, name TEXT, raw TEXT, synced_at TEXT NOT NULL)")
    return db


def run_rows(db: Database) -> list[dict]:
    return [dict(r) for r in db.query("SELECT run_id, status, pages, inserted, error FROM sync_runs ORDER BY run_id")]


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid is free
    return proc.pid


def test_a_run_whose_process_died_is_marked_interrupted_at_the_next_start(table: Database) -> None:
    run_id = runs.start(table, "fake", "items", T0)
    runs.renew(table, run_id, 3, 6, 0, T0 + timedelta(seconds=20))
    table.execute("UPDATE sync_runs SET holder = ? WHERE run_id = ?", [f"{runs.this_holder().rsplit(':', 1)[0]}:{dead_pid()}", run_id])
    result = run_resource(table, None, resource(FakeVendor([2, 1])), now=T0 + timedelta(minutes=1))
    assert result.ok
    first, second = run_rows(table)
    assert (first["status"], first["pages"], first["inserted"]) == ("interrupted", 3, 6)
    assert "stopped after 3 pages (+6 new" in first["error"] and "last seen 2026-11-20T08:00:20.000Z" in first["error"]
    assert second["status"] == "ok"


def test_a_run_of_a_live_process_elsewhere_is_left_alone_until_its_lease_expires(table: Database) -> None:
    run_id = runs.start(table, "fake", "items", T0)
    table.execute("UPDATE sync_runs SET holder = 'other-host:1' WHERE run_id = ?", [run_id])
    assert runs.interrupt_abandoned(table, "fake", "items", T0 + timedelta(minutes=4)) == 0
    assert runs.interrupt_abandoned(table, "fake", "items", T0 + timedelta(minutes=6)) == 1
    assert run_rows(table)[0]["status"] == "interrupted"


class Stop(Exception):
    pass


def test_a_run_stopped_by_its_guard_writes_nothing_of_that_page_and_says_interrupted(table: Database) -> None:
    calls = {"n": 0}

    def guard() -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Stop("lease lost")

    with pytest.raises(Stop):
        run_resource(table, None, resource(FakeVendor([6, 5, 4, 3, 2, 1])), now=T0, guard=guard)
    assert [r["id"] for r in table.query("SELECT id FROM fake_items ORDER BY id")] == ["5", "6"]  # page 2 rolled back
    [run] = run_rows(table)
    assert run["status"] == "interrupted" and run["pages"] == 1 and "Stop: lease lost" in run["error"]
    assert json.loads(get_checkpoint(table, "fake", "items")["cursor"])["resume"] == {"index": 2}


def test_freshness_says_interrupted(table: Database) -> None:
    run_id = runs.start(table, "qargo", "orders", T0)
    runs.interrupt(table, run_id, "interrupted (KeyboardInterrupt)", T0)
    spec = next(s for s in SOURCES if (s.vendor, s.resource) == ("qargo", "orders"))
    state = source_freshness(table, spec, T0 + timedelta(minutes=1), None)
    assert state.state == "interrupted"
    assert "interrupted (KeyboardInterrupt): stopped after 0 pages" in state.sentence


@pytest.mark.parametrize("mode", ["full", "since"])
def test_checkpoints_hold_ids_only_never_record_contents(table: Database, mode: str) -> None:
    secret = "ACME Holdings, VAT NL123456789B01"

    class Vendor(FakeVendor):
        def fetch(self, client, state):  # type: ignore[no-untyped-def]
            for page in super().fetch(client, state):
                page.records = [{**r, "name": secret} for r in page.records]
                yield page

    vendor = Vendor([3, 2, 1], fail_at=2)
    res: SyncResource = resource(vendor, mode)
    res = SyncResource(**{**res.__dict__, "record_id": str})  # the default: the whole record as text
    run_resource(table, None, res, now=T0)
    stored = get_checkpoint(table, "fake", "items")
    assert stored is not None and secret not in stored["cursor"] and "VAT" not in stored["cursor"]


def test_a_429_storm_with_a_long_wait_ends_the_vendors_pass_instead_of_blocking(table: Database) -> None:
    from services.core import RateLimited
    from sync.engine import run_all

    def storm(client, state):  # type: ignore[no-untyped-def]
        raise RateLimited("Fake: rate limited; retry after 120 s", vendor="fake", retry_after=120.0)
        yield  # pragma: no cover

    other = FakeVendor([1])
    first = SyncResource(**{**resource(other).__dict__, "name": "first", "fetch": storm})
    results = run_all(table, {"fake": None}, [first, resource(other)], now=T0)
    assert [r.ok for r in results] == [False, False] and other.requests == 0  # the second never called the vendor
    assert results[1].error == ("not run: Fake asked us to wait 120 s (rate limited while syncing first); "
                                "the next pass runs it")
    assert [r["status"] for r in run_rows(table)] == ["error", "error"]


def test_the_scheduler_sweeps_dead_runs_of_every_resource(table: Database, db_path) -> None:
    from jobs.worker import Worker
    from services.settings import Settings

    host = runs.this_holder().rsplit(":", 1)[0]
    for name in ("orders", "charges"):
        run_id = runs.start(table, "qargo", name, T0)
        table.execute("UPDATE sync_runs SET holder = ? WHERE run_id = ?", [f"{host}:{dead_pid()}", run_id])
    alive = runs.start(table, "qargo", "documents", T0)  # this process: still running
    Worker(Settings(opsdash_db=db_path, qargo_base_url=None, quaderno_base_url=None,
                    qasida_base_url=None, cargobase_base_url=None),
           clock=lambda: T0 + timedelta(seconds=5)).schedule_due(table)
    statuses = dict(table.execute("SELECT resource, status FROM sync_runs").fetchall())
    assert statuses == {"orders": "interrupted", "charges": "interrupted", "documents": "running"}
    assert alive


def test_an_interrupted_resource_is_scheduled_again_on_the_next_pass(table: Database, db_path) -> None:
    from jobs import jobs
    from jobs.worker import Worker
    from services.settings import Settings

    settings = Settings(opsdash_db=db_path, qargo_base_url=None, quaderno_base_url=None,
                        qasida_base_url="http://127.0.0.1:9/qasida", cargobase_base_url=None)
    worker = Worker(settings, clock=lambda: T0 + timedelta(minutes=1))
    first = worker.schedule_due(table)
    for job_id in first:  # every Qasida resource ran a minute ago: nothing is due...
        job = jobs.get(table, job_id)
        assert job is not None
        jobs.cancel(table, job_id)
        run_id = runs.start(table, "qasida", job.payload["resource"], T0)
        if job.payload["resource"] == "stock_cards":
            runs.interrupt(table, run_id, "interrupted (test)", T0)
        else:
            table.execute("UPDATE sync_runs SET status = 'ok' WHERE run_id = ?", [run_id])
    due = [jobs.get(table, j).payload["resource"] for j in worker.schedule_due(table)]  # type: ignore[union-attr]
    assert due == ["stock_cards"]  # ...except the interrupted one
