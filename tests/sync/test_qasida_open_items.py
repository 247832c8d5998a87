"""Claims and liabilities per customer (sync/vendors/qasida.py): request budget, rotation oldest-checked
first, a read cut short resumes at its page, settling only after a complete read, reopening, bad rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlite_utils import Database

from services.qasida.client import QasidaClient, make_client
from services.settings import Settings
from store.store import upsert_records
from sync.engine import SyncResource, run_resource
from sync.resources import resources_for

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


@pytest.fixture
def claims_sync(db: Database) -> SyncResource:
    return next(r for r in resources_for(db, ["qasida"]) if r.name == "claims")


def client(tmp_path: Path, erp: Erp, budget: int) -> QasidaClient:
    settings = Settings(opsdash_db=tmp_path / "rl.db", qasida_base_url="http://erp.test", qasida_token="t",
                        qasida_mandant_id="1", qasida_open_items_budget=budget)
    return make_client(settings, transport=httpx.MockTransport(erp))


def customers(db: Database, ids: range) -> None:
    upsert_records(db, "qasida_customers", [{"customer_id": str(i), "name": f"C{i}", "synced_at": SYNCED}
                                            for i in ids], "customer_id")


def open_claims(db: Database) -> dict[str, str]:
    rows = db.execute("SELECT invoice_id, customer_id FROM qasida_claims WHERE settled_at IS NULL").fetchall()
    return dict(rows)


def run(db: Database, res: SyncResource, c: QasidaClient) -> None:
    result = run_resource(db, c, res)
    assert result.ok, result.error


@pytest.fixture
def twelve(db: Database) -> Iterator[Erp]:
    customers(db, range(1, 13))
    yield Erp({i: [item(100 + i)] for i in range(1, 13)})


def test_a_run_stays_within_its_budget_and_every_customer_is_covered_in_turn(
    db: Database, claims_sync: SyncResource, tmp_path: Path, twelve: Erp,
) -> None:
    with client(tmp_path, twelve, budget=5) as c:
        run(db, claims_sync, c)
        assert [a for a, _ in twelve.asked] == [1, 2, 3, 4, 5] and len(open_claims(db)) == 5
        run(db, claims_sync, c)
        run(db, claims_sync, c)
    # never-checked customers first, then the oldest checked
    assert [a for a, _ in twelve.asked] == [*range(1, 13), 1, 2, 3]
    assert open_claims(db) == {str(100 + i): str(i) for i in range(1, 13)}


def test_a_read_cut_short_resumes_at_its_page_and_settles_only_when_complete(
    db: Database, claims_sync: SyncResource, tmp_path: Path,
) -> None:
    customers(db, range(7, 8))
    upsert_records(db, "qasida_claims", [{"invoice_id": "1", "customer_id": "7", "currency": "EUR",
                                          "remains_to_be_paid": "5", "synced_at": SYNCED}], "invoice_id")
    erp = Erp({7: [item(i) for i in range(10, 15)]}, cap=2)  # 5 open items, 2 a page: 3 pages
    with client(tmp_path, erp, budget=2) as c:
        run(db, claims_sync, c)
        assert erp.asked == [(7, 1), (7, 2)]
        assert set(open_claims(db)) == {"1", "10", "11", "12", "13"}  # "1" not settled: the list is incomplete
        run(db, claims_sync, c)
    assert erp.asked[2] == (7, 3)  # resumed at its page, not from the start
    assert set(open_claims(db)) == {"10", "11", "12", "13", "14"}
    settled = db.execute("SELECT settled_at FROM qasida_claims WHERE invoice_id = '1'").fetchone()[0]
    assert settled is not None


def test_an_item_back_in_the_open_list_is_open_again_and_bad_rows_are_skipped(
    db: Database, claims_sync: SyncResource, tmp_path: Path,
) -> None:
    customers(db, range(1, 3))
    erp = Erp({1: [item(10), item(11)], 2: [item(20)]})
    with client(tmp_path, erp, budget=10) as c:
        run(db, claims_sync, c)
        erp.items[1] = [item(10)]
        run(db, claims_sync, c)
        assert set(open_claims(db)) == {"10", "20"}
        erp.items[1] = [item(10), item(11, remains="0.125"), {"invoiceId": 12, "currency": "EUR"}]
        run(db, claims_sync, c)
    assert open_claims(db) == {"10": "1", "11": "1", "20": "2"}
    assert db.execute("SELECT remains_to_be_paid FROM qasida_claims WHERE invoice_id = '11'").fetchone()[0] == "0.125"


def test_a_customer_the_vendor_refuses_is_skipped_and_the_others_are_read(
    db: Database, claims_sync: SyncResource, tmp_path: Path,
) -> None:
    customers(db, range(1, 4))
    erp = Erp({1: [item(10)], 3: [item(30)]})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["customerId"] == "2":
            return httpx.Response(404, json={"title": "Not Found", "detail": "Customer 2 was not found."})
        return erp(request)

    settings = Settings(opsdash_db=tmp_path / "rl.db", qasida_base_url="http://erp.test", qasida_token="t",
                        qasida_mandant_id="1")
    with make_client(settings, transport=httpx.MockTransport(handler)) as c:
        run(db, claims_sync, c)
    assert open_claims(db) == {"10": "1", "30": "3"}
    checked = db.execute("SELECT customer_id FROM qasida_open_item_checks WHERE checked_at IS NOT NULL").fetchall()
    assert sorted(r[0] for r in checked) == ["1", "2", "3"]  # 2 waits for its next turn like the others
