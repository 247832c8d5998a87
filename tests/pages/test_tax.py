"""Tax page (AppTest): calculation and validation history, explained in words; empty state."""

from __future__ import annotations

from pathlib import Path

import pytest

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
