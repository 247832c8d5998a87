"""Fixtures for the alert tests: a migrated database, a fixed clock, settings with channels on,
and a fake channel that records what it was asked to send (or fails on demand)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlite_utils import Database

from alerts.engine import evaluate
from alerts.rules import Rule, find_rule, insert_rule
from services.notify import Message, NotifyError
from services.settings import Settings, get_settings
from store.db import connect, iso
from store.schema import migrate
from tests.conftest import suite_database

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # a Tuesday


def day(offset: int, now: datetime = NOW) -> str:
    return (now.date() + timedelta(days=offset)).isoformat()


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The business calendar in UTC, read afresh (store/calendar.py reads the cached settings)."""
    monkeypatch.setenv("OPSDASH_TIMEZONE", "UTC")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def alerts_db(tmp_path: Path) -> str:
    """The test's database: the file alerts.db, or with --db=postgresql a fresh PostgreSQL database."""
    return suite_database(tmp_path / "alerts.db")


@pytest.fixture
def db(alerts_db: str) -> Iterator[Database]:
    conn = connect(alerts_db)
    migrate(conn)
    yield conn
    conn.close()


@pytest.fixture
def settings(alerts_db: str) -> Settings:
    """Both channels configured (nothing listens there: tests pass their own channels)."""
    return Settings(opsdash_db=alerts_db, opsdash_smtp_host="127.0.0.1", opsdash_smtp_port=1,
                    opsdash_smtp_to="ops@example.com",
                    opsdash_alert_webhook_url=SecretStr("http://127.0.0.1:1/hook/SECRET-TOKEN"),
                    qasida_base_url="http://127.0.0.1:1/qasida", qargo_base_url="http://127.0.0.1:1/qargo")


class FakeChannel:
    def __init__(self, name: str = "email") -> None:
        self.name, self.sent, self.failing = name, list[Message](), False

    def send(self, message: Message) -> None:
        if self.failing:
            raise NotifyError(self.name, "connection refused")
        self.sent.append(message)


@pytest.fixture
def fake() -> FakeChannel:
    return FakeChannel()


def add(db: Database, kind: str, channels: tuple[str, ...] = ("email",), name: str | None = None,
        resolved: bool = True, **params: Any) -> Rule:
    return insert_rule(db, name or kind, kind, params, channels, resolved, "test", NOW - timedelta(days=30))


def run(db: Database, rule: Rule, settings: Settings, now: datetime = NOW) -> tuple[int, int]:
    """Evaluate once (re-reading the rule, as the worker does); (opened, resolved)."""
    fresh = find_rule(db, rule.rule_id)
    assert fresh is not None
    outcome = evaluate(db, fresh, settings, now)
    assert outcome.error is None, outcome.error
    return outcome.opened, outcome.resolved


def open_keys(db: Database, rule: Rule) -> set[str]:
    return {k for (k,) in db.execute("SELECT key FROM alerts WHERE rule_id = ? AND status = 'open'",
                                      [rule.rule_id]).fetchall()}


def queued(db: Database, channel: str = "email") -> list[tuple[str, str, str]]:
    return db.execute("SELECT kind, subject, status FROM alert_deliveries WHERE channel = ? ORDER BY delivery_id",
                      [channel]).fetchall()


def stamp(moment: datetime) -> str:
    return iso(moment)
