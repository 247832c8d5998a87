"""Tax page (AppTest): calculation and validation history, explained in words; empty state."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services.settings import get_settings
from store.schema import session
from tests.conftest import suite_database
from tests.pages.conftest import ROOT
from tests.pages.test_orders import fresh_settings, open_page  # noqa: F401


def test_calculations_are_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "tax")
    calc = at.dataframe[0].value
    assert list(calc["status"]) == ["Reverse charge", "Not registered", "Taxable"]  # newest first, in words
    words = dict(zip(calc["status"], calc["explanation"], strict=True))
    assert words["Not registered"] == ("no tax is collected because the account is not registered in that "
                                       "jurisdiction")
    assert list(calc["tax_amount"]) == ["0.00 EUR", "0.00 EUR", "21.00 EUR"]


def test_validations_show_their_evidence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "tax")
    checks = at.dataframe[1].value
    assert list(checks["result"]) == ["Unavailable", "Invalid", "Valid"]
    assert list(checks["checked_by"]) == ["bob"] * 3
    assert list(checks["message"]) == ["msg 3", "msg 2", "msg 1"]
    assert "not invalid" in checks["explanation"][0]


def test_empty_history_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "tax", seeded=False)
    assert len(at.dataframe) == 0
    infos = [i.value for i in at.info]
    assert [i.split(".")[0] for i in infos] == ["No tax calculations yet", "No tax-ID validations yet"]
    assert all("Use the form above" in i and "come with the actions work" not in i for i in infos)


def run_with(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, page: str, sql: list[tuple[str, list[object]]]) -> AppTest:
    path = suite_database(tmp_path / "cache.db")  # a new file, or a new PostgreSQL database (tests/conftest.py)
    with session(path) as db:
        for statement, params in sql:
            db.execute(statement, params)
    monkeypatch.setenv("OPSDASH_DB", path)
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


CALC = ("INSERT INTO tax_calculations (calculated_at, requested_by, to_country, currency, amount, rate, tax_amount, "
        "tax_amount_computed, status) VALUES (?, 'ann', ?, ?, ?, ?, ?, ?, 'taxable')")


def test_rates_as_given_and_computed_or_unknown_tax(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Issue 18 points 3 and 6: 8.875 (seeds/001 line 1140) shown "8.875 %", not "8.9 %"; a tax opsdash computed
    (100.00 EUR x 20.0 % = 20.00) says so; one it could not compute is unknown, never 0.00."""
    at = run_with(monkeypatch, tmp_path, "tax", [
        (CALC, ["2025-03-01T00:00:00Z", "US", "USD", 1200, "8.875", 107, 0]),
        (CALC, ["2025-03-02T00:00:00Z", "FR", "EUR", 10000, "20.0", 2000, 1]),
        (CALC, ["2025-03-03T00:00:00Z", "FR", "EUR", 10000, None, None, 0])])
    calc = at.dataframe[0].value
    assert [v if isinstance(v, str) else None for v in calc["rate"]] == [None, "20.0 %", "8.875 %"]
    assert [v if isinstance(v, str) else None for v in calc["tax_amount"]] == [None, "20.00 EUR", "1.07 USD"]
    assert "unknown" in calc["explanation"][0] and "computed by opsdash" in calc["explanation"][1]
    assert "computed" not in calc["explanation"][2]


def test_vendors_page_shows_configuration_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Issue 18 point 9: a 401 met while validating tax IDs is shown on the Vendors page with its message."""
    at = run_with(monkeypatch, tmp_path, "vendors", [(
        "INSERT INTO vendor_config_errors (vendor, status, message, action, seen_at) VALUES (?, ?, ?, ?, ?)",
        ["quaderno", 401, "Quaderno rejected the API key: check QUADERNO_API_KEY", "validating tax IDs",
         "2025-03-01T00:00:00Z"])])
    assert any("401/403" in e.value for e in at.error)
    shown = at.table[-1].value
    assert "Quaderno rejected the API key: check QUADERNO_API_KEY" in shown.to_string()
