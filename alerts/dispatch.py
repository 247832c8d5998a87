"""The outbox: messages for e-mail and webhook wait in `alert_deliveries` until a channel takes them.

`dispatch(db, settings, now)` sends what is due, channel by channel:
- a channel without settings is off: nothing is queued for it (`enqueue` skips it);
- a channel that failed waits `services.notify.backoff(failures)` before the next try, and
  keeps every message pending meanwhile: when it comes back, nothing was lost;
- quiet hours (`OPSDASH_SMTP_QUIET_HOURS=22:00-07:00`, in OPSDASH_TIMEZONE) hold messages;
  digest mode (`OPSDASH_SMTP_DIGEST_AT=08:00`) holds them until that time each day. What was
  held goes out as ONE message (the "morning message"). Same for OPSDASH_ALERT_WEBHOOK_*.
- scheduled reports and test messages are not held (they already have their own time).

Sending runs in `start_background_dispatch`'s thread, never in the worker's job loop, so a mail
server that hangs costs the worker nothing.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from sqlite_utils import Database

from services.notify import Attachment, Channel, Message, NotifyError, backoff, configured_channels
from services.settings import Settings
from services.settings_check import clock_time, quiet_hours
from store import calendar
from store.db import connect, db_now, iso, transaction

log = logging.getLogger("opsdash.alerts")
UNHELD = ("report", "test")


@dataclass(frozen=True)
class Policy:
    quiet: tuple[time, time] | None
    digest_at: time | None


def business_zone(settings: Settings | None = None) -> tzinfo:
    """OPSDASH_TIMEZONE, else the machine's zone: the one business calendar (store/calendar.py)."""
    return calendar.zone(getattr(settings, "opsdash_timezone", None))


parse_time = clock_time  # the one reading of an HH:MM setting (services/settings_check.py)


def policy(settings: Settings, channel: str) -> Policy:
    prefix = "opsdash_smtp" if channel == "email" else "opsdash_alert_webhook"
    quiet_text, digest_text = getattr(settings, f"{prefix}_quiet_hours"), getattr(settings, f"{prefix}_digest_at")
    quiet = quiet_hours(quiet_text, f"{prefix.upper()}_QUIET_HOURS") if quiet_text else None
    digest = clock_time(digest_text, f"{prefix.upper()}_DIGEST_AT") if digest_text else None
    return Policy(quiet, digest)


def in_quiet_hours(local: datetime, quiet: tuple[time, time] | None) -> bool:
    if quiet is None:
        return False
    start, end, now = quiet[0], quiet[1], local.time()
    return start <= now < end if start <= end else (now >= start or now < end)


def last_digest_time(local: datetime, at: time) -> datetime:
    """The latest daily `at` at or before `local` (an aware local datetime), compared as instants. A time
    the clock skips (inside the spring-forward gap) is the instant it would have been without the jump
    (PEP 495 fold=0: 02:30 in a 02:00-03:00 gap is 03:30 after it), a repeated one its first occurrence:
    every day has exactly one."""
    today = local_at(local, at)
    return today if today.astimezone(UTC) <= local.astimezone(UTC) else local_at(local - timedelta(days=1), at)


def local_at(day: datetime, at: time) -> datetime:
    """`at` on `day`'s date in `day`'s zone, as a real instant (a skipped wall time resolved as above)."""
    wall = day.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0, fold=0)
    return wall.astimezone(UTC).astimezone(day.tzinfo)


# ----------------------------------------------------------------------------- the outbox


def enqueue(db: Database, settings: Settings, channels: Sequence[str], message: Message, *, kind: str,
            rule_id: int | None, now: datetime) -> list[int]:
    """Queue `message` for each configured channel among `channels`; returns the delivery ids."""
    on = configured_channels(settings)
    ids = []
    attachments = json.dumps([{"name": a.name, "content_type": a.content_type,
                               "data": base64.b64encode(a.data).decode()} for a in message.attachments])
    for channel in (c for c in channels if c in on):
        cursor = db.conn.execute(
            "INSERT INTO alert_deliveries (channel, kind, rule_id, subject, body, recipients, attachments, data, "
            "status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
            [channel, kind, rule_id, message.subject, message.body, json.dumps(list(message.recipients)),
             attachments, json.dumps(message.data, default=str), iso(now)])
        ids.append(cursor.lastrowid or 0)
    return ids


@dataclass(frozen=True)
class Pending:
    delivery_id: int
    kind: str
    message: Message


