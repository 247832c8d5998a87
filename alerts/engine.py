"""Evaluation: which rules to look at now, and what to send when their alerts open or resolve.

The worker calls `alerts_pass` on every scheduler pass (jobs/alerts_pass.py). A rule is evaluated
when the data it reads has changed since its last evaluation (its `signature`: the newest sync
run, webhook event, order upload or tax-ID check, and the date for day-based kinds), or when
`REEVALUATE_EVERY` has passed (time alone makes data stale or a charge wait too long). Page views
never evaluate. Everything is read from the cache; no vendor is called.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from alerts import reports
from alerts.conditions import DataUnavailable, Finding, findings
from alerts.dispatch import enqueue
from alerts.rules import Rule, list_rules, mark_evaluated, mark_reported
from alerts.state import Alert, Change, mark_read, reconcile
from services.notify import Message
from services.settings import Settings
from store.datasets import DATASETS
from store.db import iso, transaction

log = logging.getLogger("opsdash.alerts")
REEVALUATE_EVERY = timedelta(minutes=5)
LIST_AT_MOST = 25  # lines per message; the Alerts page lists them all

_SIGNALS = {
    "sync": "SELECT max(run_id) FROM sync_runs WHERE status != 'running'",
    "webhooks": "SELECT max(id) || '/' || max(coalesce(last_received_at, received_at)) FROM webhook_events",
    "uploads": "SELECT max(updated_at) FROM order_uploads",
    "taxids": "SELECT max(id) FROM tax_id_validations",
}
_READS = {
    "receivable_overdue": ("sync", "webhooks", "day"), "payable_due": ("sync", "webhooks", "day"),
    "stock_below_reorder": ("sync", "levels"), "stock_cover_below": ("sync", "levels", "day"),
    "sync_stale": ("sync",), "sync_failed": ("sync",), "upload_error": ("uploads",), "charge_waiting": ("sync",),
    "tax_id_invalid": ("taxids",), "webhook_rejections": ("webhooks",),
}
# Only the sync runs of the resources behind the kind's dataset count as "its data changed".
_DATASET = {"receivable_overdue": "receivables_outstanding", "payable_due": "payables_outstanding",
            "stock_below_reorder": "stock_levels", "stock_cover_below": "stock_levels"}
_SOURCES = {"charge_waiting": (("qargo", "charges"),)}


def _sources(kind: str) -> tuple[tuple[str, str], ...] | None:
    if kind in _DATASET and _DATASET[kind] in DATASETS:
        return DATASETS[_DATASET[kind]].sources
    return _SOURCES.get(kind)


def _signal(db: Database, name: str, kind: str, now: datetime) -> str:
    if name == "day":
        return iso(now)[:10]
    if name == "levels":
        found = db["reorder_levels"].exists()  # portable: PostgreSQL has no sqlite_master
        return str(db.conn.execute("SELECT max(updated_at) FROM reorder_levels").fetchone()[0]) if found else ""
    sources = _sources(kind) if name == "sync" else None
    if sources:
        pairs = " OR ".join("(vendor = ? AND resource = ?)" for _ in sources)
        sql = f"SELECT max(run_id) FROM sync_runs WHERE status != 'running' AND ({pairs})"
        return str(db.conn.execute(sql, [v for pair in sources for v in pair]).fetchone()[0])
    return str(db.conn.execute(_SIGNALS[name]).fetchone()[0])


def signature(db: Database, kind: str, now: datetime) -> str:
    return "|".join(_signal(db, name, kind, now) for name in _READS.get(kind, ()))


def is_due(db: Database, rule: Rule, now: datetime) -> bool:
    if rule.last_evaluated_at is None or rule.last_signature != signature(db, rule.kind, now):
        return True
    return now - datetime.fromisoformat(rule.last_evaluated_at) >= REEVALUATE_EVERY


@dataclass(frozen=True)
class Outcome:
    rule: str
    opened: int = 0
    resolved: int = 0
    error: str | None = None


def evaluate(db: Database, rule: Rule, settings: Settings, now: datetime) -> Outcome:
    """Evaluate one rule now, update its alerts and queue its messages; errors are recorded on the rule."""
    sig = signature(db, rule.kind, now)
    try:
        with transaction(db):  # alert state and its messages change together, or not at all
            first = not ever_opened(db, rule.rule_id)
            change = reconcile(db, rule, findings(db, rule, now, settings), now)
            if first:
                first_start_digest(db, change, now)
            announce(db, settings, rule, change, now)
            mark_evaluated(db, rule.rule_id, now, sig, None)
    except DataUnavailable as exc:
        mark_evaluated(db, rule.rule_id, now, sig, f"{exc}: the rule waits for that data")
        return Outcome(rule.name, error=str(exc))
    except Exception as exc:  # one broken rule must not stop the others
        log.exception("alert rule %s failed", rule.name)
        mark_evaluated(db, rule.rule_id, now, None, f"{type(exc).__name__}: {exc}")
        return Outcome(rule.name, error=str(exc))
    return Outcome(rule.name, len(change.opened), len(change.resolved))


def ever_opened(db: Database, rule_id: int) -> bool:
    return db.execute("SELECT 1 FROM alerts WHERE rule_id = ? LIMIT 1", [rule_id]).fetchone() is not None


def first_start_digest(db: Database, change: Change, now: datetime) -> None:
    """What was already true when a rule first found anything is one digest, not N unread alerts (issue 21:
    167 unread at the demo's first start). "First found", not "first ran": at a first start the rules run
    before the first sync has brought any data, and the matches arrive one evaluation later. The channels get
    the one message `announce` sends for every evaluation; the inbox keeps every alert open but only the
    first unread."""
    if len(change.opened) > 1:
        mark_read(db, now, [a.alert_id for a in change.opened[1:]])


def evaluate_due(db: Database, settings: Settings, now: datetime) -> list[Outcome]:
    return [evaluate(db, rule, settings, now) for rule in list_rules(db, enabled_only=True)
            if not rule.spec.report and is_due(db, rule, now)]


def announce(db: Database, settings: Settings, rule: Rule, change: Change, now: datetime) -> None:
    """Queue one message per rule and evaluation: what opened, and (if asked) what resolved."""
    if change.opened:
        enqueue(db, settings, rule.channels, message(rule, change.opened, "fired"), kind="fired",
                rule_id=rule.rule_id, now=now)
    if change.resolved and rule.notify_resolved:
        enqueue(db, settings, rule.channels, message(rule, change.resolved, "resolved"), kind="resolved",
                rule_id=rule.rule_id, now=now)


def message(rule: Rule, alerts: list[Alert], kind: str) -> Message:
    word = "Resolved" if kind == "resolved" else "Alert"
    subject = (f"[opsdash] {word}: {alerts[0].title}" if len(alerts) == 1
               else f"[opsdash] {word}: {rule.name} ({len(alerts)} items)")
    lines = [f"- {a.title}" + (f" ({a.detail})" if a.detail and kind != "resolved" else "")
             for a in alerts[:LIST_AT_MOST]]
    if len(alerts) > LIST_AT_MOST:
        lines.append(f"... and {len(alerts) - LIST_AT_MOST} more: see the Alerts page")
    head = f"Rule {rule.name!r} ({rule.spec.summary})" + (": cleared" if kind == "resolved" else "")
    data = {"rule": rule.name, "kind": kind,
            "alerts": [{"key": a.key, "title": a.title, "detail": a.detail} for a in alerts]}
    return Message(subject, head + "\n" + "\n".join(lines), tuple(rule.params.get("recipients") or ()),
                   data=data)


def run_reports(db: Database, settings: Settings, now: datetime) -> list[str]:
    """Queue every report rule that is due; returns their names."""
    sent = []
    for rule in list_rules(db, enabled_only=True):
        if not (rule.spec.report and reports.is_due(rule, now, settings)):
            continue
        try:
            report = reports.build(db, rule, now)
            with transaction(db):
                if not mark_reported(db, rule.rule_id, now, rule.last_report_at):
                    continue  # another worker sent this one
                enqueue(db, settings, rule.channels, report, kind="report", rule_id=rule.rule_id, now=now)
        except Exception as exc:  # one broken report must not stop the others; it is tried again next pass
            log.exception("report %s failed", rule.name)
            mark_evaluated(db, rule.rule_id, now, None, f"{type(exc).__name__}: {exc}")
            continue
        sent.append(rule.name)
    return sent


def preview(db: Database, rule: Rule, settings: Settings, now: datetime) -> list[Finding]:
    """What the rule finds right now, without opening or sending anything (`opsdash alerts test`)."""
    return list(findings(db, rule, now, settings).values())
