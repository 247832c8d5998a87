"""One tax calculation through Quaderno (`GET /tax_rates/calculate`, seeds/001 lines 1120-1160), stored.

Amounts are exact: the request amount is a Decimal sent as text, the stored amounts are integer minor units
of the currency (`tax_calculations.amount`, `.tax_amount`), the rate is decimal text as Quaderno sent it. The
reason in words comes from the answer's status (taxable, non_taxable, not_registered, reverse_charge) or older
versions' `notice`.

An answer that collects tax but carries no `tax_amount` (the recorded `validate_tax_rate__0`: taxable, rate
20.0, tax_amount null) is never stored as 0: opsdash computes it (`TaxCalculation.computed_tax_minor`) and
marks the row `tax_amount_computed = 1` ("computed by opsdash"); without a rate it stays NULL (unknown).
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
from services.clients import make_client
from services.core import ValidationError, VendorClient, VendorError
from services.quaderno.models import ErrorBody, TaxCalculation
from services.quaderno.resources import calculate_tax
from services.settings import Settings, get_settings
from services.types import Money
from store import audit, config_errors
from store.changes import note_write
from store.db import iso, transaction, utcnow

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
    tax: Money | None  # None: unknown (a taxable answer without tax_amount nor rate)
    total: Money | None
    tax_name: str | None
    status: str | None
    reason: str
    tax_computed: bool = False  # True: Quaderno sent no tax_amount; opsdash computed it

    @property
    def tax_note(self) -> str:
        return COMPUTED_NOTE if self.tax_computed else ""


COMPUTED_NOTE = "computed by opsdash"


@dataclass(frozen=True)
class _Amounts:
    subtotal: Money
    tax: Money | None
    total: Money | None
    computed: bool


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
    except VendorError as exc:
        raise _classified(db, exc) from exc
    finally:
        if own:
            client.close()
    config_errors.clear(db, "quaderno")
    return _store(db, actor, params, answer)


def _classified(db: Database, exc: VendorError) -> VendorError:
    """Issue 18 point 9: 401/403 a configuration error (recorded for the Vendors page, raised as is); 400/422
    Quaderno's refusal with its message; anything else (5xx, timeout, connection) "unavailable"."""
    if config_errors.is_config_error(exc):
        config_errors.record(db, "quaderno", exc, "calculating tax")
        return exc
    if isinstance(exc, ValidationError):
        words = ErrorBody.from_text(exc.body).message
        return type(exc)(f"Quaderno refused the calculation: {words}", vendor=exc.vendor, status=exc.status,
                         request_id=exc.request_id, body=exc.body)
    return type(exc)(f"Quaderno is unavailable ({exc}): nothing was stored; try again later", vendor=exc.vendor,
                     status=exc.status, request_id=exc.request_id, body=exc.body)



def _store(db: Database, actor: Actor, params: TaxParams, answer: TaxCalculation) -> TaxResult:
    currency = (answer.currency or params.currency).upper()
    money = amounts(answer, params.amount, currency)
    status = str(answer.status) if answer.status is not None else None
    raw = answer.model_dump(mode="json", by_alias=True, exclude_none=True)
    tax_minor = money.tax.amount_minor if money.tax is not None else None
    with transaction(db):
        note_write(db, "tax_calculations")
        cursor = db.conn.execute(
            "INSERT INTO tax_calculations (calculated_at, requested_by, from_country, to_country, to_postal_code, "
            "tax_code, transaction_type, currency, amount, rate, tax_amount, tax_amount_computed, tax_name, status, "
            "notice, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [iso(utcnow()), actor.name, params.from_country, params.to_country.upper(), params.to_postal_code,
             params.tax_code, params.tax_behavior, currency, money.subtotal.amount_minor,
             None if answer.rate is None else str(answer.rate), tax_minor, int(money.computed), answer.name,
             status, answer.reason, json.dumps(raw, sort_keys=True)])
        row_id = int(cursor.lastrowid or 0)
        note = f" ({COMPUTED_NOTE})" if money.computed else ""
        shown = "unknown" if money.tax is None else f"{money.tax.amount}{note}"
        audit.record(db, actor.name, "quaderno.calculate_tax", f"{params.to_country.upper()} {params.tax_code}",
                     params.query(), f"{status}: {answer.rate}% tax {shown} {currency}",
                     f"tax_calculations {row_id}")
    return TaxResult(row_id, answer.rate, money.subtotal, money.tax, money.total, answer.name, status,
                     answer.reason, money.computed)


def amounts(answer: TaxCalculation, amount: Decimal, currency: str) -> _Amounts:
    """Subtotal, tax and total of an answer. Quaderno's own `tax_amount` when sent; none sent: 0 when the
    status collects no tax, else computed (`computed_tax_minor`) and flagged, or unknown without a rate."""
    computed = answer.tax_amount is None and answer.collects_tax
    if answer.tax_amount is not None:
        tax: Money | None = _money(answer.tax_amount, currency)
    elif not answer.collects_tax:
        tax = Money(amount_minor=0, currency=currency)
    else:
        minor = answer.computed_tax_minor(amount, currency)
        tax = None if minor is None else Money(amount_minor=minor, currency=currency)
    inclusive = (answer.tax_behavior or "").lower() == "inclusive"
    if answer.subtotal is not None:
        subtotal = _money(answer.subtotal, currency)
    elif inclusive and tax is not None:
        subtotal = Money(amount_minor=_money(amount, currency).amount_minor - tax.amount_minor, currency=currency)
    else:
        subtotal = _money(amount, currency)
    if answer.total_amount is not None:
        total: Money | None = _money(answer.total_amount, currency)
    else:
        total = None if tax is None else _sum(subtotal, tax)
    return _Amounts(subtotal, tax, total, computed and tax is not None)


def _money(amount: Decimal, currency: str) -> Money:
    return Money.from_decimal(amount, currency)


def _sum(a: Money, b: Money) -> Money:
    return Money(amount_minor=a.amount_minor + b.amount_minor, currency=a.currency)
