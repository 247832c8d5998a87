"""Alert rules as staff manage them: admins add and remove rules (audited); anyone may read the inbox.

Importing this module registers the worker's alert pass (jobs/alerts_pass.py).

- add_rule(db, actor, name, kind, params, channels, notify_resolved)   admin, audited `alerts.add_rule`
- remove_rule(db, actor, name_or_id)                                    admin, audited `alerts.remove_rule`
- test_rule(db, actor, name_or_id, settings, send=...)                  admin when it sends; audited
- mark_read(db, actor, alert_ids)                                       viewer
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

import jobs.alerts_pass  # noqa: F401 - registers the worker's alert pass
from actions.roles import Actor, require
from alerts import state
from alerts.conditions import DataUnavailable, Finding
from alerts.engine import preview
from alerts.rules import Rule, delete_rule, find_rule, insert_rule, list_rules
from services.notify import Message, NotifyError, configured_channels
from services.settings import Settings
from store import audit
from store.db import utcnow


def add_rule(db: Database, actor: Actor, name: str, kind: str, params: Mapping[str, Any],
             channels: Sequence[str] = (), notify_resolved: bool = True, now: datetime | None = None) -> Rule:
    """Store a new rule; ValueError (nothing stored) names a bad kind, parameter or channel."""
    require(actor, "admin", "managing alert rules")
    rule = insert_rule(db, name, kind, params, channels, notify_resolved, actor.name, now)
    audit.record(db, actor.name, "alerts.add_rule", rule.name,
                 {"kind": rule.kind, "params": rule.params, "channels": list(rule.channels)},
                 f"added: {rule.describe()}", now=now)
    return rule


__all__ = ["add_rule", "get_rule", "list_rules", "mark_read", "remove_rule", "test_rule"]


def get_rule(db: Database, name_or_id: str | int) -> Rule:
    rule = find_rule(db, name_or_id)
    if rule is None:
        raise ValueError(f"no alert rule {name_or_id!r}: `opsdash alerts list` shows the rules")
    return rule


def remove_rule(db: Database, actor: Actor, name_or_id: str | int, now: datetime | None = None) -> Rule:
    require(actor, "admin", "managing alert rules")
    rule = get_rule(db, name_or_id)
    delete_rule(db, rule.rule_id)
    audit.record(db, actor.name, "alerts.remove_rule", rule.name, None, f"removed: {rule.describe()}", now=now)
    return rule


@dataclass(frozen=True)
class TestResult:
    rule: Rule
    findings: list[Finding]
    error: str | None
    sent: dict[str, str]  # channel -> "sent" or the failure


def test_rule(db: Database, actor: Actor, name_or_id: str | int, settings: Settings, *, send: bool = True,
              now: datetime | None = None) -> TestResult:
    """What the rule finds now (nothing opened); with `send`, a test message on each of its channels."""
    require(actor, "admin" if send else "viewer", "testing alert channels")
    rule, moment = get_rule(db, name_or_id), now or utcnow()
    try:
        found, error = preview(db, rule, settings, moment), None
    except DataUnavailable as exc:
        found, error = [], str(exc)
    sent = _send_test(rule, found, settings) if send else {}
    audit.record(db, actor.name, "alerts.test_rule", rule.name, None,
                 f"{len(found)} matching; " + (", ".join(f"{c}: {r}" for c, r in sent.items()) or "nothing sent"),
                 now=now)
    return TestResult(rule, found, error, sent)


def _send_test(rule: Rule, found: list[Finding], settings: Settings) -> dict[str, str]:
    on = configured_channels(settings)
    lines = "\n".join(f"- {f.title}" for f in found[:10]) or "(nothing matches right now)"
    message = Message(f"[opsdash] Test of alert rule {rule.name!r}",
                      f"This is a test. The rule currently matches {len(found)} item(s):\n{lines}",
                      tuple(rule.params.get("recipients") or ()), data={"rule": rule.name, "kind": "test"})
    results = {}
    for channel in rule.channels:
        if channel not in on:
            results[channel] = "off (not configured)"
            continue
        try:
            on[channel].send(message)
            results[channel] = "sent"
        except NotifyError as exc:
            results[channel] = f"failed: {exc}"
    return results


def mark_read(db: Database, actor: Actor, alert_ids: list[int] | None = None, now: datetime | None = None) -> int:
    require(actor, "viewer", "reading alerts")
    return state.mark_read(db, now or utcnow(), alert_ids)
