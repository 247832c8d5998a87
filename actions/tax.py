"""One tax calculation through Quaderno (`GET /tax_rates/calculate`, seeds/001 lines 1120-1160), stored.

Amounts are exact: the request amount is a Decimal sent as text, the stored amounts are integer minor units
of the currency (`tax_calculations.amount`, `.tax_amount`), the rate is decimal text. The reason in words
comes from the answer's status (taxable, non_taxable, not_registered, reverse_charge) or older versions'
`notice`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from actions.countries import is_country
from actions.roles import Actor, require
from cache import audit
from cache.db import iso, transaction, utcnow
from services.clients import make_client
from services.core import VendorClient
from services.quaderno.resources import calculate_tax
from services.settings import Settings, get_settings
from services.types import Money

TAX_CODES = ("consulting", "eservice", "ebook", "saas", "standard", "reduced", "exempt")  # seeds/001 l.1130


@dataclass(frozen=True)
class TaxParams:
    to_country: str
    amount: Decimal
    currency: str
    to_postal_code: str | None = None
    from_country: str | None = None  # Quaderno defaults to the account's country
    tax_code: str = "standard"
    on: date | None = None
    tax_id: str | None = None  # the customer's: a valid EU VAT number across borders means reverse charge
    tax_behavior: str = "exclusive"

    def problems(self) -> list[str]:
        """Everything wrong with the input, checked before any call."""
        found = [f"{name} {code!r} is not an ISO 3166 country code"
                 for name, code in (("to_country", self.to_country), ("from_country", self.from_country))
                 if code is not None and not is_country(code)]
        if self.tax_code not in TAX_CODES:
            found.append(f"tax_code must be one of {', '.join(TAX_CODES)}")
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite() or self.amount < 0:
            found.append("amount must be a Decimal of 0 or more")
        return found

    def query(self) -> dict[str, Any]:
        return {"to_country": self.to_country.upper(), "to_postal_code": self.to_postal_code,
                "from_country": self.from_country.upper() if self.from_country else None,
                "tax_code": self.tax_code, "amount": str(self.amount), "currency": self.currency.upper(),
                "date": self.on.isoformat() if self.on else None, "tax_id": self.tax_id,
                "tax_behavior": self.tax_behavior}


@dataclass(frozen=True)
class TaxResult:
    id: int
    rate: Decimal | None
    subtotal: Money
    tax: Money
    total: Money
    tax_name: str | None
    status: str | None
    reason: str


def calculate(db: Database, actor: Actor, params: TaxParams, *, settings: Settings | None = None,
              client: VendorClient | None = None) -> TaxResult:
    """Ask Quaderno, store the answer in `tax_calculations`, audit it; `ValueError` for bad input."""
    require(actor, "operator", "calculating tax")
    problems = params.problems()
    if problems:
        raise ValueError("; ".join(problems))
    Money.from_decimal(params.amount, params.currency)  # refuses fractions of a cent before the call
    own = client is None
    client = client or make_client(settings or get_settings(), "quaderno")
    try:
        answer = calculate_tax(client, **params.query())
    finally:
        if own:
            client.close()
    return _store(db, actor, params, answer)


def _store(db: Database, actor: Actor, params: TaxParams, answer: Any) -> TaxResult:
    currency = (answer.currency or params.currency).upper()
    subtotal = _money(answer.subtotal if answer.subtotal is not None else params.amount, currency)
    tax = _money(answer.tax_amount or Decimal(0), currency)
    total = _money(answer.total_amount, currency) if answer.total_amount is not None else _sum(subtotal, tax)
    status = str(answer.status) if answer.status is not None else None
    raw = answer.model_dump(mode="json", by_alias=True, exclude_none=True)
    with transaction(db):
        cursor = db.conn.execute(
            "INSERT INTO tax_calculations (calculated_at, requested_by, from_country, to_country, to_postal_code, "
            "tax_code, transaction_type, currency, amount, rate, tax_amount, tax_name, status, notice, raw) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [iso(utcnow()), actor.name, params.from_country, params.to_country.upper(), params.to_postal_code,
             params.tax_code, params.tax_behavior, currency, subtotal.amount_minor,
             None if answer.rate is None else str(answer.rate), tax.amount_minor, answer.name, status,
             answer.reason, json.dumps(raw, sort_keys=True)])
        row_id = int(cursor.lastrowid or 0)
        audit.record(db, actor.name, "quaderno.calculate_tax", f"{params.to_country.upper()} {params.tax_code}",
                     params.query(), f"{status}: {answer.rate}% tax {tax.amount} {currency}",
                     f"tax_calculations {row_id}")
    return TaxResult(row_id, answer.rate, subtotal, tax, total, answer.name, status, answer.reason)


def _money(amount: Decimal, currency: str) -> Money:
    return Money.from_decimal(amount, currency)


def _sum(a: Money, b: Money) -> Money:
    return Money(amount_minor=a.amount_minor + b.amount_minor, currency=a.currency)
