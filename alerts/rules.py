"""Alert rules as data: the kinds and their parameters, and the `alert_rules` table.

A rule is `(name, kind, params, channels, notify_resolved)`. `KINDS` declares every kind's
parameters with their types; `check_params` turns user text ("60", "1000.00", "08:00") into typed
values or raises `ValueError` naming the kind and the parameter. The in-app inbox always gets
the alert; `channels` lists the extra ones (`email`, `webhook`), which stay silent until their
settings are present (docs/alerts.md).

Parameters every condition kind takes: `resolve_after_minutes` (how long a condition must stay
clear before the alert resolves: the guard against flapping) and `recipients` (e-mail addresses,
comma-separated; default OPSDASH_SMTP_TO).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlite_utils import Database

from store.db import iso, transaction, utcnow

CHANNELS = ("email", "webhook")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
VENDOR_NAMES = ("qargo", "quaderno", "qasida", "cargobase", "upwell")
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


@dataclass(frozen=True)
class Param:
    type: str  # int | decimal | text | time | choice | emails
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    help: str = ""
    shown: str = "{}"  # the value in words on the Alerts page: "more than {} days overdue" (issue 21)


@dataclass(frozen=True)
class Kind:
    name: str
    summary: str
    params: Mapping[str, Param]
    report: bool = False  # a scheduled report instead of a condition


_COMMON = {
    "resolve_after_minutes": Param("int", default=15, help="minutes clear before it resolves",
                                   shown="resolves after {} min clear"),
    "recipients": Param("emails", help="e-mail recipients (default OPSDASH_SMTP_TO)", shown="to {}"),
}
_MONEY = {
    "min_amount": Param("decimal", help="only above this amount (in the invoice's currency)",
                        shown="above {}"),
    "currency": Param("text", help="only this currency (ISO code)", shown="in {}"),
    "counterparty": Param("text", help="only this customer / supplier (exact name)", shown="for {}"),
}
_STOCK = {"warehouse": Param("text", help="only this warehouse", shown="warehouse {}"), "product": Param("text", help="only this product", shown="product {}")}


def _kind(name: str, summary: str, *, report: bool = False, extra: Mapping[str, Param] | None = None,
          **params: Param) -> Kind:
    params = {**params, **(extra or {})}
    return Kind(name, summary, params if report else {**params, **_COMMON}, report)


KINDS: dict[str, Kind] = {k.name: k for k in (
    _kind("receivable_overdue", "a receivable passes N days overdue",
          days=Param("int", required=True, help="fires when days overdue > N",
                     shown="more than {} days overdue"), extra=_MONEY),
    _kind("payable_due", "a payable falls due within N days (or is already overdue)",
          days=Param("int", required=True, help="fires when due on or before today + N",
                     shown="due within {} days"), extra=_MONEY),
    _kind("stock_below_reorder", "a stock item is below its reorder level", extra=_STOCK),
    _kind("stock_cover_below", "a stock item's days of cover fall below N",
          days=Param("int", required=True, help="fires when days of cover < N",
                     shown="under {} days of cover"), extra=_STOCK),
    _kind("sync_stale", "a vendor's data is stale beyond its expected interval",
          vendor=Param("choice", choices=VENDOR_NAMES)),
    _kind("sync_failed", "a vendor's last sync failed", vendor=Param("choice", choices=VENDOR_NAMES)),
    _kind("upload_error", "an order upload ends in ERROR",
          within_days=Param("int", default=7, help="only uploads finished in the last N days",
                               shown="in the last {} days")),
    _kind("charge_waiting", "a Qargo charge waits for approval longer than N hours",
          hours=Param("int", required=True, help="fires when waiting > N hours", shown="waiting over {} h")),
    _kind("tax_id_invalid", "a tax ID turns invalid at the tax authority",
          country=Param("text", help="only this country code", shown="country {}")),
    _kind("webhook_rejections", "webhook rejections exceed N in an hour",
          count=Param("int", required=True, help="fires when rejections in the last hour > N",
                      shown="more than {} an hour"),
          source=Param("choice", choices=("upwell", "qargo"), shown="from {}")),
    _kind("report", "a scheduled report: headline figures + XLSX of the open items", report=True,
          every=Param("choice", default="daily", choices=("daily", "weekly")),
          at=Param("time", required=True, help="local time HH:MM in OPSDASH_TIMEZONE", shown="at {}"),
          weekday=Param("choice", default="mon", choices=WEEKDAYS, help="for weekly reports", shown="on {}"),
          due_within_days=Param("int", default=7, help="payables due within N days",
                                  shown="payables due within {} days"),
          recipients=Param("emails", help="e-mail recipients (default OPSDASH_SMTP_TO)", shown="to {}")),
)}


@dataclass(frozen=True)
class Rule:
    rule_id: int
    name: str
    kind: str
    params: dict[str, Any]
    channels: tuple[str, ...]
    notify_resolved: bool
    enabled: bool
    created_by: str | None
    created_at: str
    last_evaluated_at: str | None
    last_signature: str | None
    last_error: str | None
    last_report_at: str | None

    @property
    def spec(self) -> Kind:
        return KINDS[self.kind]

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items() if v is not None)
        return f"{self.kind}({args})"


def get_kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}; known kinds: {', '.join(KINDS)}")
    return KINDS[kind]


def check_params(kind: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed parameters with defaults filled in; ValueError names the kind and the parameter."""
    spec = get_kind(kind)
    unknown = sorted(set(raw) - set(spec.params))
    if unknown:
        raise ValueError(f"{kind}: unknown parameter {unknown[0]!r}; it takes {', '.join(spec.params)}")
    out: dict[str, Any] = {}
    for name, param in spec.params.items():
        value = raw.get(name)
        if value is None or value == "":
            if param.required:
                raise ValueError(f"{kind}: parameter {name!r} is required ({param.help})")
            out[name] = param.default
        else:
            out[name] = _convert(kind, name, param, value)
    return out


