"""Every lease on the database's clock (issue 20): a process whose own clock is wrong (here: the Python clock of
this process, skewed by an hour while it writes) still writes leases that run out when the database's clock says
so, as other processes judge them: job leases, sync-run leases and the figure worker's beat. On PostgreSQL (run
whenever its binaries are installed) and on SQLite (its own 'now'), through `store.db.db_now`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

import store.db
from figures import stored
from jobs import jobs
from store.db import connect, db_now
from store.schema import migrate
from sync import runs
from sync.engine import run_resource, with_fetch
from tests.sync.test_engine import FakePage, FakeVendor, resource

SKEW = timedelta(hours=1)


class _Clock:
    """The Python clock of this process (`store.db.utcnow` reads `datetime.now` of store.db), shifted by `skew`."""

    skew = timedelta(0)


class _SkewedDatetime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return datetime.now(tz) + _Clock.skew


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        yield request.getfixturevalue("pg_url")
        return
    path = tmp_path / "cache.db"
    db = connect(path)
    migrate(db)
    db.close()
    yield str(path)


@pytest.fixture
def skewed(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Clock]]:
    monkeypatch.setattr(store.db, "datetime", _SkewedDatetime)
    yield _Clock
    _Clock.skew = timedelta(0)


def _two(url: str) -> tuple[Database, Database]:
    return connect(url), connect(url)


def _database_clock(db: Database) -> datetime:
    """The database's own clock, read here independently of the code under test (`db_now`)."""
    if store.db.is_postgres(db):
        return db.execute("SELECT clock_timestamp()").fetchone()[0].astimezone(UTC)  # type: ignore[no-any-return]
    return datetime.fromisoformat(db.execute("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')").fetchone()[0])


def test_the_skew_is_real_and_the_database_clock_ignores_it(url: str, skewed: type[_Clock]) -> None:
    db = connect(url)
    try:
        skewed.skew = SKEW
        assert store.db.utcnow() - datetime.now(UTC) > SKEW - timedelta(minutes=1)
        assert abs(db_now(db) - _database_clock(db)) < timedelta(minutes=1)
    finally:
        db.close()


def test_a_job_leased_by_a_process_an_hour_behind_is_not_taken_over_before_its_lease_runs_out(
        url: str, skewed: type[_Clock]) -> None:
    """With its own clock, the slow process's 5-minute lease would have run out 55 minutes ago."""
    mine, other = _two(url)
    try:
        job_id = jobs.enqueue(mine, "sync", {}, "test")
        skewed.skew = -SKEW
        held = jobs.claim_next(mine, "slow-host:1")
        assert held is not None and held.job_id == job_id
        jobs.heartbeat(mine, job_id, fence=held.fence)
        skewed.skew = timedelta(0)
        assert jobs.recover_stale(other) == 0
        assert jobs.claim_next(other, "fresh-host:1") is None
        assert jobs.get(other, job_id).worker_id == "slow-host:1"  # type: ignore[union-attr]
    finally:
        mine.close()
        other.close()


def test_a_job_leased_by_a_process_an_hour_ahead_is_taken_over_when_its_lease_runs_out(
        url: str, skewed: type[_Clock]) -> None:
    """With its own clock, the fast process's half-second lease would hold the job for an hour."""
    mine, other = _two(url)
    try:
        job_id = jobs.enqueue(mine, "sync", {}, "test")
        skewed.skew = SKEW
        held = jobs.claim_next(mine, "fast-host:1", lease=timedelta(seconds=0.5))
        assert held is not None
        skewed.skew = timedelta(0)
        deadline = time.monotonic() + 20
        while (taken := jobs.claim_next(other, "fresh-host:1")) is None and time.monotonic() < deadline:
            time.sleep(0.05)  # polling the lease, with a deadline
        assert taken is not None and taken.job_id == job_id and taken.fence == held.fence + 1
        with pytest.raises(jobs.LeaseLost):
            jobs.finish(mine, job_id, {"late": True}, fence=held.fence)
    finally:
        mine.close()
        other.close()


def test_a_sync_run_of_a_process_an_hour_behind_is_not_marked_interrupted_while_it_runs(
        url: str, skewed: type[_Clock]) -> None:
    """Another process's sweep (the scheduler's, on the database's clock) meets the run between two pages: with the
    slow process's own clock its lease would have run out 55 minutes ago and the run would be called interrupted."""
    mine, other = _two(url)
    mine.execute("CREATE TABLE fake_items (id TEXT PRIMARY KEY, name TEXT, raw TEXT, synced_at TEXT NOT NULL)")
    seen: list[int] = []
    vendor = FakeVendor([4, 3, 2, 1])

    def fetch(client: Any, state: Any) -> Iterator[FakePage]:
        for page in vendor.fetch(client, state):
            yield page
            seen.append(runs.sweep(other, _database_clock(other)))  # the other process, between two pages

    try:
        skewed.skew = -SKEW
        result = run_resource(mine, None, with_fetch(resource(vendor), fetch))
        skewed.skew = timedelta(0)
        assert result.ok and result.pages == 2
        assert seen == [0]  # met once, between the two pages (the engine stops after the last one)
        assert other.execute("SELECT status FROM sync_runs").fetchone()[0] == "ok"
    finally:
        mine.close()
        other.close()


def test_a_sync_run_lease_written_by_a_process_an_hour_ahead_runs_out_on_the_database_clock(
        url: str, skewed: type[_Clock]) -> None:
    """Seen by another process right after the run's page (its lease just renewed): the lease runs out 5 minutes
    after the database's now, so a sweep then calls the run abandoned (a holder on another host can only be judged
    by its lease); with the fast process's own clock it would hold for an hour and 5 minutes."""
    mine, other = _two(url)
    mine.execute("CREATE TABLE fake_items (id TEXT PRIMARY KEY, name TEXT, raw TEXT, synced_at TEXT NOT NULL)")
    vendor = FakeVendor([4, 3, 2, 1])
    abandoned: list[tuple[int, ...]] = []

    def fetch(client: Any, state: Any) -> Iterator[FakePage]:
        for page in vendor.fetch(client, state):
            yield page
            other.execute("UPDATE sync_runs SET holder = 'other-host:1' WHERE status = 'running'")
            now = _database_clock(other)
            abandoned.append(tuple(runs.interrupt_abandoned(other, "fake", "items", now + runs.RUN_LEASE + margin)
                                   for margin in (timedelta(seconds=-5), timedelta(seconds=5))))

    try:
        skewed.skew = SKEW
        run_resource(mine, None, with_fetch(resource(vendor), fetch))
        skewed.skew = timedelta(0)
        assert abandoned == [(0, 1)]  # between the two pages
    finally:
        mine.close()
        other.close()


def test_the_figure_worker_beat_of_a_process_an_hour_behind_counts_as_live(url: str, skewed: type[_Clock]) -> None:
    mine, other = _two(url)
    try:
        skewed.skew = -SKEW
        stored.beat(mine)
        skewed.skew = timedelta(0)
        assert stored.worker_live(other)
    finally:
        mine.close()
        other.close()
