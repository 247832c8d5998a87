"""The one business calendar: what "today" is, how many days an invoice is overdue, which aging bucket.

Every page, KPI, dataset and export reads the date through here, so the dashboard is never a day
behind its users: "today" is the date in `OPSDASH_TIMEZONE` (an IANA name such as
"Europe/Berlin"; unset = the machine's zone), not the UTC date. Between midnight and 01:00/02:00
in Europe the two differ (issue 9, point 8).

Timestamps in our own tables stay UTC (`store.db.iso`); only the *date* that decides "overdue",
"late" and "issued in the last 7 days" is the business one. Vendor due dates are calendar dates
(YYYY-MM-DD), compared with the business date as they are.

Aging has one definition (issue 9, point 7): not yet due (due today or later), 1–30, 31–60,
61–90 and 90+ days overdue, and "No due date" on its own, never hidden in another bucket.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.settings import get_settings
from store.db import iso, utcnow

NOT_YET_DUE, NO_DUE_DATE = "Not yet due", "No due date"
AGING_BUCKETS = (NOT_YET_DUE, "1–30", "31–60", "61–90", "90+", NO_DUE_DATE)
# (upper bound in days overdue, bucket); the last bucket is open-ended.
_LIMITS = ((0, NOT_YET_DUE), (30, "1–30"), (60, "31–60"), (90, "61–90"))


def zone(name: str | None = None) -> ZoneInfo:
    """The business zone: `name`, else OPSDASH_TIMEZONE, else the machine's zone, else UTC."""
    return _zone(name or get_settings().opsdash_timezone or machine_zone_name())


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"OPSDASH_TIMEZONE={name!r} is not an IANA time zone name; "
                         "use one like 'Europe/Berlin' or 'UTC'") from None


@lru_cache(maxsize=1)
def machine_zone_name() -> str:
    """The machine's IANA zone: $TZ, /etc/timezone, the /etc/localtime link; UTC when none is readable."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    link = Path("/etc/localtime")
    if link.is_symlink():
        candidates.append(str(link.resolve()).partition("zoneinfo/")[2])
    for name in candidates:
        try:
            if name:
                ZoneInfo(name)
                return name
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return "UTC"


def today(now: datetime | None = None, tz: str | None = None) -> date:
    """The business date at `now` (an aware datetime; default: the current time)."""
    moment = now or utcnow()
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    return moment.astimezone(zone(tz)).date()


def business_date(moment: datetime, tz: str | None = None) -> date:
    """The business date of a vendor timestamp (an ETA, a payment, an event): its calendar day in
    OPSDASH_TIMEZONE, never its UTC date. An ETA at 23:30Z is the next day in Europe (issue 18, point 7).
    A naive timestamp is taken as UTC, the vendors' documented zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone(tz)).date()


def clock(now: datetime | None = None, tz: str | None = None) -> dict[str, str]:
    """The SQL parameters every dataset reads: `:now` (UTC ISO) and `:today` (business date)."""
    moment = now or utcnow()
    return {"now": iso(moment), "today": today(moment, tz).isoformat()}


def days_ago(days: int, now: datetime | None = None, tz: str | None = None) -> str:
    """The business date `days` before today, as YYYY-MM-DD (e.g. "issued in the last 7 days")."""
    return (today(now, tz) - timedelta(days=days)).isoformat()


def days_overdue(due: date | str | None, on: date) -> int | None:
    """Whole days past `due` on business date `on`: 0 when not yet due, None without a due date."""
    if due is None or due == "":
        return None
    due_day = due if isinstance(due, date) else date.fromisoformat(str(due)[:10])
    return max(0, (on - due_day).days)


def aging_bucket(days: int | None) -> str:
    """The aging bucket of a `days_overdue` value (None: no due date)."""
    if days is None:
        return NO_DUE_DATE
    for limit, bucket in _LIMITS:
        if days <= limit:
            return bucket
    return "90+"


def aging_sql(column: str = "days_overdue") -> str:
    """`aging_bucket` as a SQL CASE over `column` (a column name of ours, never user input)."""
    whens = " ".join(f"WHEN {column} <= {limit} THEN '{bucket}'" for limit, bucket in _LIMITS)
    return f"CASE WHEN {column} IS NULL THEN '{NO_DUE_DATE}' {whens} ELSE '90+' END"


def utc_midnight(day: date, tz: str | None = None) -> datetime:
    """The UTC instant at which business date `day` starts (for comparing our UTC timestamps)."""
    return datetime.combine(day, datetime.min.time(), tzinfo=zone(tz)).astimezone(UTC)
