"""Quaderno's tax engine, simulated: a rate table and `GET /tax_rates/calculate`'s decision.

The answer's `status` is one of the four codes of API version 20220325 (seeds/001 lines 160-167):
`taxable`, `non_taxable`, `not_registered` (the account is not registered in the destination
jurisdiction, rate 0) and `reverse_charge` (B2B across EU borders with a valid tax ID, rate 0).
Amounts are computed with Decimal and rounded half-up to cents.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from stdnum import ean, get_cc_module
from stdnum.ca import bn
from stdnum.ch import uid
from stdnum.nz import ird

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
TAX_CODES = ("consulting", "eservice", "ebook", "saas", "standard", "reduced", "exempt")  # seeds/001 l.1130
ACCOUNT_COUNTRY = "DE"  # the sandbox account's own country: the default `from_country`
DEFAULT_REGISTRATIONS = frozenset({"DE", "NL", "FR", "GB", "US-NY"})
OSS = "EU"  # registering "EU" (the One-Stop Shop) covers every member state


@dataclass(frozen=True)
class Jurisdiction:
    country: str
    name: str  # the tax's local name, as Quaderno shows it
    currency: str
    standard: Decimal
    reduced: Decimal | None = None  # the main reduced rate (tax code `reduced`)
    ebook: Decimal | None = None  # e-books' rate where lower than the standard one
    region: str | None = None

    @property
    def key(self) -> str:
        return f"{self.country}-{self.region}" if self.region else self.country


def _j(
    country: str,
    name: str,
    currency: str,
    standard: str,
    reduced: str | None = None,
    ebook: str | None = None,
) -> Jurisdiction:
    dec = lambda v: Decimal(v) if v is not None else None
    return Jurisdiction(country, name, currency, Decimal(standard), dec(reduced), dec(ebook))


EU_RATES: dict[str, Jurisdiction] = {
    j.country: j
    for j in (
        _j("AT", "USt.", "EUR", "20", "10", "10"),
        _j("BE", "BTW", "EUR", "21", "6", "6"),
        _j("BG", "ДДС", "BGN", "20", "9", "9"),
        _j("HR", "PDV", "EUR", "25", "13", "5"),
        _j("CY", "ΦΠΑ", "EUR", "19", "9", "5"),
        _j("CZ", "DPH", "CZK", "21", "12"),
        _j("DK", "Moms", "DKK", "25"),
        _j("EE", "KM", "EUR", "22", "9", "9"),
        _j("FI", "ALV", "EUR", "24", "14", "10"),
        _j("FR", "TVA", "EUR", "20", "5.5", "5.5"),
        _j("DE", "MwSt.", "EUR", "19", "7", "7"),
        _j("GR", "ΦΠΑ", "EUR", "24", "13", "6"),
        _j("HU", "ÁFA", "HUF", "27", "18", "5"),
        _j("IE", "VAT", "EUR", "23", "13.5", "9"),
        _j("IT", "IVA", "EUR", "22", "10", "4"),
        _j("LV", "PVN", "EUR", "21", "12", "5"),
        _j("LT", "PVM", "EUR", "21", "9", "9"),
        _j("LU", "TVA", "EUR", "17", "8", "3"),
        _j("MT", "VAT", "EUR", "18", "7", "5"),
        _j("NL", "BTW", "EUR", "21", "9", "9"),
        _j("PL", "VAT", "PLN", "23", "8", "5"),
        _j("PT", "IVA", "EUR", "23", "6", "6"),
        _j("RO", "TVA", "RON", "19", "9", "5"),
        _j("SK", "DPH", "EUR", "20", "10", "10"),
        _j("SI", "DDV", "EUR", "22", "9.5", "5"),
        _j("ES", "IVA", "EUR", "21", "10", "4"),
        _j("SE", "Moms", "SEK", "25", "12", "6"),
    )
}
UK = _j("GB", "VAT", "GBP", "20", "5", "0")  # UK e-books are zero-rated since 2020

# Standard-rate changes: (country, in force from, new rate). The table above holds the rate before.
RATE_CHANGES: tuple[tuple[str, date, Decimal], ...] = (
    ("FI", date(2024, 9, 1), Decimal("25.5")),
    ("SK", date(2025, 1, 1), Decimal(23)),
    ("EE", date(2025, 7, 1), Decimal(24)),
    ("RO", date(2025, 8, 1), Decimal(21)),
)

US_STATES: dict[str, Jurisdiction] = {
    s: Jurisdiction("US", "Sales tax", "USD", Decimal(r), region=s)
    for s, r in (("NY", "4"), ("CA", "7.25"), ("TX", "6.25"), ("WA", "6.5"))
}
# ZIP code ranges (first three digits) of the states in the table.
_ZIP3 = (("NY", 100, 149), ("CA", 900, 961), ("TX", 750, 799), ("TX", 885, 885), ("WA", 980, 994))
# Tax codes a state does not tax: digital goods in CA and NY, professional services everywhere
# (seeds/001 line 164: "a digital product in California" is non_taxable).
_US_EXEMPT = {
    "CA": {"eservice", "saas", "ebook", "consulting"},
    "NY": {"ebook", "consulting"},
    "TX": {"consulting"},
    "WA": set(),
}
_US_TAXABLE_PART = {
    ("TX", "saas"): Decimal(80),
    ("TX", "eservice"): Decimal(80),
}  # TX taxes 80 % of data processing


@dataclass(frozen=True)
class Query:
    to_country: str
    to_postal_code: str | None = None
    from_country: str = ACCOUNT_COUNTRY
    tax_id: str | None = None
    tax_code: str = "standard"
    product_type: str = "service"
    tax_behavior: str = "exclusive"
    amount: Decimal | None = None
    currency: str | None = None
    on: date | None = None
    to_city: str | None = None


def us_state(postal_code: str | None) -> str | None:
    digits = (postal_code or "").strip()[:3]
    if not digits.isdigit():
        return None
    zip3 = int(digits)
    return next((s for s, lo, hi in _ZIP3 if lo <= zip3 <= hi), None)


def jurisdiction(country: str, postal_code: str | None) -> Jurisdiction | None:
    if country == "US":
        state = us_state(postal_code)
        return US_STATES.get(state) if state else None
    return UK if country == "GB" else EU_RATES.get(country)


def standard_rate(j: Jurisdiction, on: date) -> Decimal:
    rate = j.standard
    for country, since, new in RATE_CHANGES:
        if country == j.country and on >= since:
            rate = new
    return rate


def rate_for(j: Jurisdiction, tax_code: str, on: date) -> tuple[Decimal, Decimal] | None:
    """(rate, taxable part) for a tax code, or None when the code is not taxed there."""
    if tax_code == "exempt":
        return None
    if j.country == "US":
        if tax_code in _US_EXEMPT[j.region or ""]:
            return None
        return j.standard, _US_TAXABLE_PART.get((j.region or "", tax_code), HUNDRED)
    if tax_code == "reduced" and j.reduced is not None:
        return j.reduced, HUNDRED
    if tax_code == "ebook" and j.ebook is not None:
        return j.ebook, HUNDRED
    return standard_rate(j, on), HUNDRED


@functools.lru_cache(maxsize=8192)  # the same customers' numbers are checked on every invoice page
def tax_id_valid(country: str, tax_id: str | None) -> bool:
    """Offline check digits (python-stdnum); the prefix must match the country."""
    if not tax_id:
        return False
    module = get_cc_module(country.lower(), "vat")
    return bool(module and module.is_valid(tax_id))


def tax_id_validates(country: str, tax_id: str) -> bool:
    """What `GET /tax_ids/validate` answers: besides EU and UK VAT numbers, Quaderno validates Swiss, Québec,
    Australian and New Zealand numbers (seeds/001 line 1129): a Swiss UID without its VAT suffix, a Québec
    QST number (10 digits, TQ, 4 digits) or business number, an ABN, a GST (IRD) number or an NZBN."""
    compact = "".join(ch for ch in tax_id.upper() if ch.isalnum())
    extra: dict[str, tuple[Any, ...]] = {"CH": (uid,), "CA": (bn,), "NZ": (ird, ean)}
    if country == "CA" and re.fullmatch(r"\d{10}TQ\d{4}", compact):
        return True
    if any(module.is_valid(compact) for module in extra.get(country, ())):
        return True
    return tax_id_valid(country, tax_id)


def is_reverse_charge(q: Query) -> bool:
    """B2B across EU borders: the buyer accounts for the VAT (seeds/001 line 167)."""
    cross_border = q.from_country != q.to_country
    both_eu = q.from_country in EU_RATES and q.to_country in EU_RATES
    return cross_border and both_eu and tax_id_valid(q.to_country, q.tax_id)


def is_registered(j: Jurisdiction, registrations: frozenset[str] | set[str]) -> bool:
    return j.key in registrations or (j.country in EU_RATES and OSS in registrations)


def calculate(q: Query, registrations: frozenset[str] | set[str], today: date) -> dict[str, Any]:
    j = jurisdiction(q.to_country, q.to_postal_code)
    on = q.on or today
    if j is None:
        return _answer(q, None, "not_registered", Decimal(0), HUNDRED)
    if q.tax_code == "exempt":
        return _answer(q, j, "non_taxable", Decimal(0), HUNDRED)
    if is_reverse_charge(q):
        return _answer(
            q, j, "reverse_charge", Decimal(0), HUNDRED, notes="Tax amount subject to reverse charge."
        )
    if not is_registered(j, registrations):
        return _answer(q, j, "not_registered", Decimal(0), HUNDRED)
    found = rate_for(j, q.tax_code, on)
    if found is None:
        return _answer(q, j, "non_taxable", Decimal(0), HUNDRED)
    return _answer(q, j, "taxable", *found)


def amounts(amount: Decimal, rate: Decimal, part: Decimal, behavior: str) -> tuple[Decimal, Decimal, Decimal]:
    """(subtotal, tax, total) in currency units, exact to the cent."""
    effective = rate * part / (HUNDRED * HUNDRED)
    if behavior == "inclusive":
        total = amount.quantize(CENT, ROUND_HALF_UP)
        subtotal = (total / (1 + effective)).quantize(CENT, ROUND_HALF_UP)
        return subtotal, total - subtotal, total
    subtotal = amount.quantize(CENT, ROUND_HALF_UP)
    tax = (subtotal * effective).quantize(CENT, ROUND_HALF_UP)
    return subtotal, tax, subtotal + tax


def one_decimal(rate: Decimal) -> Decimal:
    """20 -> 20.0 as recorded; 8.875 stays."""
    return rate if rate.as_tuple().exponent < 0 else rate.quantize(Decimal("0.1"))  # type: ignore[operator]


def recorded_without_amounts(q: Query) -> bool:
    """A sale within France answers as recorded (vendor-specs/quaderno validate_tax_rate__0: FR to FR,
    "status": "taxable", "rate": 20.0, "subtotal"/"tax_amount"/"total_amount": null), whatever the amount:
    the shape a client must not read as zero tax."""
    return q.from_country == "FR" and q.to_country == "FR"


def _answer(
    q: Query, j: Jurisdiction | None, status: str, rate: Decimal, part: Decimal, notes: str | None = None
) -> dict[str, Any]:
    subtotal = tax = total = None
    if q.amount is not None and not recorded_without_amounts(q):
        subtotal, tax, total = amounts(q.amount, rate, part, q.tax_behavior)
    us = q.to_country == "US"
    return {
        "country": q.to_country,
        "region": j.region if j else None,
        "county": None,
        "city": q.to_city.upper() if us and q.to_city else None,
        "currency": q.currency or (j.currency if j else "USD"),
        "name": j.name if j else None,
        "notes": notes,
        "product_type": q.product_type,
        "rate": one_decimal(rate),
        "tax_behavior": q.tax_behavior,
        "tax_code": q.tax_code,
        "taxable_part": part.quantize(Decimal("0.1")),
        "import": False,
        "subtotal": subtotal,
        "tax_amount": tax,
        "total_amount": total,
        "status": status,
    }
