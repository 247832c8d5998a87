"""Scheduled reports (rule kind `report`): daily or weekly at a local time in OPSDASH_TIMEZONE.

A report is a short message with the headline figures and one XLSX per open-item list, each
byte-for-byte the sheet `opsdash export DATASET --format xlsx --filter ...` writes for the same
filter (`sections` gives the filters, the message quotes the command). A list whose dataset
this cache does not have yet is named as missing rather than skipped silently.

A report is due when its latest scheduled time (at or before now) is later than the last report
sent, or than the rule's creation: a rule made at 10:00 for 08:00 first reports tomorrow.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from alerts.dispatch import business_zone, last_digest_time, local_at, parse_time
from alerts.rules import WEEKDAYS, Rule
from exports.export import export, money_value
from services.notify import Attachment, Message
from services.settings import Settings
from store import calendar
from store.datasets import DATASETS
from store.queries import iter_dataset

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Section:
    title: str
    dataset: str
    filters: dict[str, Any]

    def command(self) -> str:
        flags = " ".join(f"--filter {k}={v}" for k, v in self.filters.items())
        return f"opsdash export {self.dataset} --format xlsx {flags} --output {self.dataset}.xlsx"


def sections(rule: Rule, now: datetime) -> list[Section]:
    due_by = (calendar.today(now) + timedelta(days=rule.params.get("due_within_days") or 0)).isoformat()
    below = "below_reorder_level" if "below_reorder_level" in _columns("stock_levels") else "below_threshold"
    return [Section("Overdue receivables", "receivables_outstanding", {"days_overdue__gt": 0}),
            Section(f"Payables due by {due_by}", "payables_outstanding", {"due_date__lte": due_by}),
            Section("Stock below reorder level", "stock_levels", {below: 1})]


def _columns(dataset: str) -> tuple[str, ...]:
    return DATASETS[dataset].columns if dataset in DATASETS else ()


def is_due(rule: Rule, now: datetime, settings: Settings | None = None) -> bool:
    local, at = now.astimezone(business_zone(settings)), parse_time(rule.params["at"], "at")
    scheduled = last_digest_time(local, at)
    if rule.params.get("every") == "weekly":
        back = (scheduled.weekday() - WEEKDAYS.index(rule.params.get("weekday") or "mon")) % 7
        scheduled = local_at(scheduled - timedelta(days=back), at)  # that day's `at`, a skipped time resolved
    since = datetime.fromisoformat(rule.last_report_at or rule.created_at)
    return scheduled > since


def build(db: Database, rule: Rule, now: datetime) -> Message:
    lines, files = [], []
    for section in sections(rule, now):
        if section.dataset not in DATASETS:
            lines.append(f"{section.title}: not available (dataset {section.dataset} is not in this cache yet)")
            continue
        lines.append(f"{section.title}: {_headline(db, section, now)}\n  {section.command()}")
        files.append(Attachment(f"{section.dataset}.xlsx", XLSX, xlsx(db, section, now)))
    subject = f"opsdash report: {rule.name} ({calendar.today(now).isoformat()})"
    body = "\n".join(lines) + "\n\nThe attached files are those exports, as of this report."
    return Message(subject, body, tuple(rule.params.get("recipients") or ()), tuple(files),
                   {"rule": rule.name, "kind": "report"})


def xlsx(db: Database, section: Section, now: datetime) -> bytes:
    buffer = io.BytesIO()
    export(db, section.dataset, "xlsx", buffer, dict(section.filters), now=now)
    return buffer.getvalue()


def _headline(db: Database, section: Section, now: datetime) -> str:
    count, totals = 0, dict[str, Decimal]()
    for row in iter_dataset(db, section.dataset, section.filters, now=now):
        count += 1
        amount = money_value(row.get("amount_due"), row.get("currency"))
        if amount is not None:
            totals[row["currency"]] = totals.get(row["currency"], Decimal(0)) + amount
    money = ", ".join(f"{total:,} {currency}" for currency, total in sorted(totals.items()))
    return f"{count} items" + (f", {money}" if money else "")
