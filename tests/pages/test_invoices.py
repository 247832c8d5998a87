"""Invoices page (AppTest): outstanding rows, exact totals per counterparty, filters, details, empty state."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.test_orders import fresh_settings, open_page, select_row  # noqa: F401


def _totals(at: AppTest) -> dict[tuple[str, str | None], str]:
    # The page's dataframes: outstanding rows, aging, totals per counterparty.
    frame = at.dataframe[2].value
    return {(r.counterparty, r.currency if isinstance(r.currency, str) else None): r.amount
            for r in frame.itertuples()}


def test_outstanding_rows_and_exact_totals(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "invoices")
    shown = at.dataframe[0].value
    # Q-4 is paid: only the 6 outstanding invoices of the seed appear.
    assert sorted(shown["invoice_number"]) == ["CI-1", "FV-1", "PI-1", "Q-1", "Q-2", "Q-3"]
    assert dict(zip(shown["invoice_number"], shown["amount_due"], strict=True))["Q-1"] == "70.00"
    acme_eur = 7000 + 2550  # Q-1 amount_due + Q-2 amount_due, in cents
    assert _totals(at)[("Acme", "EUR")] == f"{acme_eur // 100}.{acme_eur % 100:02d}" == "95.50"
    assert _totals(at)[("Delta", "CZK")] == "999.99"
    assert _totals(at)[("carr-9", "EUR")] == "150.00"


def test_filters_remove_the_right_rows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "invoices", state={"invoices.currency": "eur"})
    assert sorted(at.dataframe[0].value["invoice_number"]) == ["CI-1", "Q-1", "Q-2"]
    at.text_input(key="invoices.currency").set_value("")
    at.toggle(key="invoices.overdue").set_value(True).run()
    # Everything seeded is past due by now except Cargobase's PI-1, which carries no due date.
    assert "PI-1" not in list(at.dataframe[0].value["invoice_number"])
    at.text_input(key="invoices.counterparty").set_value("acm").run()
    assert sorted(at.dataframe[0].value["invoice_number"]) == ["Q-1", "Q-2"]
    assert _totals(at) == {("Acme", "EUR"): "95.50"}


def test_details_per_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "invoices", state={"invoices.counterparty": "acme",
                                                             "invoices.overdue": False})
    index = list(at.dataframe[0].value["invoice_number"]).index("Q-1")
    at = select_row(at, "invoices", index)
    assert at.subheader[-1].value == "Invoice Q-1 (quaderno)"
    assert list(at.dataframe[3].value["total"]) == ["120.00"]  # items
    assert list(at.dataframe[4].value["amount"]) == ["50.00"]  # payments
    at.text_input(key="invoices.counterparty").set_value("carr").run()
    at = select_row(at, "invoices", 0)
    assert list(at.dataframe[3].value["operation"]) == ["INSERT", "UPDATE"]


def test_empty_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "invoices", seeded=False)
    assert len(at.dataframe) == 0
    assert "No source of this data is configured" in at.info[0].value
