"""The Alerts page shows a rule's parameters in words, never as `name: value` pairs (issue 21)."""

from __future__ import annotations

from decimal import Decimal

from alerts.rules import Rule
from ui.alerts import parameters


def _rule(kind: str, params: dict[str, object]) -> Rule:
    return Rule(rule_id=1, name="r", kind=kind, params=params, channels=(), notify_resolved=False, enabled=True,
                created_by=None, created_at="2026-12-06T10:00:00+00:00", last_evaluated_at=None,
                last_signature=None, last_error=None, last_report_at=None)


def test_overdue_rule_reads_as_a_sentence() -> None:
    rule = _rule("receivable_overdue", {"days": 30, "resolve_after_minutes": 15, "currency": "EUR",
                                        "min_amount": Decimal("1000.00"), "counterparty": None})
    assert parameters(rule) == "more than 30 days overdue · resolves after 15 min clear · in EUR · above 1,000.00"


def test_vendor_parameters_show_the_vendor_name() -> None:
    assert parameters(_rule("sync_failed", {"vendor": "qasida"})) == "Qasida"
    assert parameters(_rule("webhook_rejections", {"count": 1200, "source": "upwell"})) == \
        "more than 1,200 an hour · from Upwell"


def test_no_parameters_show_a_dash() -> None:
    assert parameters(_rule("stock_below_reorder", {})) == "—"
