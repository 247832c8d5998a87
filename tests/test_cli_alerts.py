"""`opsdash alerts list|add|remove|test` through a real subprocess; a test message reaches a local receiver."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.db import connect, iso
from tests.services.notify_servers import http_receiver

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ("OPSDASH_SMTP_HOST", "OPSDASH_ALERT_WEBHOOK_URL", "OPSDASH_LOCAL_ROLE", "OPSDASH_LOCAL_USER")


@pytest.fixture
def db_path(db_path: Path | str) -> Path | str:
    """The suite's migrated database (a file, or with --db=postgresql a PostgreSQL one) with two late invoices."""
    path = db_path
    db = connect(path)
    today = datetime.now(UTC).date()
    db["quaderno_invoices"].insert_all([
        {"invoice_id": n, "number": n, "contact_name": "Acme", "currency": "EUR", "total": 5000, "amount_due": 5000,
         "state": "late", "due_date": (today - timedelta(days=d)).isoformat(), "synced_at": iso(datetime.now(UTC))}
        for n, d in (("INV-70", 70), ("INV-60", 60))])
    db.close()
    return path


def opsdash(db_path: Path | str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in CLEAN}
    return subprocess.run([sys.executable, "-m", "cli", "alerts", *args], cwd=ROOT, capture_output=True, text=True,  # noqa: PLW1510
                          env={**base, "OPSDASH_DB": str(db_path), **env}, timeout=120)


def test_add_list_test_remove(db_path: Path | str) -> None:
    added = opsdash(db_path, "add", "Overdue 60", "receivable_overdue", "--param", "days=60",
                    "--param", "min_amount=10.00", "--channel", "webhook")
    assert added.returncode == 0, added.stderr
    assert added.stdout == ("added rule 1 'Overdue 60': receivable_overdue(days=60, min_amount=10.00, "
                            "resolve_after_minutes=15)\n")
    listed = opsdash(db_path, "list")
    assert "1  Overdue 60: receivable_overdue(days=60" in listed.stdout and "channels: inbox, webhook" in listed.stdout
    tested = opsdash(db_path, "test", "Overdue 60")
    assert tested.returncode == 0, tested.stderr
    assert tested.stdout.splitlines() == [
        "Overdue 60: 1 matching now",
        "  quaderno:INV-70  Acme: invoice INV-70 is 70 days overdue (50.00 EUR)",
        "webhook: off (not configured)"]
    assert opsdash(db_path, "remove", "Overdue 60").stdout == "removed rule 1 'Overdue 60'\n"
    assert "no alert rules" in opsdash(db_path, "list").stdout
    db = connect(db_path)
    assert [a for (a,) in db.execute("SELECT action FROM audit_log ORDER BY id")] == [
        "alerts.add_rule", "alerts.test_rule", "alerts.remove_rule"]
    db.close()


def test_test_sends_a_message_to_the_configured_webhook(db_path: Path | str) -> None:
    opsdash(db_path, "add", "Overdue", "receivable_overdue", "--param", "days=30", "--channel", "webhook")
    with http_receiver() as hook:
        tested = opsdash(db_path, "test", "Overdue", OPSDASH_ALERT_WEBHOOK_URL=hook.url())
    assert tested.returncode == 0, tested.stderr
    assert tested.stdout.splitlines()[-1] == "webhook: sent"
    [body] = hook.bodies
    assert body["text"].startswith("*[opsdash] Test of alert rule 'Overdue'*") and "2 item(s)" in body["text"]


@pytest.mark.parametrize(("args", "message"), [
    (("add", "x", "receivable_overdue"), "parameter 'days' is required"),
    (("add", "x", "payable_due", "--param", "days"), "--param expects NAME=VALUE"),
    (("remove", "nope"), "no alert rule 'nope'"),
    (("test", "nope", "--no-send"), "no alert rule 'nope'"),
])
def test_bad_input_exits_2_with_a_clear_message(db_path: Path | str, args: tuple[str, ...], message: str) -> None:
    result = opsdash(db_path, *args)
    assert result.returncode == 2 and message in result.stderr


def test_only_admins_manage_rules(db_path: Path | str) -> None:
    result = opsdash(db_path, "add", "x", "sync_failed", OPSDASH_LOCAL_ROLE="operator")
    assert result.returncode == 2 and "needs the admin role" in result.stderr
    assert opsdash(db_path, "list", OPSDASH_LOCAL_ROLE="viewer").returncode == 0
