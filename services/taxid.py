"""Offline tax-ID check (format and check digit) before any call to Quaderno's validation service.

A typo caught here costs no API call (Quaderno allows 100 calls per 15 s, seeds/001) and gets a message a
person can act on. Passing this check only means the number is well formed: whether it is *registered* is
Quaderno's answer (``true``/``false``/``null``).

The check refuses only what is certainly malformed (issue 18 point 8). Quaderno validates "VAT/GST numbers
from the EU, United Kingdom, Switzerland, Québec (Canada), Australia, and New Zealand" (seeds/001 line
1129; "EU VAT numbers, ABN, and NZBN", line 775). A number is refused when every form its country's numbers
take fails: EU and UK VAT numbers; Swiss VAT numbers and UIDs (``CHE-116.281.710``, with or without
``MWST``/``TVA``/``IVA``); Québec QST numbers (10 digits, ``TQ`` and 4 digits, unchecked: their check digit
is not published) or Canadian business numbers; Australian ABNs; New Zealand GST (IRD) numbers or NZBNs.
A number of any other country goes to Quaderno unchecked; only a country that is not two letters (the
document's ``country`` is "2-letter ISO 3166-1", line 1166) or an empty number is refused here.

Country codes: ISO 3166 (``GR``) and VAT prefixes (``EL`` for Greece, ``XI`` for Northern Ireland) are both
accepted. Numbers may carry the country prefix or not, and spaces, dots, dashes and slashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from stdnum import ean, get_cc_module
from stdnum.au import abn
from stdnum.ca import bn
from stdnum.ch import uid
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.nz import ird

# VAT prefix -> python-stdnum country module. XI numbers are UK VAT numbers (stdnum's gb module strips "XI").
_MODULE_ALIASES = {"EL": "gr", "XI": "gb", "UK": "gb"}
# ISO country -> VAT prefix, where they differ.
_VAT_PREFIX = {"GR": "EL", "UK": "GB"}
# Countries whose VAT numbers are written with the country prefix.
_PREFIXED = frozenset(
    ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE")
    + ("IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "GB", "XI", "CH")
)
# What follows the prefix, for the length message (EU VIES formats; GB/XI from HMRC).
_EXPECTED = {
    "AT": "9 characters (U and 8 digits)",
    "BE": "10 digits",
    "BG": "9 or 10 digits",
    "CY": "9 characters (8 digits and a letter)",
    "CZ": "8 to 10 digits",
    "DE": "9 digits",
    "DK": "8 digits",
    "EE": "9 digits",
    "EL": "9 digits",
    "ES": "9 characters",
    "FI": "8 digits",
    "FR": "11 characters (2 check characters and 9 digits)",
    "GB": "9 or 12 digits",
    "HR": "11 digits",
    "HU": "8 digits",
    "IE": "8 or 9 characters",
    "IT": "11 digits",
    "LT": "9 or 12 digits",
    "LU": "8 digits",
    "LV": "11 digits",
    "MT": "8 digits",
    "NL": "12 characters (9 digits, B and 2 digits)",
    "PL": "10 digits",
    "PT": "9 digits",
    "RO": "2 to 10 digits",
    "SE": "12 digits",
    "SI": "8 digits",
    "SK": "10 digits",
    "XI": "9 or 12 digits",
    "CH": "CHE and 9 digits, optionally followed by MWST, TVA or IVA",
    "CA": "a Québec QST number (10 digits, TQ and 4 digits) or a business number (9 digits)",
    "AU": "an ABN of 11 digits",
    "NZ": "a GST (IRD) number of 8 or 9 digits or an NZBN of 13 digits",
}
EU_AND_UK = frozenset(_PREFIXED - {"CH"})  # the stdnum VAT module of the country is the whole story


class _Qst:
    """Québec QST numbers: 10 digits, then ``TQ`` and a 4-digit file number (Revenu Québec). No check digit
    is checked: its rule is not published, and a wrong guess would refuse a number Quaderno validates."""

    @staticmethod
    def compact(number: str) -> str:
        return "".join(ch for ch in number.upper() if ch.isalnum())

    @staticmethod
    def validate(number: str) -> str:
        if not re.fullmatch(r"\d{10}(TQ\d{4})?", number):
            raise InvalidFormat()
        return number


class _Nzbn:
    """New Zealand Business Numbers: 13 digits with a GS1 (EAN-13) check digit."""

    @staticmethod
    def compact(number: str) -> str:
        return str(ean.compact(number))

    @staticmethod
    def validate(number: str) -> str:
        if len(number) != 13:
            raise InvalidLength()
        return str(ean.validate(number))


# Where a country's numbers take more than one form, each form; a number is malformed only if all refuse it.
_FORMS: dict[str, tuple[Any, ...]] = {"CH": (None, uid), "CA": (_Qst, bn), "AU": (abn,), "NZ": (ird, _Nzbn)}


@dataclass(frozen=True)
class OfflineResult:
    """Outcome of the offline check. ``number`` is normalised (prefix added) when the format is known."""

    country: str
    number: str
    ok: bool  # False only when certainly malformed: then no vendor call
    message: str
    checked: bool = True  # False: no offline rule for this country; Quaderno decides


UNCHECKED = "no offline check for this country's numbers: Quaderno decides"


def check_tax_id(country: str, number: str) -> OfflineResult:
    """Check format and check digit of a tax ID for ``country`` without any network call."""
    prefix = _vat_prefix(country)
    if len(prefix) != 2 or not prefix.isalpha():
        shown = country.strip() or "(empty)"
        return OfflineResult(prefix, number.strip(), False, f"{shown} is not a 2-letter country code")
    if not number or not number.strip():
        return OfflineResult(prefix, "", False, "no tax ID given")
    if prefix in _FORMS:
        return _check_forms(prefix, number, _FORMS[prefix])
    module = _module(prefix) if prefix in EU_AND_UK else None
    if module is None:
        return OfflineResult(prefix, number.strip(), True, UNCHECKED, checked=False)
    compact = _compact(module, prefix, number)
    try:
        module.validate(compact)
    except ValidationError as exc:
        return OfflineResult(prefix, _with_prefix(prefix, compact), False, _explain(exc, prefix, compact))
    return OfflineResult(prefix, _with_prefix(prefix, compact), True, "format and check digit are valid")


def _check_forms(prefix: str, number: str, forms: tuple[Any, ...]) -> OfflineResult:
    """Valid in the first form that takes it; malformed, explained by the first form, when none does."""
    failures: list[tuple[ValidationError, str]] = []
    for form in forms:
        module = form or _module(prefix)
        compact = _compact(module, prefix, number)
        try:
            module.validate(compact)
        except ValidationError as exc:
            failures.append((exc, compact))
            continue
        return OfflineResult(prefix, compact, True, "format and check digit are valid")
    first, compact = failures[0]
    return OfflineResult(prefix, compact, False, _explain(first, prefix, compact))


def _vat_prefix(country: str) -> str:
    code = country.strip().upper()
    return _VAT_PREFIX.get(code, code)


def _module(prefix: str) -> Any:
    if len(prefix) != 2 or not prefix.isalpha():
        return None
    return get_cc_module(_MODULE_ALIASES.get(prefix, prefix.lower()), "vat")


def _compact(module: Any, prefix: str, number: str) -> str:
    """Strip separators and the country prefix (any spelling: EL/GR, XI/GB)."""
    text = "".join(ch for ch in number.upper() if ch.isalnum())
    # Swiss numbers keep their "CHE" prefix: stdnum's ch module expects it.
    strip = prefix in _PREFIXED and prefix != "CH"
    for known in (prefix, _iso_of(prefix)):
        if strip and text.startswith(known):
            text = text[len(known) :]
            break
    try:
        return str(module.compact(text))
    except ValidationError:
        return text


def _iso_of(prefix: str) -> str:
    return {"EL": "GR", "XI": "GB"}.get(prefix, prefix)


def _with_prefix(prefix: str, compact: str) -> str:
    if prefix not in _PREFIXED or compact.startswith(prefix):
        return compact
    return prefix + compact


def _explain(exc: ValidationError, prefix: str, compact: str) -> str:
    if prefix in _FORMS and not isinstance(exc, InvalidChecksum):
        return f"{prefix} tax IDs are {_EXPECTED[prefix]}; got {compact!r}"
    if isinstance(exc, InvalidChecksum):
        return "check digit does not match: a typo?"
    if isinstance(exc, InvalidLength):
        expected = _EXPECTED.get(prefix)
        if expected:
            return f"{prefix} VAT numbers have {expected} after {prefix}; got {len(compact)}"
        return f"{prefix} VAT number has the wrong length ({len(compact)} characters)"
    if isinstance(exc, InvalidComponent):
        return f"{prefix} VAT number contains a part that cannot exist (e.g. a region or birth date code)"
    expected = _EXPECTED.get(prefix, "the national format")
    return f"{prefix} VAT number is not in the expected format: {expected} after {prefix}"
