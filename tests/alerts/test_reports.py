"""Scheduled reports: due at their local time (daily, weekly), and each attachment is what
`opsdash export` writes for the same filter."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

import cli
from alerts import reports
from alerts.dispatch import dispatch
from alerts.engine import run_reports
from alerts.rules import find_rule, insert_rule
from services.settings import Settings, get_settings
from tests.alerts.conftest import FakeChannel, day
from tests.alerts.test_kinds import carrier_invoice, receivable, stock


def report_rule(db: Database, created: datetime, **params: object):  # type: ignore[no-untyped-def]
    return insert_rule(db, "Morning report", "report", {"at": "08:00", **params}, ("email",), True, "test", created)


@pytest.mark.parametrize(("created", "now", "due"), [
    ("2026-03-10T07:00:00+00:00", "2026-03-10T07:59:00+00:00", False),
    ("2026-03-10T07:00:00+00:00", "2026-03-10T08:00:00+00:00", True),
    ("2026-03-10T10:00:00+00:00", "2026-03-10T23:00:00+00:00", False),  # made after 08:00: tomorrow
    ("2026-03-10T10:00:00+00:00", "2026-03-11T08:01:00+00:00", True),
])
def test_daily_report_is_due_at_its_time(db: Database, created: str, now: str, due: bool) -> None:
    rule = report_rule(db, datetime.fromisoformat(created))
    assert reports.is_due(rule, datetime.fromisoformat(now)) is due


def test_weekly_report_waits_for_its_weekday(db: Database) -> None:
    rule = report_rule(db, datetime.fromisoformat("2026-03-09T09:00:00+00:00"), every="weekly", weekday="mon")
    assert not reports.is_due(rule, datetime.fromisoformat("2026-03-15T23:00:00+00:00"))  # Sunday
    assert reports.is_due(rule, datetime.fromisoformat("2026-03-16T08:00:00+00:00"))      # next Monday


def test_report_time_is_read_in_the_business_time_zone(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDASH_TIMEZONE", "Europe/Amsterdam")  # UTC+1 in March
    get_settings.cache_clear()
    rule = report_rule(db, datetime.fromisoformat("2026-03-10T05:00:00+00:00"))
    assert not reports.is_due(rule, datetime.fromisoformat("2026-03-10T06:59:00+00:00"))
    assert reports.is_due(rule, datetime.fromisoformat("2026-03-10T07:00:00+00:00"))  # 08:00 in Amsterdam


def test_report_is_sent_once_with_the_exports_attached(
        db: Database, settings: Settings, fake: FakeChannel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(UTC)
    receivable(db, "R-OLD", -40, 123456, now=now)
    receivable(db, "R-NEW", 5, now=now)
    carrier_invoice(db, "P1", 3, now=now)
    carrier_invoice(db, "P2", 30, now=now)
    stock(db, "LOW", 2, 10)
    rule = report_rule(db, now - timedelta(days=2))
    assert run_reports(db, settings, now) == ["Morning report"]
    assert run_reports(db, settings, now) == []  # once per scheduled time
    assert dispatch(db, settings, now, {"email": fake}) == {"email": "sent 1"}
    [message] = fake.sent
    assert "Overdue receivables: 1 items, 1,234.56 EUR" in message.body
    assert "Stock below reorder level: 1 items" in message.body
    assert f"Payables due by {day(7, now)}: 1 items, 50.00 EUR" in message.body
    assert [a.name for a in message.attachments] == [
        "receivables_outstanding.xlsx", "payables_outstanding.xlsx", "stock_levels.xlsx"]
    stored = find_rule(db, rule.rule_id)
    assert stored is not None
    for attachment, section in zip(message.attachments, reports.sections(stored, now), strict=True):
        assert _sheets(attachment.data) == _sheets(_cli_export(section, settings, tmp_path, monkeypatch))
    assert f"--filter due_date__lte={day(7, now)}" in message.body


def _cli_export(section: reports.Section, settings: Settings, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> bytes:
    out = tmp_path / f"{section.dataset}.xlsx"
    monkeypatch.setenv("OPSDASH_DB", str(settings.opsdash_db))
    get_settings.cache_clear()
    filters = [arg for k, v in section.filters.items() for arg in ("--filter", f"{k}={v}")]
    try:
        assert cli.main(["export", section.dataset, "--format", "xlsx", *filters, "--output", str(out)]) == 0
    finally:
        get_settings.cache_clear()
    return out.read_bytes()


def _sheets(data: bytes) -> dict[str, bytes]:
    """The workbook's parts (zip timestamps differ by the second they were written)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_a_report_another_worker_sent_is_not_sent_again(db: Database) -> None:
    from alerts.rules import mark_reported

    rule = report_rule(db, datetime.fromisoformat("2026-03-09T07:00:00+00:00"))
    now = datetime.fromisoformat("2026-03-10T08:00:00+00:00")
    assert mark_reported(db, rule.rule_id, now, rule.last_report_at)
    assert not mark_reported(db, rule.rule_id, now, rule.last_report_at)  # the second worker read it before
