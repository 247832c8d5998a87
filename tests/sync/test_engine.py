"""The generic sync loop with fake vendors: checkpoints, resume after failure, incremental modes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlite_utils import Database

from services.core import ServerError
from store.store import get_checkpoint
from sync.engine import SyncResource, SyncState, run_resource

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
SERVER_DATE = "Fri, 20 Nov 2026 07:59:30 GMT"


@dataclass
class FakePage:
    records: list[dict[str, Any]]
    next_index: int | None
    response: httpx.Response = field(default_factory=lambda: httpx.Response(200, headers={"date": SERVER_DATE}))

    def checkpoint(self) -> dict[str, Any] | None:
        return None if self.next_index is None else {"index": self.next_index}


class FakeVendor:
    """Pages of `size` records, newest first (ids descending); may fail once at a page index."""

    def __init__(self, ids: list[int], size: int = 2, fail_at: int | None = None) -> None:
        self.ids, self.size, self.fail_at = ids, size, fail_at
        self.calls: list[SyncState] = []
        self.requests = 0

    def fetch(self, client: Any, state: SyncState):  # type: ignore[no-untyped-def]
        self.calls.append(state)
        index = state.resume["index"] if state.resume else 0
        while index < len(self.ids):
            if self.fail_at == index:
                self.fail_at = None
                raise ServerError("Fake answered 503 twice: try again later", vendor="fake", status=503)
            self.requests += 1
            chunk = self.ids[index:index + self.size]
            index += self.size
            yield FakePage([{"id": str(i), "name": f"item {i}"} for i in chunk], index if index < len(self.ids) else None)


@pytest.fixture
def table(db: Database) -> Database:
    db.execute("CREATE TABLE fake_items (id TEXT PRIMARY KEY, name TEXT, raw TEXT, synced_at TEXT NOT NULL)")
    return db


def resource(vendor: FakeVendor, mode: str = "full") -> SyncResource:
    return SyncResource(vendor="fake", name="items", table="fake_items", pk="id", fetch=vendor.fetch,
                        to_row=lambda r: {"id": r["id"], "name": r["name"], "raw": json.dumps(r)},
                        mode=mode, record_id=lambda r: r["id"])  # type: ignore[arg-type]


def ids_in(db: Database) -> list[str]:
    return sorted((r["id"] for r in db.query("SELECT id FROM fake_items")), key=int)


def runs(db: Database) -> list[tuple[str, int, int, int]]:
    return [(r["status"], r["pages"], r["inserted"], r["updated"])
            for r in db.query("SELECT * FROM sync_runs ORDER BY run_id")]


def test_full_sync_stores_every_record_and_records_the_run(table: Database) -> None:
    vendor = FakeVendor([5, 4, 3, 2, 1])
    result = run_resource(table, None, resource(vendor), now=T0)
    assert result.ok and (result.pages, result.inserted, result.updated) == (3, 5, 0)
    assert ids_in(table) == ["1", "2", "3", "4", "5"]
    assert runs(table) == [("ok", 3, 5, 0)]


def test_rerun_is_idempotent(table: Database) -> None:
    vendor = FakeVendor([3, 2, 1])
    run_resource(table, None, resource(vendor), now=T0)
    again = run_resource(table, None, resource(vendor), now=T0 + timedelta(minutes=5))
    assert (again.inserted, again.updated) == (0, 3)
    assert ids_in(table) == ["1", "2", "3"]


def test_failure_keeps_fetched_pages_and_next_run_resumes_at_the_checkpoint(table: Database) -> None:
    vendor = FakeVendor([6, 5, 4, 3, 2, 1], fail_at=4)
    failed = run_resource(table, None, resource(vendor), now=T0)
    assert not failed.ok and "503" in (failed.error or "")
    assert ids_in(table) == ["3", "4", "5", "6"]  # the two complete pages are kept
    assert runs(table) == [("error", 2, 4, 0)]
    resumed = run_resource(table, None, resource(vendor), now=T0 + timedelta(minutes=1))
    assert resumed.ok and vendor.calls[-1].resume == {"index": 4}
    assert (resumed.pages, resumed.inserted) == (1, 2)
    assert ids_in(table) == ["1", "2", "3", "4", "5", "6"]


def test_newest_first_stops_at_the_newest_stored_id(table: Database) -> None:
    vendor = FakeVendor(list(range(20, 0, -1)))
    run_resource(table, None, resource(vendor, "newest_first"), now=T0)
    assert vendor.requests == 10
    vendor.ids = [22, 21, *vendor.ids]
    vendor.requests = 0
    second = run_resource(table, None, resource(vendor, "newest_first"), now=T0 + timedelta(minutes=10))
    assert second.inserted == 2 and vendor.requests == 2  # stops on the page holding id 20
    assert len(ids_in(table)) == 22


def test_newest_first_makes_a_full_pass_when_due(table: Database) -> None:
    vendor = FakeVendor([3, 2, 1])
    run_resource(table, None, resource(vendor, "newest_first"), now=T0)
    later = run_resource(table, None, resource(vendor, "newest_first"), now=T0 + timedelta(hours=7))
    assert later.full and later.updated == 3


def test_since_mode_asks_from_the_servers_time_of_the_last_run(table: Database) -> None:
    vendor = FakeVendor([2, 1])
    run_resource(table, None, resource(vendor, "since"), now=T0)
    run_resource(table, None, resource(vendor, "since"), now=T0 + timedelta(minutes=5))
    incremental = vendor.calls[-1]
    assert incremental.full is False
    assert incremental.since == "2026-11-20T07:59:30.000Z"  # the Date header, not our clock
    checkpoint = json.loads(get_checkpoint(table, "fake", "items")["cursor"])
    assert checkpoint["resume"] is None
