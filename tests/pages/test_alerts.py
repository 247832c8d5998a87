"""Alerts page: the inbox with its badge, rule management for admins only (audited), channel status."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from alerts.engine import evaluate_due
from alerts.rules import insert_rule
from services.settings import get_settings
from store.db import connect, iso, utcnow
from tests.pages.conftest import ROOT, SETTINGS_ENV, day, run_page
from ui import safe

OVERDUE = {"A-1": -45, "A-2": -31, "A-3": -30, "A-4": 5}  # days from today: two are past 30 days overdue


@pytest.fixture
def alerts_db(db_path: Path | str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path | str]:
    """Quaderno receivables relative to today; no channel configured."""
    path = db_path
    db = connect(path)
    db["quaderno_invoices"].insert_all([
        {"invoice_id": n, "number": n, "contact_name": "Acme", "currency": "EUR", "total": 1000, "amount_due": 1000,
         "state": "late", "due_date": day(offset), "synced_at": iso(utcnow())} for n, offset in OVERDUE.items()])
    db.close()
    for name in (*SETTINGS_ENV, "OPSDASH_SMTP_HOST", "OPSDASH_ALERT_WEBHOOK_URL", "OPSDASH_LOCAL_ROLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPSDASH_DB", str(path))
    get_settings.cache_clear()
    st.cache_data.clear()
    yield path
    get_settings.cache_clear()
    st.cache_data.clear()


def _table(at: AppTest, column: str) -> pd.DataFrame:
    """The page's table that has `column` (AppTest finds dataframes by position, not by key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _badge() -> list[str]:
    """The sidebar's unread badge, as the router renders it (AppTest keeps the sidebar on the default page only)."""
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30).run()
    return [link.proto.label for link in at.sidebar.get("page_link") if "unread alert" in link.proto.label]


def _alerting(path: Path) -> None:
    db = connect(path)
    insert_rule(db, "Overdue 30", "receivable_overdue", {"days": 30}, ("email",), True, "test")
    evaluate_due(db, get_settings(), utcnow())
    db.close()


def test_inbox_lists_open_alerts_with_a_link_and_a_sidebar_badge(alerts_db: Path) -> None:
    _alerting(alerts_db)
    at = run_page("pages/alerts.py")
    assert not at.exception, at.exception
    inbox = _table(at, "opened_at")
    assert sorted(inbox["title"]) == ["Acme: invoice A-1 is 45 days overdue (10.00 EUR)",
                                      "Acme: invoice A-2 is 31 days overdue (10.00 EUR)"]
    assert all(r == "Overdue 30" for r in inbox["rule"])
    channels = _table(at, "pending")
    assert list(channels["state"]) == ["Off (set OPSDASH_SMTP_HOST)", "Off (set OPSDASH_ALERT_WEBHOOK_URL)"]
    assert _badge() == ["1 unread alert"]  # both were true at the rule's first run: one digest (issue 21)


def test_mark_all_read_clears_the_badge(alerts_db: Path) -> None:
    _alerting(alerts_db)
    at = run_page("pages/alerts.py")
    at.button(key="alerts.read").click().run()
    assert not at.exception, at.exception
    assert _badge() == []


def test_operators_see_rules_but_cannot_manage_them(alerts_db: Path) -> None:
    at = run_page("pages/alerts.py")
    assert "Only admins add, test or remove rules." in [c.value for c in at.caption]
    assert not [e for e in at.expander if "Add a rule" in e.label]


def test_an_admin_adds_a_rule_and_a_bad_parameter_is_refused(alerts_db: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDASH_LOCAL_ROLE", "admin")
    at = run_page("pages/alerts.py")
    at.text_input(key="alerts.name").input("Stale data")
    at.selectbox(key="alerts.kind").select("sync_stale")
    at.text_input(key="alerts.params").input("vendor=acme")
    submit = next(b for b in at.button if b.label == "Add rule")
    submit.click().run()
    assert "must be one of qargo" in " ".join(e.value for e in at.error)
    at.text_input(key="alerts.params").input("vendor=qasida")
    next(b for b in at.button if b.label == "Add rule").click().run()
    assert not at.exception, at.exception
    assert "Stale data" in list(_table(at, "condition")["name"])
    db = connect(alerts_db)
    assert db.execute("SELECT actor, action, target FROM audit_log WHERE action = 'alerts.add_rule'").fetchall() == [
        ("local", "alerts.add_rule", "Stale data")]
    db.close()


def test_links_carry_the_record_query() -> None:
    from ui.alerts import link_target

    assert link_target("pages/upload.py?job=12") == ("pages/upload.py", {"job": "12"})
    assert link_target("pages/invoices.py") == ("pages/invoices.py", {})


def test_an_admin_tests_and_removes_a_rule(alerts_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDASH_LOCAL_ROLE", "admin")
    _alerting(alerts_db)
    at = run_page("pages/alerts.py")
    next(b for b in at.button if b.key == "alerts.test").click().run()
    assert not at.exception, at.exception
    assert {"2 matching now", "Email: off (not configured)"} <= {t.value for t in at.text}  # as text, not markdown
    assert sorted(_table(at, "key")["key"]) == ["quaderno:A-1", "quaderno:A-2"]
    next(b for b in at.button if b.key == "alerts.remove").click().run()
    assert not at.exception, at.exception
    assert "No alert rules yet. An admin adds them here or with `opsdash alerts add`." in [i.value for i in at.info]
    db = connect(alerts_db)
    assert [a for (a,) in db.execute("SELECT action FROM audit_log ORDER BY id")] == [
        "alerts.test_rule", "alerts.remove_rule"]
    db.close()


HOSTILE = "Acme [click](https://evil.example) ![x](http://host/px.png) :red[ALARM] <img src=x>"


def test_vendor_text_in_an_alert_title_is_text_in_the_inbox_links(alerts_db: Path) -> None:
    """Issue 22: the inbox's record links rendered a vendor's words as markdown (a live link, an image)."""
    db = connect(alerts_db)
    db.execute("UPDATE quaderno_invoices SET contact_name = ?", [HOSTILE])
    db.close()
    _alerting(alerts_db)
    at = run_page("pages/alerts.py")
    assert not at.exception, at.exception
    labels = sorted(link.proto.label for link in at.get("page_link") if "evil" in link.proto.label)
    assert labels == [safe.text(f"{HOSTILE}: invoice A-{n} is {days} days overdue (10.00 EUR)")
                      for n, days in ((1, 45), (2, 31))]
    assert labels[0].startswith(r"Acme \[click\]\(https\:\/\/evil\.example\) \!\[x\]")  # escaped, shown as sent


def test_a_match_after_the_first_run_is_unread_again(alerts_db: Path) -> None:
    """Issue 21: only the first run's matches are folded into one unread; later ones each count."""
    _alerting(alerts_db)
    db = connect(alerts_db)
    db.execute("UPDATE alerts SET status = 'resolved' WHERE key LIKE '%A-2'")  # as if it cleared
    evaluate_due(db, get_settings(), utcnow() + timedelta(hours=1))
    db.close()
    assert run_page("pages/alerts.py") and _badge() == ["2 unread alerts"]
