"""Alert state: one open alert per (rule, key) until its condition clears, and the in-app inbox.

Reconciling one evaluation:
- a key found and not open opens an alert (it is news: the caller sends it);
- a key found and open stays open (`last_seen_at` moves, nothing is sent again);
- an open key no longer found starts a clear period (`clear_since`); it resolves only once the
  condition has stayed clear for the rule's `resolve_after_minutes`. A condition that flaps
  (gone, back, gone...) inside that period keeps its one alert and sends nothing more.

The inbox is the `alerts` table itself: unread = `read_at IS NULL`. Read state is shared by the
team (one dashboard, one inbox), like an ops channel, not per user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from alerts.conditions import Finding
from alerts.rules import Rule
from store.db import iso, transaction

_COLUMNS = ("alert_id, rule_id, key, status, title, detail, link, opened_at, last_seen_at, clear_since, "
            "resolved_at, read_at")


@dataclass(frozen=True)
class Alert:
    alert_id: int
    rule_id: int
    key: str
    status: str
    title: str
    detail: str | None
    link: str | None
    opened_at: str
    last_seen_at: str
    clear_since: str | None
    resolved_at: str | None
    read_at: str | None


@dataclass(frozen=True)
class Change:
    opened: list[Alert]
    resolved: list[Alert]


def open_alerts(db: Database, rule_id: int) -> dict[str, Alert]:
    rows = db.conn.execute(f"SELECT {_COLUMNS} FROM alerts WHERE rule_id = ? AND status = 'open'", [rule_id])
    return {row[2]: Alert(*row) for row in rows}


def reconcile(db: Database, rule: Rule, found: Mapping[str, Finding], now: datetime) -> Change:
    stamp, hold = iso(now), timedelta(minutes=rule.params.get("resolve_after_minutes") or 0)
    with transaction(db):
        current = open_alerts(db, rule.rule_id)
        opened = [_open(db, rule.rule_id, f, stamp) for key, f in found.items() if key not in current]
        for key in found.keys() & current.keys():
            db.conn.execute("UPDATE alerts SET last_seen_at = ?, clear_since = NULL, title = ?, detail = ? "
                            "WHERE alert_id = ?", [stamp, found[key].title, found[key].detail,
                                                   current[key].alert_id])
        resolved = [a for key, a in current.items() if key not in found and _clear(db, a, now, hold)]
    return Change(opened, resolved)


def _open(db: Database, rule_id: int, f: Finding, stamp: str) -> Alert:
    cursor = db.conn.execute(
        "INSERT INTO alerts (rule_id, key, status, title, detail, link, opened_at, last_seen_at) "
        "VALUES (?, ?, 'open', ?, ?, ?, ?, ?)", [rule_id, f.key, f.title, f.detail, f.link, stamp, stamp])
    return Alert(cursor.lastrowid or 0, rule_id, f.key, "open", f.title, f.detail, f.link, stamp, stamp,
                 None, None, None)


def _clear(db: Database, alert: Alert, now: datetime, hold: timedelta) -> bool:
    """Start or continue the clear period; True when the alert resolved now."""
    if alert.clear_since is None:
        db.conn.execute("UPDATE alerts SET clear_since = ? WHERE alert_id = ?", [iso(now), alert.alert_id])
        if hold > timedelta(0):
            return False
    elif now - datetime.fromisoformat(alert.clear_since) < hold:
        return False
    db.conn.execute("UPDATE alerts SET status = 'resolved', resolved_at = ? WHERE alert_id = ?",
                    [iso(now), alert.alert_id])
    return True


# ----------------------------------------------------------------------------- the inbox


def unread_count(db: Database) -> int:
    return int(db.conn.execute("SELECT count(*) FROM alerts WHERE read_at IS NULL").fetchone()[0])


def inbox(db: Database, *, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Open alerts first, then the most recent; each with its rule's name."""
    rows = db.conn.execute(
        "SELECT a.alert_id, a.status, a.title, a.detail, a.link, a.opened_at, a.resolved_at, "
        "a.read_at IS NULL AS is_unread, r.name AS rule FROM alerts AS a LEFT JOIN alert_rules AS r USING (rule_id) "
        "WHERE (? IS NULL OR a.status = ?) ORDER BY a.status = 'open' DESC, a.opened_at DESC, a.alert_id DESC "
        "LIMIT ?", [status, status, limit])
    names = [d[0] for d in rows.description]
    return [dict(zip(names, row, strict=True)) for row in rows.fetchall()]


def mark_read(db: Database, now: datetime, alert_ids: list[int] | None = None) -> int:
    """Mark the given alerts (default: all) read; returns how many changed."""
    if alert_ids is None:
        cursor = db.conn.execute("UPDATE alerts SET read_at = ? WHERE read_at IS NULL", [iso(now)])
    else:
        marks = ", ".join("?" for _ in alert_ids) or "NULL"
        cursor = db.conn.execute(f"UPDATE alerts SET read_at = ? WHERE read_at IS NULL AND alert_id IN ({marks})",
                                 [iso(now), *alert_ids])
    return cursor.rowcount


KEEP_RESOLVED = timedelta(days=90)
KEEP_SENT = timedelta(days=7)  # sent messages may carry report attachments: do not keep them for long


def prune(db: Database, now: datetime) -> tuple[int, int]:
    """Forget resolved alerts after KEEP_RESOLVED and sent messages after KEEP_SENT; returns both counts."""
    with transaction(db):
        alerts = db.conn.execute("DELETE FROM alerts WHERE status = 'resolved' AND resolved_at < ?",
                                 [iso(now - KEEP_RESOLVED)]).rowcount
        sent = db.conn.execute("DELETE FROM alert_deliveries WHERE status = 'sent' AND sent_at < ?",
                               [iso(now - KEEP_SENT)]).rowcount
    return alerts, sent
