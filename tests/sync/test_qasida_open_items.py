"""Claims and liabilities per customer (sync/vendors/qasida.py): request budget, rotation oldest-checked
first, a read cut short resumes at its page, settling only after a complete read, reopening, bad rows; the
shared re-check rule (sync/recheck.py) with a clock the tests move: a settled claim leaves outstanding within
CHECK_WITHIN, a run right after a full read costs nothing, the per-run cap holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlite_utils import Database

from services.qasida.client import QasidaClient, make_client
from services.settings import Settings
from store.store import upsert_records
from sync.engine import SyncResource, run_resource, with_fetch
from sync.resources import resources_for
from sync.vendors import qasida as qsync

SYNCED = "2026-11-20T10:00:00.000Z"


class Erp:
    """A Qasida claim list per customer that serves at most `cap` rows a page whatever PageSize asks."""

    def __init__(self, items: dict[int, list[dict[str, Any]]], cap: int = 1000) -> None:
        self.items, self.cap = items, cap
        self.asked: list[tuple[int, int]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        customer, number = int(request.url.params["customerId"]), int(request.url.params["PageNumber"])
        self.asked.append((customer, number))
        rows = self.items.get(customer, [])
        page = rows[(number - 1) * self.cap: number * self.cap]
        more = number * self.cap < len(rows)
        return httpx.Response(200, json={"data": page, "pageNumber": number, "pageSize": 0,
                                         "nextPage": "next" if more else None, "previousPage": None})


def item(invoice: int, remains: str = "10.5", currency: str = "EUR") -> dict[str, Any]:
    return {"invoiceId": invoice, "documentNumber": f"FV-{invoice}", "currency": currency,
            "invoicedAmount": "20", "remainsToBePaid": remains, "daysDelayed": 0}


class Clock:
    """Now, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def move(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def claims_sync(db: Database, clock: Clock) -> SyncResource:
    """The declared claims resource, reading `clock` for now."""
    declared = next(r for r in resources_for(db, ["qasida"]) if r.name == "claims")
    return with_fetch(declared, qsync.open_items_fetch(db, "claims", clock))


def client(db_path: Path | str, erp: Erp, budget: int) -> QasidaClient:
    settings = Settings(opsdash_db=db_path, qasida_base_url="http://erp.test", qasida_token="t",
                        qasida_mandant_id="1", qasida_open_items_budget=budget)
    return make_client(settings, transport=httpx.MockTransport(erp))


def customers(db: Database, ids: range) -> None:
    upsert_records(db, "qasida_customers", [{"customer_id": str(i), "name": f"C{i}", "synced_at": SYNCED}
                                            for i in ids], "customer_id")


def open_claims(db: Database) -> dict[str, str]:
    rows = db.execute("SELECT invoice_id, customer_id FROM qasida_claims WHERE settled_at IS NULL").fetchall()
    return dict(rows)


def run(db: Database, res: SyncResource, c: QasidaClient, clock: Clock | None = None) -> None:
    """One run; with `clock`, the next run is RUN_EVERY later."""
    result = run_resource(db, c, res)
    assert result.ok, result.error
    if clock is not None:
        clock.move(qsync.RUN_EVERY / timedelta(minutes=1))


@pytest.fixture
def twelve(db: Database) -> Iterator[Erp]:
    customers(db, range(1, 13))
    yield Erp({i: [item(100 + i)] for i in range(1, 13)})


def test_a_run_stays_within_its_budget_and_every_customer_is_covered_in_turn(
    db: Database, claims_sync: SyncResource, db_path: Path | str, twelve: Erp, clock: Clock,
) -> None:
    with client(db_path, twelve, budget=5) as c:
        run(db, claims_sync, c, clock)
        assert [a for a, _ in twelve.asked] == [1, 2, 3, 4, 5] and len(open_claims(db)) == 5
        run(db, claims_sync, c, clock)
        run(db, claims_sync, c, clock)
        run(db, claims_sync, c, clock)
    # never-checked customers first (all overdue: as many as the budget allows), then the oldest checked, as
    # many as the rule's share: ceil(12 x 1.25 / 36) = 1
    assert [a for a, _ in twelve.asked] == [*range(1, 13), 1]
    assert open_claims(db) == {str(100 + i): str(i) for i in range(1, 13)}


def test_a_read_cut_short_resumes_at_its_page_and_settles_only_when_complete(
    db: Database, claims_sync: SyncResource, db_path: Path | str, clock: Clock,
) -> None:
    customers(db, range(7, 8))
    upsert_records(db, "qasida_claims", [{"invoice_id": "1", "customer_id": "7", "currency": "EUR",
                                          "remains_to_be_paid": "5", "synced_at": SYNCED}], "invoice_id")
    erp = Erp({7: [item(i) for i in range(10, 15)]}, cap=2)  # 5 open items, 2 a page: 3 pages
    with client(db_path, erp, budget=2) as c:
        run(db, claims_sync, c, clock)
        assert erp.asked == [(7, 1), (7, 2)]
        assert set(open_claims(db)) == {"1", "10", "11", "12", "13"}  # "1" not settled: the list is incomplete
        run(db, claims_sync, c, clock)
    assert erp.asked[2] == (7, 3)  # resumed at its page, not from the start
    assert set(open_claims(db)) == {"10", "11", "12", "13", "14"}
    settled = db.execute("SELECT settled_at FROM qasida_claims WHERE invoice_id = '1'").fetchone()[0]
    assert settled is not None


def test_an_item_back_in_the_open_list_is_open_again_and_bad_rows_are_skipped(
    db: Database, claims_sync: SyncResource, db_path: Path | str, clock: Clock,
) -> None:
    customers(db, range(1, 3))
    erp = Erp({1: [item(10), item(11)], 2: [item(20)]})
    with client(db_path, erp, budget=10) as c:
        run(db, claims_sync, c, clock)
        erp.items[1] = [item(10)]
        clock.move(180)  # both customers due (CHECK_WITHIN): each run reads both
        run(db, claims_sync, c, clock)
        assert set(open_claims(db)) == {"10", "20"}
        erp.items[1] = [item(10), item(11, remains="0.125"), {"invoiceId": 12, "currency": "EUR"}]
        clock.move(180)
        run(db, claims_sync, c, clock)
    assert open_claims(db) == {"10": "1", "11": "1", "20": "2"}
    assert db.execute("SELECT remains_to_be_paid FROM qasida_claims WHERE invoice_id = '11'").fetchone()[0] == "0.125"


def test_a_customer_the_vendor_refuses_is_skipped_and_the_others_are_read(
    db: Database, claims_sync: SyncResource, db_path: Path | str,
) -> None:
    customers(db, range(1, 4))
    erp = Erp({1: [item(10)], 3: [item(30)]})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["customerId"] == "2":
            return httpx.Response(404, json={"title": "Not Found", "detail": "Customer 2 was not found."})
        return erp(request)

    settings = Settings(opsdash_db=db_path, qasida_base_url="http://erp.test", qasida_token="t",
                        qasida_mandant_id="1")
    with make_client(settings, transport=httpx.MockTransport(handler)) as c:
        run(db, claims_sync, c)
    assert open_claims(db) == {"10": "1", "30": "3"}
    checked = db.execute("SELECT customer_id FROM qasida_open_item_checks WHERE checked_at IS NOT NULL").fetchall()
    assert sorted(r[0] for r in checked) == ["1", "2", "3"]  # 2 waits for its next turn like the others


# --- the shared re-check rule (sync/recheck.py), clock moved by the test ---------------------------------


def test_the_rule_in_numbers() -> None:
    # 72,000 requests an hour (20/s), 5 % of it for both lists: 1,800 an hour each, 150 per 5-minute run.
    assert (qsync.HOURLY_CALLS, qsync.RUN_CALLS) == (72_000, 150)
    # 4,000 customers, 1.25 reads per 3 hours, 36 runs per 3 hours: ceil(4,000 x 1.25 / 36) = ceil(138.9) = 139
    assert qsync.RULE.per_run(4_000) == 139
    assert qsync.RULE.per_run(40) == 2  # ceil(40 x 1.25 / 36) = ceil(1.39)
    assert qsync.RULE.per_run(40, overdue=400) == 150  # catching up: never above RUN_CALLS


def test_a_settled_claim_leaves_outstanding_within_the_bound(
    db: Database, claims_sync: SyncResource, db_path: Path | str, clock: Clock,
) -> None:
    customers(db, range(1, 41))  # 40 customers: 2 a run (test above), each read every 100 minutes
    erp = Erp({i: [item(100 + i)] for i in range(1, 41)})
    with client(db_path, erp, budget=250) as c:
        run(db, claims_sync, c, clock)  # never checked: all 40 overdue, read at once
        assert len(erp.asked) == 40 and len(open_claims(db)) == 40
        clock.move(60)  # all were read at 10:00; at 11:05 customer 40, the last in the rotation, pays
        erp.items[40] = []
        paid_at = clock.now
        while "140" in open_claims(db):
            assert clock.now - paid_at <= qsync.CHECK_WITHIN, "still outstanding after the bound"
            run(db, claims_sync, c, clock)
    # from 11:05 two a run, oldest (then lowest id) first: customer 40 in the 20th run, 11:05 + 19 x 5 min
    settled = db.execute("SELECT settled_at FROM qasida_claims WHERE invoice_id = '140'").fetchone()[0]
    assert settled == "2026-11-20T12:40:00.000Z"  # 95 minutes after it paid: within the 3 hours
    assert len(open_claims(db)) == 39


def test_every_customer_is_read_within_the_bound_run_after_run(
    db: Database, claims_sync: SyncResource, db_path: Path | str, clock: Clock,
) -> None:
    customers(db, range(1, 41))
    erp = Erp({i: [item(100 + i)] for i in range(1, 41)})
    with client(db_path, erp, budget=250) as c:
        for _ in range(12 * 6):  # six hours of 5-minute runs
            run(db, claims_sync, c, clock)
            oldest = db.execute("SELECT min(checked_at) FROM qasida_open_item_checks").fetchone()[0]
            assert clock.now - datetime.fromisoformat(oldest) <= qsync.CHECK_WITHIN
    # 40 at first, then 2 a run for 71 runs
    assert len(erp.asked) == 40 + 2 * 71


def test_an_idle_run_right_after_a_full_read_costs_nothing(
    db: Database, claims_sync: SyncResource, db_path: Path | str, clock: Clock, twelve: Erp,
) -> None:
    with client(db_path, twelve, budget=250) as c:
        run(db, claims_sync, c)
        assert len(twelve.asked) == 12  # every customer read: a full read
        clock.move(4)  # within MIN_AGE (5 minutes)
        run(db, claims_sync, c)
        assert len(twelve.asked) == 12
        clock.move(1)  # now MIN_AGE: the rule's share, one customer (ceil(12 x 1.25 / 36)), the oldest
        run(db, claims_sync, c)
    assert [a for a, _ in twelve.asked[12:]] == [1]


def test_the_per_run_cap_holds(db: Database, claims_sync: SyncResource, db_path: Path | str, clock: Clock) -> None:
    customers(db, range(1, 401))  # 400 never checked: all overdue
    erp = Erp({i: [item(1000 + i)] for i in range(1, 401)})
    with client(db_path, erp, budget=250) as c:
        run(db, claims_sync, c, clock)
        assert len(erp.asked) == qsync.RUN_CALLS == 150  # the share caps below the setting
    with client(db_path, erp, budget=7) as c:
        run(db, claims_sync, c, clock)
    assert len(erp.asked) == 150 + 7  # the setting caps below the share
    assert [a for a, _ in erp.asked[150:]] == list(range(151, 158))
