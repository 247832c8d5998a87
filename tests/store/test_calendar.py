"""store.calendar: the business date in OPSDASH_TIMEZONE, and the one aging definition."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlite_utils import Database

from services.settings import get_settings
from store import calendar
from store.queries import query_dataset
from store.store import upsert_records

S = "2025-03-01T00:00:00.000Z"
BERLIN = "Europe/Berlin"


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDASH_TIMEZONE", BERLIN)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(("utc", "business"), [
    (datetime(2025, 3, 9, 22, 59, tzinfo=UTC), date(2025, 3, 9)),   # 23:59 in Berlin (CET, +1)
    (datetime(2025, 3, 9, 23, 0, tzinfo=UTC), date(2025, 3, 10)),   # midnight in Berlin, still the 9th in UTC
    (datetime(2025, 3, 10, 0, 30, tzinfo=UTC), date(2025, 3, 10)),
    (datetime(2025, 7, 9, 21, 59, tzinfo=UTC), date(2025, 7, 9)),   # summer time (CEST, +2)
    (datetime(2025, 7, 9, 22, 0, tzinfo=UTC), date(2025, 7, 10)),
])
def test_today_is_the_business_date_around_midnight_in_berlin(utc: datetime, business: date) -> None:
    assert calendar.today(utc, BERLIN) == business
    assert calendar.clock(utc, BERLIN) == {"now": utc.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                                           "today": business.isoformat()}


def test_setting_decides_the_zone(berlin: None) -> None:
    assert calendar.today(datetime(2025, 3, 9, 23, 30, tzinfo=UTC)) == date(2025, 3, 10)
    assert calendar.zone().key == BERLIN


def test_a_bad_zone_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="OPSDASH_TIMEZONE='Mars/Olympus' is not an IANA time zone name"):
        calendar.today(datetime(2025, 3, 9, tzinfo=UTC), "Mars/Olympus")


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        calendar.today(datetime(2025, 3, 9), "UTC")


def test_machine_zone_is_an_iana_name() -> None:
    name = calendar.machine_zone_name()
    assert calendar.zone(name).key == name


@pytest.mark.parametrize(("days", "bucket"), [
    (None, "No due date"), (0, "Not yet due"), (1, "1–30"), (30, "1–30"), (31, "31–60"), (60, "31–60"),
    (61, "61–90"), (90, "61–90"), (91, "90+"), (4000, "90+"),
])
def test_one_aging_definition_in_python_and_sql(db: Database, days: int | None, bucket: str) -> None:
    assert calendar.aging_bucket(days) == bucket
    assert db.conn.execute(f"SELECT {calendar.aging_sql('d')} FROM (SELECT CAST(? AS INTEGER) AS d) AS t", [days]).fetchone()[0] == bucket
    assert bucket in calendar.AGING_BUCKETS


def test_days_overdue() -> None:
    assert calendar.days_overdue("2025-03-01", date(2025, 3, 10)) == 9
    assert calendar.days_overdue("2025-03-20T00:00:00Z", date(2025, 3, 10)) == 0
    assert calendar.days_overdue(None, date(2025, 3, 10)) is None


def test_days_overdue_and_lateness_use_the_business_date(db: Database, berlin: None) -> None:
    """00:30 in Berlin on 10 March is still 9 March in UTC: the dashboard must not be a day behind."""
    upsert_records(db, "quaderno_invoices", [
        {"invoice_id": "q", "number": "Q-1", "currency": "EUR", "amount_due": 100, "state": "outstanding",
         "due_date": "2025-03-09", "synced_at": S}], "invoice_id")
    upsert_records(db, "qargo_orders", [
        {"order_id": "o", "reference": "R-1", "status": "IN_TRANSIT", "pickup_date": "2025-03-08",
         "delivery_date": "2025-03-09", "synced_at": S}], "order_id")
    before = datetime(2025, 3, 9, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    after = datetime(2025, 3, 9, 23, 30, tzinfo=UTC)   # 00:30 in Berlin, next day
    assert query_dataset(db, "receivables_outstanding", now=before).rows[0]["days_overdue"] == 0
    assert query_dataset(db, "receivables_outstanding", now=after).rows[0]["days_overdue"] == 1
    assert query_dataset(db, "orders", now=before).rows[0]["late"] == 0
    assert query_dataset(db, "orders", now=after).rows[0]["late"] == 1
