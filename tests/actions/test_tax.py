"""Tax calculation through the sandbox's Quaderno: exact amounts, the reason in words, stored and audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlite_utils import Database

from actions.roles import PermissionDenied
from actions.tax import TaxParams, calculate
from services.settings import Settings
from store import audit
from tests.actions.conftest import OPERATOR, VIEWER, CountRequests


def test_taxable_sale_is_computed_exactly_and_stored(db: Database, settings: Settings) -> None:
    params = TaxParams("DE", Decimal("99.99"), "EUR", to_postal_code="10115", on=date(2025, 3, 1))
    result = calculate(db, OPERATOR, params, settings=settings)
    assert (result.rate, result.tax.amount_minor, result.total.amount_minor, result.status) == (
        Decimal("19.0"), 1900, 11899, "taxable")
    row = db.conn.execute("SELECT requested_by, to_country, currency, amount, rate, tax_amount, status "
                          "FROM tax_calculations").fetchall()
    assert row == [(OPERATOR.name, "DE", "EUR", 9999, "19.0", 1900, "taxable")]
    assert audit.search(db, action="quaderno.calculate_tax")[0].vendor_reference == f"tax_calculations {result.id}"


def test_reverse_charge_is_explained(db: Database, settings: Settings) -> None:
    params = TaxParams("NL", Decimal(1000), "EUR", from_country="DE", tax_id="NL687393863B01")
    result = calculate(db, OPERATOR, params, settings=settings)
    assert (result.status, result.tax.amount_minor, result.total.amount_minor) == ("reverse_charge", 0, 100000)
    assert "reverse" in result.reason.lower()


def test_bad_input_and_viewer_send_nothing(db: Database, settings: Settings, count_requests: CountRequests) -> None:
    with pytest.raises(ValueError, match="'XX' is not an ISO 3166"):
        calculate(db, OPERATOR, TaxParams("XX", Decimal(1), "EUR"), settings=settings)
    with pytest.raises(ValueError, match="decimal places"):
        calculate(db, OPERATOR, TaxParams("DE", Decimal("1.001"), "EUR"), settings=settings)
    with pytest.raises(PermissionDenied):
        calculate(db, VIEWER, TaxParams("DE", Decimal(1), "EUR"), settings=settings)
    assert count_requests("quaderno") == 0
    assert db.conn.execute("SELECT count(*) FROM tax_calculations").fetchone()[0] == 0


def test_a_sandbox_answer_without_tax_amount_is_computed_by_opsdash(db: Database, settings: Settings) -> None:
    """The sandbox answers FR to FR as recorded (validate_tax_rate__0: taxable, 20.0 %, tax_amount null):
    100.00 EUR x 20.0 % x 100.0 % = 20.00 EUR, flagged (issue 18 point 3)."""
    params = TaxParams("FR", Decimal("100.00"), "EUR", from_country="FR")
    result = calculate(db, OPERATOR, params, settings=settings)
    assert result.tax is not None and result.total is not None
    assert (result.rate, result.tax.amount_minor, result.total.amount_minor, result.tax_computed) == (
        Decimal("20.0"), 2000, 12000, True)
    assert db.conn.execute("SELECT tax_amount, tax_amount_computed FROM tax_calculations").fetchall() == [(2000, 1)]
