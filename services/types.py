"""Tolerant field types shared by every vendor model.

Vendors disagree with themselves: Quaderno sends ``"6000.0"`` next to ``6000`` for cents, Upwell sends
``total_tax_amount`` as ``0`` in one image and ``"0"`` in the other, Qasida writes booleans as ``"Y"``/``"N"``
and dates without a time zone. These Annotated types absorb that once, so the models read like the docs.

Money rules (the project's rule: exact, never float):

* ``DecimalAmount`` turns ints, Decimals and decimal strings into ``Decimal`` exactly. A JSON number with a
  fraction arrives as a Python float (``8.875``); it is converted through ``repr``, which Python guarantees to be
  the shortest string that round-trips, i.e. the literal the vendor wrote (for up to 15 significant digits).
  We never do arithmetic on the float itself. NaN and infinities are rejected.
* ``MinorUnits`` is an integer amount in the currency's minor unit (cents). ``"6000.0"`` and ``6000.0`` are
  accepted because they are integral; ``"12.5"`` is rejected with "not an integer".
* ``Money`` is the value object: integer minor units plus an ISO 4217 currency; ``Money.from_decimal`` converts
  a major-unit amount with the currency's exponent (JPY 0, KWD 3, most 2) and refuses to round.

Bounds (issue 22): every number and timestamp from outside goes through ``to_decimal`` / ``to_integer`` /
``to_datetime`` here, and each bounds the work before doing any: text longer than ``MAX_NUMBER_TEXT``
characters is refused unread; a number may have at most ``MAX_DIGITS`` significant digits, at most
``MAX_SCALE`` decimal places and a magnitude below 10^``MAX_MAGNITUDE`` (so ``"1e999999"`` is refused from its
exponent, never expanded into a million digits); an integer must fit SQLite's 64-bit INTEGER. A moment must lie
between ``MIN_MOMENT`` and ``MAX_MOMENT`` once converted to UTC (one day inside Python's datetime range, so
it can be shown in any time zone), and an epoch is checked against the same range before conversion.

Time rules: ``FlexibleDatetime`` accepts epoch seconds or milliseconds, ISO 8601 with or without a zone, and a
bare date. A timestamp without a zone is taken as UTC: Upwell's envelope (seeds/002 line 6) and Qasida's dates
(seeds/003) carry no offset, both vendors run their servers in UTC, and a local-time guess would depend on the
machine that parses the payload. Every datetime these types return is timezone-aware.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

# Epoch values above this are milliseconds: 1e11 seconds is the year 5138, 1e11 ms is 1973.
_EPOCH_MS_THRESHOLD = 100_000_000_000

# Bounds on every number and timestamp (module docstring, "Bounds").
MAX_NUMBER_TEXT = 64  # characters of a number or timestamp written as text
MAX_DIGITS = 34  # significant digits (IEEE decimal128 holds 34)
MAX_SCALE = 18  # digits after the decimal point
MAX_MAGNITUDE = 19  # |value| < 10^19: any SQLite INTEGER (|x| < 9.3e18) fits, and nothing much larger
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # SQLite INTEGER
MIN_MOMENT = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
MAX_MOMENT = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
_MIN_EPOCH = Decimal((MIN_MOMENT - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1))
_MAX_EPOCH = Decimal((MAX_MOMENT - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1))

_TRUE_WORDS = {"y", "yes", "true", "t", "1", "a", "ano"}
_FALSE_WORDS = {"n", "no", "false", "f", "0", "ne"}

# ISO 4217 minor-unit exponents that differ from the usual 2.
_ZERO_DECIMALS = ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW")
_ZERO_DECIMALS_2 = ("PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF")
_THREE_DECIMALS = ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")
_CURRENCY_EXPONENTS = {
    **dict.fromkeys(_ZERO_DECIMALS + _ZERO_DECIMALS_2, 0),
    **dict.fromkeys(_THREE_DECIMALS, 3),
}


class VendorModel(BaseModel):
    """Base of every vendor model: unknown fields are ignored, fields accept their vendor name or ours."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def to_decimal(value: Any) -> Decimal:
    """Parse a vendor amount into an exact Decimal (see the module docstring for floats)."""
    if isinstance(value, Decimal):  # the common case first (Qasida's bodies are read with parse_float=Decimal)
        if not value.is_finite():
            raise _fail("decimal_type", "not a finite number")
        return bounded(value)  # a JSON 1e999999 read as a Decimal is as dangerous as the text
    if isinstance(value, bool):
        raise _fail("decimal_type", "not a number: got a boolean")
    if isinstance(value, int):
        return bounded(Decimal(_int64(value)))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _fail("decimal_type", "not a finite number")
        return bounded(Decimal(repr(value)))
    if isinstance(value, str):
        return _decimal_from_text(value)
    raise _fail("decimal_type", "not a number")


