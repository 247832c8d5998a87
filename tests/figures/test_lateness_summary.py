"""Late and expected late (figures/kpis.py, one SQL over the business orders) equal the business orders counted
row by row (store/datasets.py) on every day around the plans, read directly or as a stored figure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlite_utils import Database

from figures import kpis, stored
from store.store import upsert_records

SYNCED = {"raw": "{}", "synced_at": "2026-11-01T00:00:00.000Z"}


def _seed(db: Database) -> None:
    upsert_records(db, "qargo_orders", [
        # moving, planned 11-20, ETA 11-22: expected late up to the 20th, late from the 21st
        {"order_id": "T1", "reference": "SO-1", "status": "IN_TRANSIT", "delivery_date": "2026-11-20",
         "eta_date": "2026-11-22", "created_date": "2026-11-15", **SYNCED},
        # delivered: never late, never expected late, whatever its ETA
        {"order_id": "T2", "reference": "SO-2", "status": "COMPLETED", "delivery_date": "2026-11-18",
         "eta_date": "2026-11-25", "created_date": "2026-11-15", **SYNCED},
        # no reference (a transport-only business order of its own), planned 11-19, on time
        {"order_id": "T3", "reference": None, "status": "PLANNED", "delivery_date": "2026-11-19",
         "eta_date": "2026-11-19", "created_date": "2026-11-15", **SYNCED},
    ], "order_id")
    upsert_records(db, "qasida_customer_orders", [
        # ERP promised 11-18 and not fulfilled: late from the 19th (SO-1 also has transport T1)
        {"order_id": "E1", "number": "SO-1", "status": "OPEN", "order_date": "2026-11-14",
         "delivery_date": "2026-11-18", "not_fulfilled": 1, **SYNCED},
        # fulfilled: not late on the ERP side
        {"order_id": "E2", "number": "SO-2", "status": "DONE", "order_date": "2026-11-14",
         "delivery_date": "2026-11-10", "not_fulfilled": 0, **SYNCED},
        # not known yet (no not-fulfilled read): not counted late
        {"order_id": "E3", "number": "SO-3", "status": "OPEN", "order_date": "2026-11-14",
         "delivery_date": "2026-11-10", "not_fulfilled": None, **SYNCED},
    ], "order_id")


def _rows(db: Database, flag: str, now: datetime) -> int:
    return int(kpis.select(db, "business_orders", {flag: 1}, now, "count(*)")[0][0])


# By hand, per day: (late, expected late). SO-1 is late from 11-19 (ERP side), so it is never "expected".
@pytest.mark.parametrize(("day", "late", "expected"), [
    ("2026-11-17", 0, 1), ("2026-11-18", 0, 1), ("2026-11-19", 1, 0), ("2026-11-20", 2, 0), ("2026-11-21", 2, 0)])
def test_the_figure_and_the_rows_agree_on_late_and_expected_late(db: Database, day: str, late: int,
                                                                  expected: int) -> None:
    _seed(db)
    now = datetime.fromisoformat(f"{day}T12:00:00+00:00").astimezone(UTC)

    def both(db: Database) -> tuple[int, int]:
        return kpis.late_orders(db, now), kpis.expected_late_orders(db, now)

    for _ in range(2):  # built, then read back stored (JSON)
        assert stored.read(db, "late", both, today=day, now=now)[0] == (late, expected)
        assert (_rows(db, "late", now), _rows(db, "expected_late", now)) == (late, expected)


def test_the_late_side_of_each_business_order(db: Database) -> None:
    _seed(db)
    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    sides = dict(kpis.select(db, "business_orders", {}, now, "coalesce(order_number, transport_order_ids), late_side"))
    assert sides == {"SO-1": "both", "SO-2": None, "SO-3": None, "T3": "transport"}
