"""Typed shapes of the Quaderno API, as the recorded responses show them (vendor-specs/quaderno/extracted).

Quaderno's money comes in two spellings: ``*_cents`` integers (``"total_cents": 6000``) and cents written as
decimal strings (``"subtotal_cents": "6000.0"``), plus major-unit numbers on newer documents
(``"unit_price": 19.0``). Models keep the ``*_cents`` fields as integer minor units and prefer them; rates are
exact ``Decimal`` percentages. Timestamps such as ``created_at`` are epoch seconds.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from pydantic import Field

from services.types import (
    IntLike,
    Money,
    OptBool,
    OptDate,
    OptDatetime,
    OptDecimal,
    OptInt,
    OptMinorUnits,
    OptText,
    Text,
    VendorModel,
    currency_exponent,
    lenient,
)


class TaxStatus(StrEnum):
    """Why a rate applies or not (seeds/001 lines 160-167, API version 20220325)."""

    TAXABLE = "taxable"
    NON_TAXABLE = "non_taxable"
    NOT_REGISTERED = "not_registered"
    REVERSE_CHARGE = "reverse_charge"


_TAX_REASONS = {
    TaxStatus.TAXABLE: "the transaction is taxable: tax is collected at the rate shown",
    TaxStatus.NON_TAXABLE: "no tax applies: the product is not taxable there or the territory is exempted",
    TaxStatus.NOT_REGISTERED: "no tax is collected because the account is not registered in that jurisdiction",
    TaxStatus.REVERSE_CHARGE: "no tax is collected: reverse charge, the customer accounts for the tax",
}


class InvoiceState(StrEnum):
    """Document states (seeds/001 line 1491); other values are kept as text."""

    OUTSTANDING = "outstanding"
    LATE = "late"
    UNCOLLECTIBLE = "uncollectible"
    PAID = "paid"
    REFUNDED = "refunded"
    ARCHIVED = "archived"


HUNDRED = Decimal(100)
TAX_ROUNDING = ROUND_HALF_UP  # seeds/001 is silent on rounding: our reading (docs/vendor-readings.md)


class TaxCalculation(VendorModel):
    """``GET /tax_rates/calculate`` (seeds/001 lines 1120-1160; recording validate_tax_rate__0)."""

    status: lenient(TaxStatus) | None = None  # type: ignore[valid-type]
    name: OptText = None
    rate: OptDecimal = None
    country: OptText = None
    region: OptText = None
    county: OptText = None
    city: OptText = None
    currency: OptText = None
    tax_code: OptText = None
    tax_behavior: OptText = None
    product_type: OptText = None
    taxable_part: OptDecimal = None
    is_import: OptBool = Field(default=None, alias="import")
    subtotal: OptDecimal = None
    tax_amount: OptDecimal = None
    total_amount: OptDecimal = None
    notes: OptText = None
    notice: OptText = None  # older API versions explain the outcome here instead of ``status``

    @property
    def collects_tax(self) -> bool:
        """False when the status says no tax is collected (non_taxable, not_registered, reverse_charge);
        True for `taxable` and for an answer without a status (older versions: the rate decides)."""
        return self.status is None or self.status == TaxStatus.TAXABLE

    def computed_tax_minor(self, amount: Decimal, currency: str) -> int | None:
        """The tax on `amount` (major units) in minor units, for an answer that collects tax but carries no
        `tax_amount` (the recorded `validate_tax_rate__0`: taxable, rate 20.0, tax_amount null). `rate` and
        `taxable_part` are percentages (seeds/001 lines 1140-1141: 8.875 and 100); a missing `taxable_part`
        is the whole amount. Exclusive: amount x rate/100 x part/100; inclusive (the amount holds the tax):
        amount x e / (1 + e) with e = rate/100 x part/100. The document says nothing on rounding; amounts are
        whole cents (seeds/001 line 380), so the result is rounded once, half up, to the currency's minor
        unit (TAX_ROUNDING; docs/vendor-readings.md). None when the rate is unknown."""
        if self.rate is None:
            return None
        part = self.taxable_part if self.taxable_part is not None else HUNDRED
        effective = self.rate * part / (HUNDRED * HUNDRED)
        tax = amount * effective
        if (self.tax_behavior or "").lower() == "inclusive":
            tax = tax / (1 + effective)
        return int(tax.scaleb(currency_exponent(currency)).quantize(Decimal(1), rounding=TAX_ROUNDING))

    @property
    def reason(self) -> str:
        """The outcome in words for staff, e.g. why no tax was added."""
        if self.status is None:
            return self.notice or "Quaderno did not say why (no status in the answer)"
        known = _TAX_REASONS.get(self.status)  # type: ignore[call-overload]
        return known or f"Quaderno answered status {self.status!r}, which this version does not know"


class TaxIdValidation(VendorModel):
    """``GET /tax_ids/validate``: ``true``, ``false`` or ``null`` (seeds/001 lines 1161-1172).

    ``None`` means the tax authority's service was unavailable: the number is *unknown*, never "invalid".
    """

    valid: bool | None = None

    @property
    def outcome(self) -> str:
        if self.valid is None:
            return "unavailable"
        return "valid" if self.valid else "invalid"


class Jurisdiction(VendorModel):
    id: OptInt = None
    name: OptText = None
    country: OptText = None
    region: OptText = None


class TaxId(VendorModel):
    """One of the account's registered tax IDs (``GET /tax_ids``)."""

    id: OptInt = None
    value: OptText = None
    state: OptText = None
    jurisdiction: Jurisdiction | None = None
    valid_from: OptDate = None
    valid_until: OptDate = None
    created_at: OptDatetime = None


