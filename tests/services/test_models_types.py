"""Tolerance tables for the shared field types (services/types.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from services.types import (
    DecimalAmount,
    FlexibleDate,
    FlexibleDatetime,
    MinorUnits,
    Money,
    OptDatetime,
    YNBool,
    currency_exponent,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.50", Decimal("12.50")),
        ("6000.0", Decimal("6000.0")),
        (1250, Decimal(1250)),
        (Decimal("0.1"), Decimal("0.1")),
        (8.875, Decimal("8.875")),  # JSON float: the literal, not 8.87499999...
        (0.1, Decimal("0.1")),
        (" 3 ", Decimal(3)),
        ("0", Decimal(0)),
    ],
)
def test_decimal_amount_is_exact(raw: Any, expected: Decimal) -> None:
    value = TypeAdapter(DecimalAmount).validate_python(raw)
    assert value == expected and isinstance(value, Decimal)
    assert str(value) == str(expected)


@pytest.mark.parametrize("raw", ["12,50", "abc", "", True, float("nan"), "Infinity", None])
def test_decimal_amount_rejects_non_numbers(raw: Any) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(DecimalAmount).validate_python(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(0, 0), ("0", 0), (250741, 250741), ("250741", 250741), ("6000.0", 6000), (6000.0, 6000), ("-5", -5)],
)
def test_minor_units_accept_integral_values(raw: Any, expected: int) -> None:
    assert TypeAdapter(MinorUnits).validate_python(raw) == expected


@pytest.mark.parametrize("raw", ["12.5", 12.5, "x", True])
def test_minor_units_reject_fractions_with_a_clear_message(raw: Any) -> None:
    with pytest.raises(ValidationError, match="not an integer"):
        TypeAdapter(MinorUnits).validate_python(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Y", True),
        ("N", False),
        ("y", True),
        ("true", True),
        ("False", False),
        (1, True),
        (0, False),
        (True, True),
        ("1", True),
        ("0", False),
    ],
)
def test_yn_bool(raw: Any, expected: bool) -> None:
    assert TypeAdapter(YNBool).validate_python(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", 2, ""])
def test_yn_bool_refuses_to_guess(raw: Any) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(YNBool).validate_python(raw)


NOON = datetime(2024, 11, 17, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1731844800, NOON),  # epoch seconds
        (1731844800000, NOON),  # epoch milliseconds
        ("1731844800", NOON),
        ("2024-11-17T12:00:00Z", NOON),
        ("2024-11-17T12:00:00+00:00", NOON),
        ("2024-11-17T13:00:00+01:00", NOON),
        ("2024-11-17T12:00:00", NOON),  # naive means UTC
        ("2024-11-17 12:00:00", NOON),
        ("2024-11-17", datetime(2024, 11, 17, tzinfo=UTC)),  # date only: midnight UTC
    ],
)
def test_flexible_datetime(raw: Any, expected: datetime) -> None:
    value = TypeAdapter(FlexibleDatetime).validate_python(raw)
    assert value == expected
    assert value.tzinfo is not None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-12-19", date(2024, 12, 19)),
        ("2024-12-19T23:00:00Z", date(2024, 12, 19)),
        (1734566400, date(2024, 12, 19)),
    ],
)
def test_flexible_date(raw: Any, expected: date) -> None:
    assert TypeAdapter(FlexibleDate).validate_python(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_optional_datetime_blank_is_none(raw: Any) -> None:
    assert TypeAdapter(OptDatetime).validate_python(raw) is None


def test_flexible_datetime_rejects_garbage() -> None:
    with pytest.raises(ValidationError, match="not an ISO date or time"):
        TypeAdapter(FlexibleDatetime).validate_python("17/11/2024 noon")


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.50", "eur", 1250),
        ("1200", "JPY", 1200),
        ("1.234", "KWD", 1234),
        (Decimal("0.01"), "USD", 1),
        (19, "usd", 1900),
    ],
)
def test_money_from_decimal_uses_the_currency_exponent(amount: Any, currency: str, minor: int) -> None:
    money = Money.from_decimal(amount, currency)
    assert money.amount_minor == minor
    assert money.currency == currency.upper()


def test_money_refuses_to_round() -> None:
    with pytest.raises(ValueError, match="more than 0 decimal places"):
        Money.from_decimal("10.5", "JPY")


def test_money_amount_and_str_are_exact() -> None:
    assert Money(amount_minor=250741, currency="EUR").amount == Decimal("2507.41")
    assert str(Money(amount_minor=5, currency="KWD")) == "0.005 KWD"
    assert currency_exponent("jpy") == 0


@pytest.mark.parametrize("currency", ["EU", "EURO", "E1R"])
def test_money_rejects_bad_currency(currency: str) -> None:
    with pytest.raises(ValidationError):
        Money(amount_minor=1, currency=currency)