def _pending(db: Database, channel: str) -> list[Pending]:
    rows = db.conn.execute("SELECT delivery_id, kind, subject, body, recipients, attachments, data "
                           "FROM alert_deliveries WHERE channel = ? AND status = 'pending' ORDER BY delivery_id",
                           [channel]).fetchall()
    return [Pending(did, kind, Message(subject, body, tuple(json.loads(to or "[]")), _attachments(att),
                                       json.loads(data or "{}")))
            for did, kind, subject, body, to, att, data in rows]


def _attachments(text: str | None) -> tuple[Attachment, ...]:
    return tuple(Attachment(a["name"], a["content_type"], base64.b64decode(a["data"]))
                 for a in json.loads(text or "[]"))


def _state(db: Database, channel: str) -> dict[str, Any]:
    db.conn.execute("INSERT OR IGNORE INTO alert_channels (channel) VALUES (?)", [channel])
    cursor = db.conn.execute("SELECT * FROM alert_channels WHERE channel = ?", [channel])
    return dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))


def dispatch(db: Database, settings: Settings, now: datetime,
             channels: Mapping[str, Channel] | None = None) -> dict[str, str]:
    """Send what is due on every configured channel; returns {channel: what happened}."""
    channels = configured_channels(settings) if channels is None else channels
    return {name: _dispatch_channel(db, settings, name, channel, now) for name, channel in channels.items()}


def _dispatch_channel(db: Database, settings: Settings, name: str, channel: Channel, now: datetime) -> str:
    state = _state(db, name)
    if state["next_attempt_at"] and state["next_attempt_at"] > iso(now):
        return f"backing off until {state['next_attempt_at']}"
    try:
        rule = policy(settings, name)
    except ValueError as exc:  # a malformed quiet-hours/digest setting: shown on the channel, nothing lost
        db.conn.execute("UPDATE alert_channels SET last_error = ?, last_error_at = ? WHERE channel = ?",
                        [str(exc), iso(now), name])
        return f"not sent: {exc}"
    if not _claim(db, name, now):
        return "another process is sending"
    done = ""
    try:
        done = _send_due(db, settings, name, channel, rule, state, now)
        return done
    finally:  # a success leaves no wait; a failure keeps the backoff it set (even one as long as the lease)
        if done != "failed":
            db.conn.execute("UPDATE alert_channels SET next_attempt_at = NULL WHERE channel = ? "
                            "AND next_attempt_at = ?", [name, iso(now + LEASE)])


LEASE = timedelta(minutes=2)  # a sender that died mid-send holds its channel this long at most


def _claim(db: Database, name: str, now: datetime) -> bool:
    """Take the channel for this pass, so two workers never send the same message twice."""
    cursor = db.conn.execute("UPDATE alert_channels SET next_attempt_at = ? WHERE channel = ? "
                             "AND (next_attempt_at IS NULL OR next_attempt_at <= ?)", [iso(now + LEASE), name, iso(now)])
    return cursor.rowcount == 1


def _send_due(db: Database, settings: Settings, name: str, channel: Channel, rule: Policy,
              state: Mapping[str, Any], now: datetime) -> str:
    pending = _pending(db, name)  # read under the claim
    if not pending:
        return "nothing pending"
    unheld = [p for p in pending if p.kind in UNHELD]
    held = [p for p in pending if p.kind not in UNHELD]
    local = now.astimezone(business_zone(settings))
    release = not in_quiet_hours(local, rule.quiet) and _digest_due(state, local, rule.digest_at)
    batches = [[p] for p in unheld] + (_group(held) if release else [])
    for batch in batches:
        if not _send(db, name, channel, batch, now):
            return "failed"
    if release and held and rule.digest_at is not None:
        db.conn.execute("UPDATE alert_channels SET last_digest_at = ? WHERE channel = ?", [iso(now), name])
    return f"sent {sum(len(b) for b in batches)}" + ("" if release or not held else f", holding {len(held)}")


def _digest_due(state: Mapping[str, Any], local: datetime, at: time | None) -> bool:
    if at is None:
        return True
    last = state["last_digest_at"]
    return last is None or datetime.fromisoformat(last) < last_digest_time(local, at)


def _group(held: list[Pending]) -> list[list[Pending]]:
    """One message per recipient list; a message with attachments travels alone."""
    groups: dict[tuple[str, ...], list[Pending]] = {}
    alone = []
    for p in held:
        if p.message.attachments:
            alone.append([p])
        else:
            groups.setdefault(p.message.recipients, []).append(p)
    return [*groups.values(), *alone]