def _decimal_from_text(text: str) -> Decimal:
    cleaned = text.strip()
    if len(cleaned) > MAX_NUMBER_TEXT:
        raise _fail("number_range", f"out of range: a number of {len(cleaned)} characters "
                                    f"(at most {MAX_NUMBER_TEXT})")
    try:
        parsed = Decimal(cleaned)
    except InvalidOperation:
        raise _fail("decimal_parsing", "not a decimal number") from None
    if not parsed.is_finite():
        raise _fail("decimal_parsing", "not a finite number")
    return bounded(parsed, cleaned)


def bounded(number: Decimal, text: str | None = None) -> Decimal:
    """`number` when it is within the bounds of the module docstring, else a "number_range" error.

    Reads only the digit tuple and the exponent: no arithmetic, so ``1e999999`` costs what ``1`` costs."""
    _sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int), "callers pass finite numbers"
    shown = _shown(text if text is not None else str(number))
    if number.is_zero():
        return Decimal(0) if exponent > 0 or exponent < -MAX_SCALE else number  # 0e999999 is just 0
    if len(digits) > MAX_DIGITS:
        raise _fail("number_range", f"{shown} has {len(digits)} significant digits; at most {MAX_DIGITS}")
    if exponent < -MAX_SCALE:
        raise _fail("number_range", f"{shown} has more than {MAX_SCALE} decimal places")
    if number.adjusted() >= MAX_MAGNITUDE:
        raise _fail("number_range", f"{shown} is out of range (at most {MAX_MAGNITUDE} digits before the "
                                    "decimal point)")
    return number


def _shown(text: str) -> str:
    """A number quoted in a message, cut to 24 characters (a 100,000-digit value is not echoed back)."""
    return repr(text if len(text) <= 24 else text[:21] + "...")


def _int64(value: int) -> int:
    if not INT_MIN <= value <= INT_MAX:
        digits = len(str(abs(value))) if value.bit_length() < 4000 else "thousands of"
        raise _fail("number_range", f"an integer of {digits} digits is out of range (-2^63 to 2^63-1)")
    return value


def to_integer(value: Any) -> int:
    """Parse an integral amount: ``250741``, ``"0"``, ``"6000.0"``; refuse fractions."""
    if type(value) is int:  # ids and counts sent as JSON integers: already what the Decimal round trip gives
        return _int64(value)
    try:
        number = to_decimal(value)
    except PydanticCustomError as exc:
        if exc.type == "number_range":
            raise
        raise _fail("not_integer", "not an integer") from None
    if number != number.to_integral_value():
        raise _fail("not_integer", "not an integer")
    return _int64(int(number))  # bounded: at most 19 digits


def to_bool(value: Any) -> bool:
    """Y/N, true/false, 1/0 and real booleans; anything else is an error, not a guess."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise _fail("bool_parsing", "not a yes/no value")


def to_datetime(value: Any) -> datetime:
    """Epoch s/ms, ISO with or without zone, or a bare date, returned timezone-aware (naive = UTC)."""
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        return _aware(datetime(value.year, value.month, value.day))
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _from_epoch(value)
    if isinstance(value, str):
        return _datetime_from_text(value.strip())
    raise _fail("datetime_type", "not a date or time")


def _datetime_from_text(text: str) -> datetime:
    if len(text) > MAX_NUMBER_TEXT:
        raise _fail("datetime_parsing", f"not a date or time: {len(text)} characters, at most {MAX_NUMBER_TEXT}")
    if text.lstrip("-").replace(".", "", 1).isdigit():
        return _from_epoch(text)
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise _fail("datetime_parsing", "not an ISO date or time") from None
    return _aware(moment)


def _from_epoch(value: Any) -> datetime:
    """Epoch seconds or milliseconds, range-checked as a Decimal before any float or datetime sees it."""
    try:
        number = to_decimal(value)
    except PydanticCustomError:
        raise _fail("datetime_range", f"epoch {_shown(str(value))} is out of range") from None
    seconds = number / 1000 if abs(number) >= _EPOCH_MS_THRESHOLD else number
    if not _MIN_EPOCH <= seconds <= _MAX_EPOCH:
        raise _fail("datetime_range", f"epoch {_shown(str(value))} is out of range "
                                      f"({MIN_MOMENT.date()} to {MAX_MOMENT.date()})")
    return datetime.fromtimestamp(float(seconds), tz=UTC)


def _aware(moment: datetime) -> datetime:
    """The moment with a zone (naive = UTC), checked to lie between MIN_MOMENT and MAX_MOMENT in UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    try:
        in_utc = aware.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is in the year 0 in UTC
        in_utc = None
    if in_utc is None or not MIN_MOMENT <= in_utc <= MAX_MOMENT:
        raise _fail("datetime_range", f"{aware.isoformat()} is out of range once converted to UTC "
                                      f"({MIN_MOMENT.date()} to {MAX_MOMENT.date()})")
    return aware


