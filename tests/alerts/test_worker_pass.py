"""The worker's scheduler pass (jobs/alerts_pass.py) evaluates the rules and sends in the background, without
waiting for it. Here, not in tests/jobs/, for the alerts' fixtures (alerts.db, the calendar in UTC)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pydantic import SecretStr
from sqlite_utils import Database

import jobs.alerts_pass
from jobs.worker import SCHEDULED, Worker
from services.settings import Settings
from tests.alerts.conftest import add
from tests.alerts.test_kinds import receivable
from tests.services.notify_servers import http_receiver


def test_the_scheduler_pass_evaluates_and_delivers(alerts_db: str, db: Database) -> None:
    assert jobs.alerts_pass.alerts_pass in SCHEDULED
    now = datetime.now(UTC)
    with http_receiver() as hook:
        settings = Settings(opsdash_db=alerts_db, opsdash_alert_webhook_url=SecretStr(hook.url()))
        receivable(db, "INV-1", -40, now=now)
        add(db, "receivable_overdue", channels=("webhook",), days=30)
        Worker(settings, clock=lambda: now).schedule_due(db)
        assert db.execute("SELECT key, status FROM alerts").fetchall() == [("quaderno:INV-1", "open")]
        deadline = time.monotonic() + 10
        while not hook.bodies and time.monotonic() < deadline:
            time.sleep(0.05)
    [body] = hook.bodies
    assert body["opsdash"]["alerts"][0]["key"] == "quaderno:INV-1"
    deadline = time.monotonic() + 5
    while db.execute("SELECT status FROM alert_deliveries").fetchone()[0] != "sent" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert db.execute("SELECT status FROM alert_deliveries").fetchall() == [("sent",)]
