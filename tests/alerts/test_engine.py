"""Alert lifecycle and delivery: no flapping spam, evaluation only when due, an outbox that survives
a failing channel, quiet hours and digest mode."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from alerts import dispatch as outbox
from alerts.engine import REEVALUATE_EVERY, evaluate_due, is_due
from alerts.rules import find_rule, install_examples, list_rules
from alerts.state import inbox, mark_read, unread_count
from services.notify import backoff
from services.settings import Settings
from tests.alerts.conftest import NOW, FakeChannel, add, queued, run
from tests.alerts.test_kinds import receivable


def test_a_flapping_condition_sends_one_alert_and_no_resolved_spam(db: Database, settings: Settings) -> None:
    receivable(db, "INV-1", -40)
    rule = add(db, "receivable_overdue", days=30)
    moment = NOW
    for minute in range(0, 60, 5):  # paid, unpaid, paid ... every 5 minutes for an hour
        db.execute("UPDATE quaderno_invoices SET state = ?", ["paid" if minute % 10 else "late"])
        run(db, rule, settings, moment + timedelta(minutes=minute))
    assert [k for k, _, _ in queued(db)] == ["fired"]
    assert db.execute("SELECT count(*) FROM alerts").fetchone()[0] == 1


def test_many_matches_make_one_message_per_evaluation(db: Database, settings: Settings) -> None:
    for i in range(30):
        receivable(db, f"INV-{i:02}", -40)
    rule = add(db, "receivable_overdue", days=30)
    assert run(db, rule, settings) == (30, 0)
    [(kind, subject, _)] = queued(db)
    assert kind == "fired"
    assert subject == "[opsdash] Alert: receivable_overdue (30 items)"
    body = db.execute("SELECT body FROM alert_deliveries").fetchone()[0]
    assert "... and 5 more: see the Alerts page" in body


def test_rules_are_evaluated_when_their_data_changes_or_time_passes(db: Database, settings: Settings) -> None:
    rule = add(db, "upload_error")
    assert [o.rule for o in evaluate_due(db, settings, NOW)] == ["upload_error"]
    fresh = find_rule(db, rule.rule_id)
    assert fresh is not None and not is_due(db, fresh, NOW + timedelta(minutes=1))
    db["order_uploads"].insert({"upload_id": "U1", "order_identifier": "O1", "operation": "CREATE", "status": "ERROR",
                                "created_at": "2026-03-10T12:00:30.000Z", "updated_at": "2026-03-10T12:00:30.000Z"})
    assert is_due(db, fresh, NOW + timedelta(minutes=1))  # an upload finished: its data changed
    evaluate_due(db, settings, NOW + timedelta(minutes=1))
    fresh = find_rule(db, rule.rule_id)
    assert fresh is not None and not is_due(db, fresh, NOW + timedelta(minutes=2))
    assert is_due(db, fresh, NOW + timedelta(minutes=1) + REEVALUATE_EVERY)


def test_a_rule_whose_data_is_missing_records_why(db: Database, settings: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from store import datasets

    monkeypatch.delitem(datasets.DATASETS, "receivables_outstanding")
    rule = add(db, "receivable_overdue", days=1)
    [outcome] = evaluate_due(db, settings, NOW)
    assert outcome.error == "dataset 'receivables_outstanding' is not in this cache yet"
    stored = find_rule(db, rule.rule_id)
    assert stored is not None and "waits for that data" in (stored.last_error or "")


def test_a_failing_channel_backs_off_and_delivers_everything_when_it_returns(
        db: Database, settings: Settings, fake: FakeChannel) -> None:
    receivable(db, "INV-1", -40)
    rule = add(db, "receivable_overdue", days=30)
    run(db, rule, settings)
    fake.failing = True
    tries = [NOW, NOW + timedelta(seconds=10), NOW + timedelta(seconds=31), NOW + timedelta(minutes=2)]
    results = [outbox.dispatch(db, settings, t, {"email": fake})["email"] for t in tries]
    assert results[0] == "failed"
    assert results[1].startswith("backing off until 2026-03-10T12:00:30")  # 30 s after one failure
    assert results[2] == "failed"                                          # second failure: wait 1 min
    assert results[3] == "failed"
    status = {r["channel"]: r for r in outbox.channel_status(db, settings)}["email"]
    assert status["state"] == "Failing, retrying with backoff" and status["pending"] == 1
    assert status["failures_in_a_row"] == 3 and "connection refused" in status["last_error"]
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 7, 20)] == [30, 60, 120, 1800, 1800]
    receivable(db, "INV-2", -50)
    run(db, rule, settings, NOW + timedelta(minutes=3))
    fake.failing = False
    assert outbox.dispatch(db, settings, NOW + timedelta(minutes=6), {"email": fake})["email"] == "sent 2"
    [message] = fake.sent  # both alerts, none lost, in one message
    assert message.subject == "opsdash: 2 alert messages" and "INV-1" in message.body and "INV-2" in message.body
    assert [s for _, _, s in queued(db)] == ["sent", "sent"]
    assert outbox.channel_status(db, settings)[0]["state"] == "OK"


def test_quiet_hours_hold_night_alerts_for_one_morning_message(
        db: Database, settings: Settings, fake: FakeChannel) -> None:
    settings = settings.model_copy(update={"opsdash_smtp_quiet_hours": "22:00-07:00"})
    night = datetime.fromisoformat("2026-03-10T23:30:00+00:00")
    for i, minutes in enumerate((0, 60, 120)):
        receivable(db, f"N{i}", -40)
        rule = add(db, "receivable_overdue", name=f"r{i}", days=30)
        run(db, rule, settings, night + timedelta(minutes=minutes))
        assert outbox.dispatch(db, settings, night + timedelta(minutes=minutes), {"email": fake}) == {
            "email": "sent 0, holding " + str(i + 1)}
    assert fake.sent == []
    assert outbox.dispatch(db, settings, night + timedelta(hours=7, minutes=31), {"email": fake}) == {"email": "sent 3"}
    assert len(fake.sent) == 1 and fake.sent[0].subject == "opsdash: 3 alert messages"


def test_digest_mode_sends_once_a_day_at_its_time(db: Database, settings: Settings, fake: FakeChannel) -> None:
    settings = settings.model_copy(update={"opsdash_smtp_digest_at": "08:00"})
    receivable(db, "A", -40)
    rule = add(db, "receivable_overdue", days=30)
    run(db, rule, settings)  # 12:00: the first digest is due (08:00 today has not been sent)
    assert outbox.dispatch(db, settings, NOW, {"email": fake})["email"] == "sent 1"
    receivable(db, "B", -40)
    run(db, rule, settings, NOW + timedelta(hours=1))
    assert outbox.dispatch(db, settings, NOW + timedelta(hours=1), {"email": fake})["email"] == "sent 0, holding 1"
    next_morning = NOW + timedelta(hours=20)  # 08:00 next day
    assert outbox.dispatch(db, settings, next_morning, {"email": fake})["email"] == "sent 1"
    assert len(fake.sent) == 2


def test_unconfigured_channels_queue_nothing_and_the_inbox_always_shows(db: Database, settings: Settings) -> None:
    bare = Settings(opsdash_db=settings.opsdash_db)
    receivable(db, "A", -40)
    rule = add(db, "receivable_overdue", channels=("email", "webhook"), days=30)
    run(db, rule, bare)
    assert db.execute("SELECT count(*) FROM alert_deliveries").fetchone()[0] == 0
    assert [r["state"] for r in outbox.channel_status(db, bare)] == [
        "Off (set OPSDASH_SMTP_HOST)", "Off (set OPSDASH_ALERT_WEBHOOK_URL)"]
    assert unread_count(db) == 1
    [row] = inbox(db)
    assert row["rule"] == "receivable_overdue" and row["link"] == "pages/invoices.py" and row["is_unread"] == 1
    assert mark_read(db, NOW) == 1 and unread_count(db) == 0


def test_no_secret_reaches_a_message_or_the_outbox(db: Database, settings: Settings) -> None:
    receivable(db, "A", -40)
    run(db, add(db, "receivable_overdue", channels=("email", "webhook"), days=30), settings)
    stored = " ".join(str(v) for row in db.execute("SELECT * FROM alert_deliveries").fetchall() for v in row)
    assert "SECRET-TOKEN" not in stored and "hook/" not in stored


def test_the_demo_examples_install_once(db: Database) -> None:
    assert install_examples(db, NOW) == ["Receivables over 30 days overdue", "Payables due within 7 days"]
    assert install_examples(db, NOW) == []
    assert [r.channels for r in list_rules(db)] == [("email", "webhook"), ("email", "webhook")]


def test_a_malformed_quiet_hours_setting_is_shown_and_nothing_is_lost(
        db: Database, settings: Settings, fake: FakeChannel) -> None:
    bad = settings.model_copy(update={"opsdash_smtp_quiet_hours": "late"})
    receivable(db, "A", -40)
    run(db, add(db, "receivable_overdue", days=30), bad)
    assert outbox.dispatch(db, bad, NOW, {"email": fake})["email"].startswith("not sent: OPSDASH_SMTP_QUIET_HOURS")
    status = outbox.channel_status(db, bad)[0]
    assert status["state"] == "Not sending: check its settings" and status["pending"] == 1
    assert outbox.dispatch(db, settings, NOW, {"email": fake})["email"] == "sent 1"
    assert outbox.channel_status(db, settings)[0]["state"] == "OK"


def test_only_the_syncs_behind_a_rules_dataset_make_it_due(db: Database, settings: Settings) -> None:
    rule = add(db, "receivable_overdue", days=30)
    evaluate_due(db, settings, NOW)
    fresh = find_rule(db, rule.rule_id)
    assert fresh is not None
    db["sync_runs"].insert({"vendor": "qargo", "resource": "orders", "started_at": "x", "status": "ok"})
    assert not is_due(db, fresh, NOW + timedelta(minutes=1))  # Qargo orders: not receivables
    db["sync_runs"].insert({"vendor": "quaderno", "resource": "invoices", "started_at": "x", "status": "ok"})
    assert is_due(db, fresh, NOW + timedelta(minutes=1))


def test_two_senders_never_send_the_same_message_twice(db: Database, settings: Settings, fake: FakeChannel) -> None:
    receivable(db, "A", -40)
    run(db, add(db, "receivable_overdue", days=30), settings)
    outbox._state(db, "email")
    assert outbox._claim(db, "email", NOW)  # another worker is sending right now
    assert outbox.dispatch(db, settings, NOW, {"email": fake})["email"].startswith("backing off until")
    assert fake.sent == []
    # that worker died mid-send: its claim lapses after LEASE and the message goes out once
    later = NOW + outbox.LEASE
    assert outbox.dispatch(db, settings, later, {"email": fake})["email"] == "sent 1"
    assert outbox.dispatch(db, settings, later, {"email": fake})["email"] == "nothing pending"
    assert len(fake.sent) == 1


def test_old_resolved_alerts_and_sent_messages_are_pruned(db: Database, settings: Settings, fake: FakeChannel) -> None:
    from alerts.state import prune

    receivable(db, "A", -40)
    rule = add(db, "receivable_overdue", days=30, resolve_after_minutes=0)
    run(db, rule, settings)
    outbox.dispatch(db, settings, NOW, {"email": fake})
    db.execute("UPDATE quaderno_invoices SET state = 'paid'")
    run(db, rule, settings, NOW + timedelta(minutes=1))
    assert prune(db, NOW + timedelta(days=8)) == (0, 1)  # the "fired" one, sent 8 days ago; "resolved" is pending
    outbox.dispatch(db, settings, NOW + timedelta(days=8), {"email": fake})
    assert prune(db, NOW + timedelta(days=14)) == (0, 0)   # "resolved", sent 6 days ago: kept
    assert prune(db, NOW + timedelta(days=16)) == (0, 1)
    assert prune(db, NOW + timedelta(days=91)) == (1, 0)   # the resolved alert


def test_what_a_rule_first_finds_is_one_unread_even_after_runs_with_no_data(db: Database, settings: Settings) -> None:
    """Issue 21 (167 unread alerts at the demo's first start): the rules first run before the first sync."""
    rule = add(db, "receivable_overdue", days=30)
    assert run(db, rule, settings) == (0, 0)  # nothing synced yet
    for i in range(5):
        receivable(db, f"INV-{i}", -40)
    assert run(db, rule, settings, NOW + timedelta(minutes=5)) == (5, 0)
    assert unread_count(db) == 1  # one digest of what was already true
    receivable(db, "INV-NEW", -40)
    assert run(db, rule, settings, NOW + timedelta(minutes=10)) == (1, 0)
    assert unread_count(db) == 2  # a new match after that is unread as usual