def _convert(kind: str, name: str, param: Param, value: Any) -> Any:
    where = f"{kind}: parameter {name!r}"
    text = str(value).strip()
    if param.type == "int":
        if isinstance(value, bool) or not re.fullmatch(r"\d+", text):
            raise ValueError(f"{where} must be a whole number >= 0, got {value!r}")
        return int(text)
    if param.type == "decimal":
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{where} must be a decimal amount such as 1000.00, got {value!r}") from None
        return str(amount)  # kept as exact text in JSON
    if param.type == "time" and not _TIME.fullmatch(text):
        raise ValueError(f"{where} must be a time HH:MM (24 h), got {value!r}")
    if param.type == "choice" and text.lower() not in param.choices:
        raise ValueError(f"{where} must be one of {', '.join(param.choices)}, got {value!r}")
    if param.type == "emails":
        return _emails(where, value)
    return text.lower() if param.type == "choice" else text


def _emails(where: str, value: Any) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    addresses = [str(a).strip() for a in items if str(a).strip()]
    bad = [a for a in addresses if not re.fullmatch(r"[^@\s,]+@[^@\s,]+", a)]
    if bad:
        raise ValueError(f"{where}: {bad[0]!r} is not an e-mail address")
    return addresses


def check_channels(channels: Any) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(str(c).strip().lower() for c in channels if str(c).strip()))
    bad = [c for c in names if c not in (*CHANNELS, "inbox")]
    if bad:
        raise ValueError(f"unknown channel {bad[0]!r}; use {', '.join(CHANNELS)} (the inbox is always on)")
    return tuple(c for c in names if c != "inbox")


# ----------------------------------------------------------------------------- the table

_COLUMNS = ("rule_id, name, kind, params, channels, notify_resolved, enabled, created_by, created_at, "
            "last_evaluated_at, last_signature, last_error, last_report_at")


def _rule(row: tuple[Any, ...]) -> Rule:
    rid, name, kind, params, channels, resolved, enabled, *rest = row
    return Rule(rid, name, kind, json.loads(params), tuple(json.loads(channels)), bool(resolved),
                bool(enabled), *rest)


def insert_rule(db: Database, name: str, kind: str, params: Mapping[str, Any], channels: Any = (),
                notify_resolved: bool = True, created_by: str | None = None,
                now: datetime | None = None) -> Rule:
    """Validate and store a rule; ValueError on a bad kind, parameter, channel or a taken name."""
    name = name.strip()
    if not name:
        raise ValueError("a rule needs a name")
    typed, chosen = check_params(kind, params), check_channels(channels)
    stamp = iso(now or utcnow())
    with transaction(db):
        if find_rule(db, name) is not None:
            raise ValueError(f"a rule named {name!r} exists already; remove it first or pick another name")
        db.conn.execute(
            "INSERT INTO alert_rules (name, kind, params, channels, notify_resolved, created_by, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [name, kind, json.dumps(typed), json.dumps(list(chosen)), int(notify_resolved), created_by, stamp, stamp])
    rule = find_rule(db, name)
    assert rule is not None
    return rule


def find_rule(db: Database, name_or_id: str | int) -> Rule | None:
    """By name, or by id when given an int or digits."""
    text = str(name_or_id).strip()
    by_id = text.isdigit()
    row = db.conn.execute(f"SELECT {_COLUMNS} FROM alert_rules WHERE {'rule_id' if by_id else 'name'} = ?",
                          [int(text) if by_id else text]).fetchone()
    return _rule(row) if row else None


def list_rules(db: Database, *, enabled_only: bool = False) -> list[Rule]:
    where = "WHERE enabled = 1" if enabled_only else ""
    return [_rule(r) for r in db.conn.execute(f"SELECT {_COLUMNS} FROM alert_rules {where} ORDER BY rule_id")]


def delete_rule(db: Database, rule_id: int) -> None:
    """The rule and its alerts; messages already queued for a channel are still delivered."""
    with transaction(db):
        db.conn.execute("DELETE FROM alerts WHERE rule_id = ?", [rule_id])
        db.conn.execute("DELETE FROM alert_rules WHERE rule_id = ?", [rule_id])


def mark_evaluated(db: Database, rule_id: int, now: datetime, signature: str | None, error: str | None) -> None:
    db.conn.execute("UPDATE alert_rules SET last_evaluated_at = ?, last_signature = ?, last_error = ? "
                    "WHERE rule_id = ?", [iso(now), signature, error, rule_id])


def mark_reported(db: Database, rule_id: int, now: datetime, previous: str | None) -> bool:
    """Record a report as sent, unless another worker did since `previous` was read; True when this one did."""
    cursor = db.conn.execute("UPDATE alert_rules SET last_report_at = ? WHERE rule_id = ? AND last_report_at IS ?",
                             [iso(now), rule_id, previous])
    return cursor.rowcount == 1


# The demo's two example rules: both fire on the sandbox's data; e-mail and webhook stay silent
# until OPSDASH_SMTP_HOST / OPSDASH_ALERT_WEBHOOK_URL are set.
EXAMPLES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("Receivables over 30 days overdue", "receivable_overdue", {"days": 30}),
    ("Payables due within 7 days", "payable_due", {"days": 7}),
)


def install_examples(db: Database, now: datetime | None = None) -> list[str]:
    """Add the example rules unless the database has rules already; returns the names added."""
    if list_rules(db):
        return []
    for name, kind, params in EXAMPLES:
        insert_rule(db, name, kind, params, ("email", "webhook"), True, "demo", now)
    return [name for name, _, _ in EXAMPLES]