def to_date(value: Any) -> date:
    """A calendar date from a date, an ISO date or datetime string, or an epoch (the UTC day)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise _fail("date_parsing", "not an ISO date") from None
    return to_datetime(value).date()


def to_date_or_datetime(value: Any) -> date | datetime:
    """A bare calendar date (YYYY-MM-DD) stays a date; anything with a time of day is an aware datetime, whose
    date the cache decides in the business zone (store/calendar.py `business_date`), never here as UTC."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        return to_date(value)
    return to_datetime(value)


def _blank_to_none(parse: Any) -> Any:
    """Wrap a parser so that None and empty strings mean "no value" (Qasida sends "" for unset dates)."""

    def parse_optional(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return parse(value)

    return parse_optional


def _text(value: Any) -> Any:
    """Ids and numbers sent as JSON numbers become text (Upwell's invoice_number is "1027", could be 1027)."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    return value


DecimalAmount = Annotated[Decimal, BeforeValidator(to_decimal)]
OptDecimal = Annotated[Decimal | None, BeforeValidator(_blank_to_none(to_decimal))]
MinorUnits = Annotated[int, BeforeValidator(to_integer)]
OptMinorUnits = Annotated[int | None, BeforeValidator(_blank_to_none(to_integer))]
IntLike = MinorUnits  # same parsing for counts and ids sent as "42"
OptInt = OptMinorUnits
YNBool = Annotated[bool, BeforeValidator(to_bool)]
OptBool = Annotated[bool | None, BeforeValidator(_blank_to_none(to_bool))]
FlexibleDatetime = Annotated[datetime, BeforeValidator(to_datetime)]
OptDatetime = Annotated[datetime | None, BeforeValidator(_blank_to_none(to_datetime))]
FlexibleDate = Annotated[date, BeforeValidator(to_date)]
OptDate = Annotated[date | None, BeforeValidator(_blank_to_none(to_date))]
# A field documented as a date whose format the document leaves open: a timestamp keeps its time of day.
OptDateOrTime = Annotated[datetime | date | None, BeforeValidator(_blank_to_none(to_date_or_datetime))]
Text = Annotated[str, BeforeValidator(_text)]
OptText = Annotated[str | None, BeforeValidator(_text)]


def lenient(enum: type[StrEnum]) -> Any:
    """A field that holds a known enum member, or the raw string when the vendor adds a new value.

    Unknown values are data, not errors (vendor-specs/README: Qargo statuses). StrEnum members compare equal
    to their strings, so callers can write ``status == "COMPLETED"`` either way.
    """
    return Annotated[enum | str, Field(union_mode="left_to_right")]


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point in the currency's minor unit (ISO 4217)."""
    return _CURRENCY_EXPONENTS.get(currency.upper(), 2)


class Money(VendorModel):
    """An exact amount: integer minor units plus an ISO 4217 currency code."""

    model_config = ConfigDict(frozen=True)

    amount_minor: MinorUnits
    currency: str = Field(min_length=3, max_length=3)

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("currency")
    @classmethod
    def _letters(cls, value: str) -> str:
        if not value.isalpha():
            raise ValueError("currency must be a 3-letter ISO 4217 code")
        return value

    @classmethod
    def from_decimal(cls, amount: Any, currency: str) -> Money:
        """Major units (``"12.50"`` EUR) to minor units (1250); refuses to round away a fraction of a cent."""
        exponent = currency_exponent(currency)
        minor = to_decimal(amount).scaleb(exponent)
        if minor != minor.to_integral_value():
            raise ValueError(f"{amount} {currency.upper()} has more than {exponent} decimal places")
        return cls(amount_minor=int(minor), currency=currency)

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exact (1250 EUR cents -> Decimal("12.50"))."""
        exponent = currency_exponent(self.currency)
        return Decimal(self.amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