class TaxRate(VendorModel):
    """A configured rate (``GET /tax_rates``); ``value`` is a percentage."""

    id: OptInt = None
    type: OptText = None
    name: OptText = None
    tax_code: OptText = None
    value: OptDecimal = None
    jurisdiction: Jurisdiction | None = None
    valid_from: OptDate = None
    valid_until: OptDate = None


class Contact(VendorModel):
    """A customer; ``tax_id`` is what we validate (``vat_number`` on old API versions)."""

    id: OptInt = None
    kind: OptText = None
    full_name: OptText = None
    first_name: OptText = None
    last_name: OptText = None
    email: OptText = None
    country: OptText = None
    region: OptText = None
    postal_code: OptText = None
    city: OptText = None
    tax_id: OptText = None
    vat_number: OptText = None
    tax_status: OptText = None
    created_at: OptDatetime = None

    @property
    def display_name(self) -> str:
        parts = [self.first_name, self.last_name]
        return self.full_name or " ".join(p for p in parts if p) or f"contact {self.id}"


class DocumentItem(VendorModel):
    id: OptInt = None
    description: OptText = None
    quantity: OptDecimal = None
    unit_price_cents: OptDecimal = None
    unit_price: OptDecimal = None
    discount_rate: OptDecimal = None
    subtotal_cents: OptMinorUnits = None
    discount_cents: OptMinorUnits = None
    gross_amount_cents: OptMinorUnits = None
    total_amount_cents: OptMinorUnits = None
    tax_code: OptText = None
    tax_rate: OptDecimal = None


class DocumentTax(VendorModel):
    label: OptText = None
    rate: OptDecimal = None
    country: OptText = None
    region: OptText = None
    amount_cents: OptMinorUnits = None


class Payment(VendorModel):
    """A payment on a document. The doc's own sample has ``"amount_cents": 56.6`` (seeds/001 line 1587),
    so cents are kept as an exact Decimal rather than refused."""

    id: OptInt = None
    date: OptDate = None
    payment_method: OptText = None
    amount_cents: OptDecimal = None
    created_at: OptDatetime = None


class Invoice(VendorModel):
    """A sales invoice (``/invoices``; also ``POST /transactions`` with ``type: "Invoice"``)."""

    id: IntLike  # bounded to SQLite's INTEGER (services/types.py)
    number: OptText = None
    type: OptText = None
    state: lenient(InvoiceState) | None = None  # type: ignore[valid-type]
    currency: str = "EUR"
    issue_date: OptDate = None
    due_date: OptDate = None
    created_at: OptDatetime = None
    contact: Contact | None = None
    country: OptText = None
    tax_id: OptText = None
    po_number: OptText = None
    exchange_rate: OptDecimal = None
    items: list[DocumentItem] = Field(default_factory=list)
    taxes: list[DocumentTax] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)
    subtotal_cents: OptMinorUnits = None
    discount_cents: OptMinorUnits = None
    total_cents: OptMinorUnits = None
    total: OptDecimal = None  # some versions send major units next to, or instead of, total_cents
    permalink: OptText = None
    pdf: OptText = None
    url: OptText = None

    @property
    def total_minor(self) -> int:
        """The total in cents: ``total_cents`` when present, else ``total`` converted exactly."""
        if self.total_cents is not None:
            return self.total_cents
        if self.total is not None:
            return Money.from_decimal(self.total, self.currency).amount_minor
        return sum(item.total_amount_cents or item.subtotal_cents or 0 for item in self.items)

    @property
    def paid_cents(self) -> Decimal:
        return sum((p.amount_cents or Decimal(0) for p in self.payments), Decimal(0))

    @property
    def amount_due_cents(self) -> Decimal:
        """Total minus payments, in cents (exact; a Decimal because payments may carry fractions)."""
        return Decimal(self.total_minor) - self.paid_cents

    @property
    def counterparty(self) -> str:
        return self.contact.display_name if self.contact else ""


class Credit(Invoice):
    """A credit note (``/credits``; ``POST /transactions`` with ``type: "refund"`` answers ``"Credit"``)."""

    related_document: dict[str, Any] | None = None


class TaxCode(VendorModel):
    id: Text
    name: OptText = None
    description: OptText = None


class PaymentReceipt(Payment):
    """The answer of ``POST /invoices/{id}/payments``."""

    url: OptText = None


class ErrorBody(VendorModel):
    """Error answers: ``{"error": "..."}`` for 401/406, ``{"field": ["msg", ...]}`` for 422."""

    error: OptText = None
    fields: dict[str, list[str]] = Field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Any) -> ErrorBody:
        if not isinstance(body, dict):
            return cls(error=str(body) if body else None)
        fields = {k: _as_list(v) for k, v in body.items() if k != "error"}
        return cls(error=body.get("error"), fields=fields)

    @classmethod
    def from_text(cls, text: str) -> ErrorBody:
        """From an error's body text (`VendorError.body`), JSON or not."""
        try:
            return cls.from_body(json.loads(text) if text else None)
        except ValueError:
            return cls.from_body(text)

    @property
    def message(self) -> str:
        parts = [self.error] if self.error else []
        parts += [f"{name} {'; '.join(msgs)}" for name, msgs in self.fields.items()]
        return "; ".join(parts) or "no details given"


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class Ping(VendorModel):
    """``GET /ping``: ``{"status": "OK"}`` when the key works."""

    status: OptText = None
