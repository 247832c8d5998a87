"""The Quaderno simulator validates the forms seeds/001 line 1129 lists beyond EU VAT numbers (issue 18
point 8): a Swiss UID, a Québec QST number, an ABN, an NZBN; a wrong check digit stays false."""

from __future__ import annotations

import pytest

from sandbox.quaderno.rates import tax_id_validates


@pytest.mark.parametrize(("country", "number", "valid"), [
    ("CH", "CHE-116.281.710", True), ("CH", "CHE-116.281.711", False),
    ("CA", "1006199968TQ0001", True), ("CA", "1006199968TQ001", False),
    ("AU", "51824753556", True), ("AU", "51824753557", False),
    ("NZ", "9429041525340", True), ("DE", "DE303954554", True),
])
def test_documented_forms(country: str, number: str, valid: bool) -> None:
    assert tax_id_validates(country, number) is valid
