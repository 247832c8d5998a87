"""Qargo per-order polling (issue 9 point 10): only orders whose status can still change, the
longest unheard-of first, within QARGO_POLL_SHARE of the 2 requests/s budget."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlite_utils import Database

from services.settings import get_settings
from store.statuses import QARGO_FINAL, QARGO_ORDER_PHASE
from store.store import upsert_records
from sync.engine import SyncState
from sync.vendors import qargo


def seed_orders(db: Database) -> None:
    rows = [
        {"order_id": "a", "status": "IN_TRANSIT", "last_event_at": "2026-11-20T10:00:00.002300Z",
         "synced_at": "2026-11-20T09:00:00.000Z"},
        {"order_id": "b", "status": "COMPLETED", "last_event_at": None, "synced_at": "2026-11-20T08:00:00.000Z"},
        {"order_id": "c", "status": "INVOICED", "last_event_at": "2026-11-20T07:00:00.000001Z",
         "synced_at": "2026-11-20T06:00:00.000Z"},
        {"order_id": "d", "status": "SOMETHING_NEW", "last_event_at": None, "synced_at": "2026-11-20T09:30:00.000Z"},
        {"order_id": "e", "status": None, "last_event_at": None, "synced_at": "2026-11-20T10:00:00.000Z"},
        *({"order_id": f"f-{s}", "status": s, "last_event_at": None, "synced_at": "2026-01-01T00:00:00.000Z"}
          for s in sorted(QARGO_FINAL)),
    ]
    upsert_records(db, "qargo_orders", rows, "order_id")


def test_final_statuses_are_the_closed_phase_of_the_openapi_enum() -> None:
    assert QARGO_FINAL == {"CANCELLED", "DONT_INVOICE", "INVOICE_POSTED", "REJECTED"}
    assert qargo.QARGO_TERMINAL is QARGO_FINAL
    assert "INVOICED" in QARGO_ORDER_PHASE and "INVOICED" not in QARGO_FINAL  # still posted to the ledger


def test_moving_orders_skip_final_ones_and_come_longest_unheard_first(db: Database) -> None:
    seed_orders(db)
    # c: heard 07:00 (event), b: 08:00 (poll), d: 09:30, e: 10:00, a: 10:00:00.0023 (event; ordered to the millisecond)
    assert qargo.moving_orders(db) == ["c", "b", "d", "e", "a"]
    assert qargo.moving_orders(db, limit=2) == ["c", "b"]


def test_the_budget_is_a_share_of_two_requests_a_second() -> None:
    # 2 req/s x 0.25 x 900 s / 3 polls = 150 orders a run for the 15-minute status poll.
    assert qargo.poll_budget(timedelta(minutes=15), 0.25) == 150
    assert qargo.poll_budget(timedelta(hours=1), 0.25) == 600
    assert qargo.poll_budget(timedelta(seconds=1), 0.01) == 1


class Client:
    def __init__(self) -> None:
        self.asked: list[str] = []


def test_a_run_polls_no_more_than_its_budget(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_orders(db)
    monkeypatch.setenv("QARGO_POLL_SHARE", str(3 * 3 / (2 * 900)))  # 3 orders per 15-minute run
    get_settings.cache_clear()
    try:
        assert get_settings().qargo_poll_share == pytest.approx(0.005)
        client = Client()

        def one(c: Any, order_id: str) -> list[Any]:
            c.asked.append(order_id)
            return [order_id]
        fetch = qargo.polled(one, timedelta(minutes=15)).factory(db)
        batches = list(fetch(client, SyncState()))
        assert client.asked == ["c", "b", "d"] and [b.records for b in batches] == [["c", "b", "d"]]
        assert batches[-1].checkpoint() is None
        resumed = list(fetch(client, SyncState(resume={"polled": 2})))  # one left of the budget
        assert [b.records for b in resumed] == [["c"]]
    finally:
        get_settings.cache_clear()


def test_a_share_outside_zero_to_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QARGO_POLL_SHARE", "1.5")
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="qargo_poll_share"):
            get_settings()
    finally:
        get_settings.cache_clear()
