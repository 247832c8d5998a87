"""Offline tax-ID check: a table of valid, malformed, mistyped and uncheckable numbers."""

from __future__ import annotations

import pytest

from services.taxid import check_tax_id


@pytest.mark.parametrize(
    ("country", "number", "normalized"),
    [
        ("DE", "DE136695976", "DE136695976"),
        ("de", "136 695 976", "DE136695976"),
        ("DE", "DE 136.695-976", "DE136695976"),
        ("IE", "IE6388047V", "IE6388047V"),  # the Quaderno recording's valid number
        ("IE", "9825613N", "IE9825613N"),
        ("GR", "EL094259216", "EL094259216"),  # Greece: ISO GR, VAT prefix EL
        ("EL", "094259216", "EL094259216"),
        ("GR", "GR094259216", "EL094259216"),
        ("GB", "GB980780684", "GB980780684"),
        ("XI", "XI 980 7806 84", "XI980780684"),  # Northern Ireland
        ("FR", "FR40303265045", "FR40303265045"),
        ("NL", "NL004495445B01", "NL004495445B01"),
        ("AT", "ATU12345675", "ATU12345675"),
        ("CH", "CHE-116.281.710 MWST", "CHE116281710MWST"),
    ],
)
def test_valid_numbers_are_normalized_with_prefix(country: str, number: str, normalized: str) -> None:
    result = check_tax_id(country, number)
    assert result.ok, result.message
    assert result.number == normalized
    assert result.message == "format and check digit are valid"


@pytest.mark.parametrize(
    ("country", "number", "message"),
    [
        ("DE", "DE13669597", "DE VAT numbers have 9 digits after DE; got 8"),
        ("DE", "1366959761", "DE VAT numbers have 9 digits after DE; got 10"),
        ("DE", "DE136695977", "check digit does not match: a typo?"),
        ("GB", "GB980780685", "check digit does not match: a typo?"),
        ("GR", "EL094259217", "check digit does not match: a typo?"),
        ("IE", "IE6388047X", "IE VAT number is not in the expected format: 8 or 9 characters after IE"),
        (
            "FR",
            "FR4030326504",
            "FR VAT numbers have 11 characters (2 check characters and 9 digits) after FR; got 10",
        ),
        ("", "DE136695976", "(empty) is not a 2-letter country code"),
        ("DEU", "DE136695976", "DEU is not a 2-letter country code"),  # seeds/001 line 1166: 2-letter ISO
        ("DE", "  ", "no tax ID given"),
    ],
)
def test_failures_say_what_is_wrong(country: str, number: str, message: str) -> None:
    result = check_tax_id(country, number)
    assert not result.ok
    assert result.message == message


def test_failed_number_is_still_normalized_for_display() -> None:
    result = check_tax_id("de", "de 136 695 977")
    assert (result.country, result.number) == ("DE", "DE136695977")


@pytest.mark.parametrize(("country", "number"), [("US", "12-3456789"), ("XX", "123"), ("JP", "T1234567890123")])
def test_a_country_without_an_offline_rule_goes_to_quaderno(country: str, number: str) -> None:
    """Refuse only what is certainly malformed (issue 18 point 8): no rule here means Quaderno decides."""
    result = check_tax_id(country, number)
    assert (result.ok, result.checked, result.number) == (True, False, number)
