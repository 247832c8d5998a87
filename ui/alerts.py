"""Alerts in the UI: cached loaders for the inbox, the rules and the channels, and the sidebar badge.

Reads only: the worker evaluates rules and sends messages (alerts); a page view never does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import streamlit as st
from sqlite_utils import Database

from alerts import dispatch, state
from alerts.rules import KINDS, Rule, list_rules
from figures import words
from services.settings import get_settings
from ui import format as fmt
from ui.data import loader

PAGE = "pages/alerts.py"
INBOX_COLUMNS = ("is_unread", "status", "rule", "title", "detail", "opened_at", "resolved_at")
RULE_COLUMNS = ("name", "kind", "condition", "parameters", "channels", "resolved_message", "last_evaluated_at",
                "problem")
CHANNEL_COLUMNS = ("channel", "state", "pending", "oldest_pending_at", "failures_in_a_row", "last_error",
                   "next_attempt_at", "last_success_at")


@loader
def inbox(db: Database, status: str | None = None) -> list[dict[str, Any]]:
    return state.inbox(db, status=status)


@loader
def unread(db: Database) -> int:
    return state.unread_count(db)


@loader
def rules(db: Database) -> list[Rule]:
    return list_rules(db)


CHANNEL_NAMES = {"inbox": "Inbox", "email": "E-mail", "webhook": "Webhook"}  # the words staff read (issue 21)


@loader
def channels(db: Database) -> list[dict[str, Any]]:
    return [row | {"channel": CHANNEL_NAMES.get(row["channel"], row["channel"])}
            for row in dispatch.channel_status(db, get_settings())]


def rule_rows(items: list[Rule]) -> list[dict[str, Any]]:
    return [{"name": r.name, "kind": r.kind, "condition": r.spec.summary, "parameters": parameters(r),
             "channels": ", ".join(CHANNEL_NAMES.get(c, c) for c in ("inbox", *r.channels)), "resolved_message": fmt.yes_no(r.notify_resolved),
             "last_evaluated_at": r.last_evaluated_at, "problem": r.last_error} for r in items]


def parameters(rule: Rule) -> str:
    """"more than 30 days overdue · resolves after 15 min clear", not `receivable_overdue(days=30, ...)`."""
    declared = KINDS[rule.kind].params if rule.kind in KINDS else {}
    shown = [(declared[k].shown if k in declared else f"{fmt.label(k).lower()}: {{}}").format(_value(k, v))
             for k, v in rule.params.items() if v is not None]
    return " · ".join(shown) or fmt.BLANK


def _value(name: str, value: Any) -> str:
    if isinstance(value, Decimal):  # an amount in the invoice's currency
        return fmt.number(value, 2)
    if isinstance(value, int | float):
        return fmt.number(value)
    if name in ("vendor", "source"):
        return words.vendor_name(value)
    return ", ".join(value) if isinstance(value, list | tuple) else str(value)


def kind_label(kind: str) -> str:
    """The condition in words, never its CLI name (`receivable_overdue`, issue 21)."""
    return KINDS[kind].summary


def kind_help(kind: str) -> str:
    return "; ".join(f"{name}{' (required)' if p.required else ''}: {p.help or p.type}"
                     for name, p in KINDS[kind].params.items())


def parse_params(text: str) -> dict[str, str]:
    """`days=60, min_amount=1000.00` -> {"days": "60", "min_amount": "1000.00"}; ValueError names the bad part."""
    params: dict[str, str] = {}
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"parameters are NAME=VALUE separated by commas; {part!r} is not")
        params[name.strip()] = value.strip()
    return params


def link_target(link: str) -> tuple[str, dict[str, str]]:
    """"pages/upload.py?job=12" -> ("pages/upload.py", {"job": "12"}) for st.page_link."""
    page, _, query = link.partition("?")
    return page, dict(part.partition("=")[::2] for part in query.split("&") if part)


def sidebar_badge() -> None:
    """The unread count under the page list; a link to the Alerts page when there is something new."""
    count = unread()
    if count:
        # no icon: a material icon's name ("notifications_active") was read out as part of the link
        st.sidebar.page_link(PAGE, label=f"{fmt.count(count, 'unread alert')}")
