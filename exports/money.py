"""Which columns are money and their exact value, for every export format (ARCHITECTURE.md, "money exact").

Money columns hold integer minor units next to a `currency` column; `money_value` gives the exact major-unit
`Decimal` (decimal text, as the outstanding lists carry, is taken as it is). Never a float.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from store.queries import minor_to_decimal

# Integer minor-unit columns; they count as money only in a row that also has `currency`.
MONEY_NAMES = frozenset({"amount_due", "total_amount", "total_tax_amount", "paid_amount", "balance",
                         "remains_to_be_paid", "amount", "tax_amount", "total"})


def money_columns(columns: Sequence[str]) -> tuple[str, ...]:
    """The money columns of a row schema: known minor-unit names next to a `currency` column."""
    if "currency" not in columns:
        return ()
    return tuple(c for c in columns if c in MONEY_NAMES)


def money_value(amount: Any, currency: str | None) -> Decimal | None:
    """Exact major-unit amount: minor-unit ints are scaled; decimal text is taken as it is."""
    if amount is None or amount == "":
        return None
    if isinstance(amount, int):
        return minor_to_decimal(amount, currency or "")
    return Decimal(str(amount))
