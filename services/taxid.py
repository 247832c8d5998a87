"""Offline tax-ID check (format and check digit) before any call to Quaderno's validation service.

A typo caught here costs no API call (Quaderno allows 100 calls per 15 s, seeds/001) and gets a message a
person can act on. Passing this check only means the number is well formed: whether it is *registered* is
Quaderno's answer (``true``/``false``/``null``).

Country codes: ISO 3166 (``GR``) and VAT prefixes (``EL`` for Greece, ``XI`` for Northern Ireland) are both
accepted. Numbers may carry the country prefix or not, and spaces, dots, dashes and slashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stdnum import get_cc_module
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError

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
}


@dataclass(frozen=True)
class OfflineResult:
    """Outcome of the offline check. ``number`` is normalised (prefix added) when the format is known."""

    country: str
    number: str
    ok: bool
    message: str


def check_tax_id(country: str, number: str) -> OfflineResult:
    """Check format and check digit of a VAT number for ``country`` without any network call."""
    prefix = _vat_prefix(country)
    module = _module(prefix)
    if module is None:
        shown = country.strip() or "(empty)"
        return OfflineResult(
            country.strip().upper(), number.strip(), False, f"{shown} is not a country we can check"
        )
    if not number or not number.strip():
        return OfflineResult(prefix, "", False, "no tax ID given")
    compact = _compact(module, prefix, number)
    try:
        module.validate(compact)
    except ValidationError as exc:
        return OfflineResult(prefix, _with_prefix(prefix, compact), False, _explain(exc, prefix, compact))
    return OfflineResult(prefix, _with_prefix(prefix, compact), True, "format and check digit are valid")


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