def combine(batch: list[Pending]) -> Message:
    if len(batch) == 1:
        return batch[0].message
    body = "\n\n".join(f"{p.message.subject}\n{p.message.body}" for p in batch)
    return Message(f"opsdash: {len(batch)} alert messages", body, batch[0].message.recipients,
                   data={"messages": [{"subject": p.message.subject, "body": p.message.body, **p.message.data}
                                      for p in batch]})


def _send(db: Database, name: str, channel: Channel, batch: list[Pending], now: datetime) -> bool:
    ids = [p.delivery_id for p in batch]
    marks = ", ".join("?" for _ in ids)
    try:
        channel.send(combine(batch))
    except NotifyError as exc:
        _failed(db, name, ids, marks, str(exc), now)
        return False
    except Exception as exc:  # noqa: BLE001 - a message the channel cannot even build is a failure to show,
        # never an exception that ends every pass while the channel reads "OK" (issue 22)
        _failed(db, name, ids, marks, f"{name}: could not send this message ({type(exc).__name__}: {exc})", now)
        return False
    with transaction(db):
        db.conn.execute(f"UPDATE alert_deliveries SET status = 'sent', sent_at = ?, attempts = attempts + 1 "
                        f"WHERE delivery_id IN ({marks})", [iso(now), *ids])
        db.conn.execute("UPDATE alert_channels SET last_attempt_at = ?, last_success_at = ?, failures = 0, "
                        "last_error = NULL WHERE channel = ?", [iso(now), iso(now), name])
    return True


def _failed(db: Database, name: str, ids: list[int], marks: str, error: str, now: datetime) -> None:
    failures = int(_state(db, name)["failures"]) + 1
    with transaction(db):
        db.conn.execute(f"UPDATE alert_deliveries SET attempts = attempts + 1, last_error = ? "
                        f"WHERE delivery_id IN ({marks})", [error, *ids])
        db.conn.execute("UPDATE alert_channels SET last_attempt_at = ?, last_error = ?, last_error_at = ?, "
                        "failures = ?, next_attempt_at = ? WHERE channel = ?",
                        [iso(now), error, iso(now), failures, iso(now + backoff(failures)), name])
    log.warning("alert channel %s failed (%d in a row): %s", name, failures, error)


# ----------------------------------------------------------------------------- health


def channel_status(db: Database, settings: Settings) -> list[dict[str, Any]]:
    """One row per channel for the Sync & health page: on/off, pending, last error, next try."""
    on = configured_channels(settings)
    rows = []
    for name, setting in (("email", "OPSDASH_SMTP_HOST"), ("webhook", "OPSDASH_ALERT_WEBHOOK_URL")):
        cursor = db.conn.execute("SELECT * FROM alert_channels WHERE channel = ?", [name])
        found = cursor.fetchone()
        state = dict(zip([d[0] for d in cursor.description], found, strict=True)) if found else {}
        pending = db.conn.execute("SELECT count(*), min(created_at) FROM alert_deliveries WHERE channel = ? "
                                  "AND status = 'pending'", [name]).fetchone()
        rows.append({
            "channel": name, "state": _channel_state(name in on, state, setting), "pending": pending[0],
            "oldest_pending_at": pending[1], "failures_in_a_row": state.get("failures", 0),
            "last_error": state.get("last_error"), "next_attempt_at": state.get("next_attempt_at"),
            "last_success_at": state.get("last_success_at")})
    return rows


def _channel_state(on: bool, state: Mapping[str, Any], setting: str) -> str:
    if not on:
        return f"Off (set {setting})"
    if state.get("last_error") and not state.get("failures"):
        return "Not sending: check its settings"
    return "Failing, retrying with backoff" if state.get("failures") else "OK"


# ----------------------------------------------------------------------------- background


_lock = threading.Lock()
_thread: list[threading.Thread] = []


def start_background_dispatch(settings: Settings) -> bool:
    """Send due messages in a daemon thread unless one is still at it; returns True if one started."""
    with _lock:
        if _thread and _thread[0].is_alive():
            return False
        thread = threading.Thread(target=_dispatch_once, args=(settings,), name="opsdash-alerts", daemon=True)
        _thread[:] = [thread]
        thread.start()
        return True


def _dispatch_once(settings: Settings) -> None:
    db = connect(settings.opsdash_db)
    try:
        dispatch(db, settings, db_now(db))  # the channels' send lease is judged by other processes
    except Exception:  # the dispatcher never takes anything down with it
        log.exception("alert dispatch failed")
    finally:
        db.close()
