"""How numbers, money, quantities, dates and times read on screen: one module for pages, tables and charts.

Everything goes through Babel with the locale `OPSDASH_LOCALE` (default "en") and the business time zone
`OPSDASH_TIMEZONE` (IANA name; default the machine's zone), so `6272243.68 EUR` reads `6,272,243.68 EUR` in
English and `6.272.243,68 EUR` in German. Money is formatted from `Decimal` or integer minor units, never
through a float: the text shows every digit the value has (at least the currency's decimals).

Blanks (None, NaN, NaT, "") read as `BLANK` ("—"), never "None"/"nan". Plain Python, no streamlit. The words
(statuses, column headers, Yes/No) live in figures/words.py, shared with the XLSX export, and are re-exported here.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, format_timedelta
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol

# The words (statuses, headers, Yes/No, blanks) are defined once in figures/words.py, shared with the XLSX export.
from figures.words import BLANK, is_blank, label, words, yes_no  # noqa: F401 - re-exported for the pages
from store.queries import CURRENCY_EXPONENTS

LOCALE_ENV, TIMEZONE_ENV = "OPSDASH_LOCALE", "OPSDASH_TIMEZONE"
DEFAULT_LOCALE = "en"


# ----------------------------------------------------------------------------- settings


def _setting(name: str) -> str:
    """The setting from the settings model when it has the field, else the environment."""
    try:
        from services.settings import get_settings
        value = getattr(get_settings(), name.lower(), None)
    except Exception:  # noqa: BLE001 - formatting must never fail because a settings file is broken
        value = None
    return str(value or os.environ.get(name, "") or "").strip()


@lru_cache(maxsize=8)
def _locale(name: str) -> Locale:
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def locale() -> Locale:
    return _locale(_setting(LOCALE_ENV) or DEFAULT_LOCALE)


@lru_cache(maxsize=8)
def _zone(name: str) -> tzinfo:
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return datetime.now().astimezone().tzinfo or UTC


def timezone() -> tzinfo:
    """The business time zone: OPSDASH_TIMEZONE, or the machine's own."""
    return _zone(_setting(TIMEZONE_ENV))


# ----------------------------------------------------------------------------- blanks and numbers


def _decimal(value: Any) -> Decimal | None:
    if is_blank(value) or isinstance(value, bool):
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _pattern(minimum: int, maximum: int) -> str:
    return "#,##0" + ("." + "0" * minimum + "#" * max(0, maximum - minimum) if maximum else "")


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def number(value: Any, decimals: int | None = None) -> str:
    """Grouped digits in the locale's form: 1234567 -> "1,234,567"; exact for Decimal and text."""
    exact = _decimal(value)
    if exact is None:
        return BLANK if is_blank(value) else str(value)
    if decimals is None:
        decimals = _places(exact) if not isinstance(value, float) else min(_places(exact), 2)
    return format_decimal(exact, format=_pattern(decimals, decimals), locale=locale(), decimal_quantization=True)


def percent(value: Any, decimals: int = 1) -> str:
    """A share we computed (e.g. 12.3 %), rounded to `decimals`. A vendor's tax rate is `rate`, never this."""
    exact = _decimal(value)
    return BLANK if exact is None else f"{number(exact, decimals)} %"


def rate(value: Any) -> str:
    """A tax rate as the vendor gives it, every digit kept: 8.875 -> "8.875 %" (seeds/001 line 1140), 20.0 ->
    "20.0 %" (recording validate_tax_rate__0), 21 -> "21 %". The one function for vendor rates."""
    exact = _decimal(value)
    if exact is None:
        return BLANK
    exponent = exact.as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    return f"{number(exact, places)} %"


def money_decimal(amount: Any, currency: str | None, minor: bool = False) -> Decimal | None:
    """The exact amount: integer minor units (when `minor`) scaled by the currency's exponent."""
    exact = _decimal(amount)
    if exact is None:
        return None
    if minor and isinstance(amount, int):
        return exact.scaleb(-CURRENCY_EXPONENTS.get((currency or "").upper(), 2))
    return exact


def money(amount: Any, currency: str | None, *, minor: bool = False, code: bool = True) -> str:
    """`6,272,243.68 EUR`: grouped, the currency's decimals (more if the value has them), exact.

    `minor=True` reads an int as minor units (12345 EUR -> 123.45). `code=False` leaves the code out
    (for a column whose header already names the currency)."""
    exact = money_decimal(amount, currency, minor)
    if exact is None:
        return BLANK
    digits = CURRENCY_EXPONENTS.get((currency or "").upper(), 2)
    text = format_decimal(exact, format=_pattern(digits, max(digits, _places(exact))), locale=locale(),
                          decimal_quantization=False)
    return f"{text} {currency.upper()}" if code and currency else text


