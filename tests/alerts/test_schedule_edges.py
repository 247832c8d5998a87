"""Alert delivery edges (issue 22): the third failure keeps its 2-minute backoff (it equalled the send lease and
was cleared with it), and a digest time inside the spring-forward gap, or in the repeated autumn hour, sends one
digest that day, not two."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from alerts import dispatch as outbox
from services.settings import Settings
from store.db import iso
from tests.alerts.conftest import NOW, FakeChannel, add, run
from tests.alerts.test_kinds import receivable

PRAGUE = ZoneInfo("Europe/Prague")  # 2026-03-29 02:00 -> 03:00 (CET -> CEST); 2026-10-25 03:00 -> 02:00


def test_the_third_failure_keeps_its_two_minute_backoff(db: Database, settings: Settings, fake: FakeChannel) -> None:
    receivable(db, "INV-1", -40)
    run(db, add(db, "receivable_overdue", days=30), settings)
    fake.failing = True
    tries = [NOW, NOW + timedelta(seconds=31), NOW + timedelta(seconds=92), NOW + timedelta(seconds=100)]
    results = [outbox.dispatch(db, settings, t, {"email": fake})["email"] for t in tries]
    assert results[:3] == ["failed"] * 3  # waits of 30 s, then 60 s, then 120 s
    assert results[3] == "backing off until 2026-03-10T12:03:32.000Z"  # 92 s + 120 s, not "failed" again
    assert db.execute("SELECT failures FROM alert_channels WHERE channel = 'email'").fetchone() == (3,)


def digests(day_start: datetime, last: datetime, at: time) -> list[str]:
    """Every 5 minutes for 6 hours from `day_start` (UTC): the moments a digest goes out."""
    sent = []
    for step in range(72):
        moment = day_start + timedelta(minutes=5 * step)
        if outbox._digest_due({"last_digest_at": iso(last)}, moment.astimezone(PRAGUE), at):
            sent.append(moment.astimezone(PRAGUE).strftime("%H:%M %Z"))
            last = moment
    return sent


def test_a_digest_time_inside_the_spring_forward_gap_sends_one_digest() -> None:
    yesterday = datetime(2026, 3, 28, 1, 30, tzinfo=UTC)  # 02:30 CET, the day before
    # 02:30 does not exist that night: the digest goes at 03:30 CEST, when 02:30 CET would have been
    assert digests(datetime(2026, 3, 28, 23, 0, tzinfo=UTC), yesterday, time(2, 30)) == ["03:30 CEST"]


def test_a_digest_time_in_the_repeated_autumn_hour_sends_one_digest() -> None:
    yesterday = datetime(2026, 10, 24, 0, 30, tzinfo=UTC)  # 02:30 CEST, the day before
    assert digests(datetime(2026, 10, 24, 23, 0, tzinfo=UTC), yesterday, time(2, 30)) == ["02:30 CEST"]


def test_an_ordinary_digest_time_is_unchanged() -> None:
    assert outbox.last_digest_time(datetime(2026, 3, 10, 9, 0, tzinfo=PRAGUE), time(8, 0)) == datetime(
        2026, 3, 10, 8, 0, tzinfo=PRAGUE)
    assert outbox.last_digest_time(datetime(2026, 3, 10, 7, 59, tzinfo=PRAGUE), time(8, 0)) == datetime(
        2026, 3, 9, 8, 0, tzinfo=PRAGUE)
