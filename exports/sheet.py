"""The XLSX sheet of an export, for people: the screen's words and order, real numbers and dates.

Written through the streaming writer exports/xlsx.py a batch at a time. Money: the number cell is written as the
exact decimal text, but Excel reads it into a double, exact only up to ~15 significant digits. We choose exact
over pretty: the number cell (formatted with the currency's decimals) is what people sum, and a
"<label> (minor units)" integer column right after it carries the exact value (as text past 2**53). Text a
spreadsheet would run as a formula gets a `'` prefix (`figures.cells.neutralise`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

from exports.money import money_columns, money_value
from exports.xlsx import Number, XlsxWriter
from figures import words
from figures.cells import neutralise
from store.calendar import zone
from store.queries import CURRENCY_EXPONENTS, Row

_EXACT_DOUBLE = 2**53


class SheetWriter:
    """A sheet for people (issue 21: "XLSX speaks like the screen"), streamed by `exports.xlsx` a batch at a time.

    The words are the screen's (figures/words.py): headers are the screen's labels ("Amount due", "Planned
    delivery"), columns in the screen's order (the three most useful first; the technical ids the screen hides
    last), flags read Yes/No, statuses and codes
    as words ("Requested", not REQUESTED), vendors by name. Money is a number cell with the currency's decimals,
    the currency column kept, and its exact minor units beside it; dates and times are real date cells (times in
    the business time zone). CSV, Parquet and JSON keep the machine names and raw values."""

    def __init__(self, columns: tuple[str, ...], out: BinaryIO) -> None:
        shown = words.ordered(columns)  # the screen's order; the ids it hides go last, kept for matching
        self._columns = (*(c for c in shown if c not in words.HIDDEN), *(c for c in shown if c in words.HIDDEN))
        self._money = money_columns(columns)
        # the header frozen, filtered and sized for a person scrolling the sheet (exports/xlsx.py)
        self._xlsx = XlsxWriter(out, header=[name for c in self._columns for name in self._names(c)])
        self._styles: dict[str, int] = {}  # currency -> style of its money number format
        self._kinds = {c: words.kind(c) for c in self._columns}
        self._date_style = self._xlsx.style("yyyy-mm-dd")
        self._time_style = self._xlsx.style("yyyy-mm-dd hh:mm")
        self._zone = _business_zone()

    def _names(self, column: str) -> tuple[str, ...]:
        name = words.label(column)
        return (name, f"{name} (minor units)") if column in self._money else (name,)

    def write(self, rows: list[Row]) -> None:
        self._xlsx.write_rows([cell for c in self._columns for cell in self._cells(row, c)]
                              for row in rows)

    def _cells(self, row: Row, column: str) -> tuple[Any, ...]:
        value = row[column]
        if column in self._money:
            amount = money_value(value, row["currency"])
            return (self._number_cell(amount, row["currency"]), _exact_minor(value, row["currency"]))
        if value is None or value == "":
            return (None,)
        return (self._person_cell(self._kinds[column], value),)

    def _person_cell(self, kind: str, value: Any) -> Any:
        if kind == "flag" and value in words.FLAG_VALUES:
            return words.yes_no(value)
        if kind == "words" and isinstance(value, str):
            return neutralise(words.words(value))
        if kind == "vendor":
            return words.vendor_name(value)
        if kind == "date":
            day = _as_date(value)
            return Number(_serial(datetime.combine(day, time())), self._date_style) if day else neutralise(value)
        if kind == "time":
            moment = _as_moment(value, self._zone)
            return Number(_serial(moment), self._time_style) if moment else neutralise(value)
        return neutralise(value)

    def _number_cell(self, amount: Decimal | None, currency: str | None) -> Number | None:
        if amount is None:
            return None
        code = (currency or "").upper()
        if code not in self._styles:
            decimals = CURRENCY_EXPONENTS.get(code, 2)
            self._styles[code] = self._xlsx.style("#,##0" + ("." + "0" * decimals if decimals else ""))
        return Number(amount, self._styles[code])

    def close(self) -> None:
        self._xlsx.close()


_EPOCH = datetime(1899, 12, 30)  # day 0 of a spreadsheet's dates (the 1900 date system, ECMA-376 18.17.4.1)


def _serial(moment: datetime) -> Decimal:
    """A naive local date-time as a spreadsheet date number: whole days since 1899-12-30 plus the day's fraction
    (to the second, exact text: no float)."""
    delta = moment - _EPOCH
    seconds = delta.seconds
    return Decimal(delta.days) + (Decimal(seconds) / 86400).quantize(Decimal("1e-10")) if seconds \
        else Decimal(delta.days)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _as_moment(value: Any, zone: tzinfo) -> datetime | None:
    """A stored timestamp (UTC when it names no zone: the cache stores UTC) as naive time in the business zone."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _business_zone() -> tzinfo:
    """The business time zone (store/calendar.py); UTC when the setting names none we know."""
    try:
        return zone()
    except ValueError:
        return UTC


def _exact_minor(value: Any, currency: str | None = None) -> int | str | None:
    """Minor units as a number while a double holds them exactly (Excel and openpyxl store
    numbers as doubles), as text beyond 2**53 so the value is never rounded. Decimal text (the
    outstanding lists' `amount_due`) counts when it is a whole number of minor units."""
    if isinstance(value, str) and value:
        try:
            scaled = Decimal(value).scaleb(CURRENCY_EXPONENTS.get((currency or "").upper(), 2))
        except InvalidOperation:
            return None
        value = int(scaled) if scaled.is_finite() and scaled == scaled.to_integral_value() else None
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if abs(value) < _EXACT_DOUBLE else str(value)