def signed_money(amount: Any, currency: str | None, *, minor: bool = False) -> str:
    """`+1,234.50 EUR` / `−12.00 EUR` / `0.00 EUR` (zero carries no sign: nothing changed)."""
    exact = money_decimal(amount, currency, minor)
    if exact is None:
        return BLANK
    sign = "+" if exact > 0 else ("−" if exact < 0 else "")
    return sign + money(abs(exact), currency)


def quantity(value: Any, unit: str | None = None) -> str:
    """`1,250 kg`, `12 pieces`: grouped, with the unit the ERP gave (blank unit: the number alone)."""
    text = number(value)
    return text if text == BLANK or is_blank(unit) else f"{text} {unit}"


# ----------------------------------------------------------------------------- dates and times


def _as_datetime(value: Any) -> datetime | None:
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return None
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            return None
    if hasattr(moment, "to_pydatetime"):
        moment = moment.to_pydatetime()
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # the cache stores UTC


def local_time(value: Any) -> datetime | None:
    """A stored (UTC) timestamp in the business time zone; None when blank or unreadable."""
    moment = _as_datetime(value)
    return moment.astimezone(timezone()) if moment else None


def as_date(value: Any) -> date | None:
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return (local_time(value) or value).date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if len(text) > 10:  # a timestamp: its date where the business is
        moment = local_time(text)
        return moment.date() if moment else None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def day(value: Any) -> str:
    """A date as a date: "Nov 29, 2026" (the locale's medium form)."""
    found = as_date(value)
    if found is None:
        return BLANK if is_blank(value) else str(value)
    return format_date(found, format="medium", locale=locale())


def when(value: Any) -> str:
    """A timestamp as local date and time: "Nov 29, 2026, 10:42 AM"."""
    moment = local_time(value)
    if moment is None:
        return day(value)
    return f"{format_date(moment.date(), format='medium', locale=locale())}, {clock(moment)}"


def clock(value: Any) -> str:
    """The local time of day only: "10:42"."""
    moment = local_time(value)
    return BLANK if moment is None else format_time(moment, format="short", tzinfo=moment.tzinfo, locale=locale())


def ago(value: Any, now: datetime | None = None) -> str:
    """"3 min ago" / "in 2 hr" / "just now"."""
    moment = _as_datetime(value)
    if moment is None:
        return BLANK
    delta = moment - (now or datetime.now(UTC))
    if abs(delta) < timedelta(seconds=45):
        return "just now"
    return format_timedelta(delta, add_direction=True, format="short", locale=locale()).replace(".", "")


def when_ago(value: Any, now: datetime | None = None) -> str:
    """"Nov 29, 2026, 10:42 · 3 min ago"."""
    return BLANK if _as_datetime(value) is None else f"{when(value)} · {ago(value, now)}"


# ----------------------------------------------------------------------------- counts


def count(n: int, noun: str, plural: str | None = None) -> str:
    """"1 order", "2 orders", "1,204 orders": the number grouped, the noun agreeing (issue 21: no "1 orders")."""
    return f"{number(n)} {noun if n == 1 else plural or noun + 's'}"


def text(value: Any) -> str:
    return BLANK if is_blank(value) else str(value)


# ----------------------------------------------------------------------------- charts


def plotly_separators() -> str:
    """Plotly's `layout.separators` (decimal mark then group mark) in the locale's form."""
    return get_decimal_symbol(locale()) + get_group_symbol(locale())


def d3_money(currency: str | None = None) -> str:
    """A d3 tick/hover format with grouping and the currency's decimals (the text stays exact elsewhere)."""
    digits = CURRENCY_EXPONENTS.get((currency or "").upper(), 2)
    return f",.{digits}f"


def freshness_line(sources: Any, now: datetime | None = None) -> str:
    """One line for a page head: "Data as of 10:42 · 3 min ago · all sources fresh" or what is wrong.

    `sources`: `figures.freshness.Freshness` items (label, state, last_success_at, sentence)."""
    synced = [s for s in sources if s.last_success_at]
    problems = [s for s in sources if s.state in ("stale", "failing", "interrupted")]
    oldest = min((s.last_success_at for s in synced), default=None)
    head = f"Data as of {clock(oldest)} · {ago(oldest, now)}" if oldest else "No data synced yet"
    if problems:
        return head + " · " + "; ".join(f"{s.label} {s.state}" for s in problems)
    configured = [s for s in sources if s.state != "not configured"]
    if configured and all(s.state == "ok" for s in configured):
        return head + " · all sources fresh"
    waiting = [s.label for s in configured if s.state == "never synced"]
    return head + (f" · waiting for the first sync of {', '.join(waiting)}" if waiting else "")
