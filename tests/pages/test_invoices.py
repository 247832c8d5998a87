"""Invoices page (AppTest): receivables and payables apart (a direction switch), exact totals per
counterparty, filters, details per source, empty state."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.test_orders import fresh_settings, open_page  # noqa: F401


def _totals(at: AppTest) -> dict[tuple[str, str | None], str]:
    # The page's dataframes: outstanding rows, aging, totals per counterparty.
    frame = at.dataframe[2].value
    return {(r.counterparty, r.currency if isinstance(r.currency, str) else None):
            r.amount if isinstance(r.amount, str) else "" for r in frame.itertuples()}


def test_receivables_first_with_exact_totals(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "invoices")
    shown = at.dataframe[0].value
    # Q-4 is paid; payables (CI-1, LB-1, PI-1) are on the other side of the switch.
    assert sorted(shown["invoice_number"]) == ["FV-1", "Q-1", "Q-2", "Q-3"]
    assert _totals(at)[("Acme", "EUR")] == "95.50 EUR"  # 70.00 + 25.50
    assert _totals(at)[("Delta", "CZK")] == "999.99 CZK"
    assert ("carr-9", "EUR") not in _totals(at)


def test_the_direction_switch_shows_payables_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "invoices", state={"invoices.direction": "payable"})
    assert sorted(at.dataframe[0].value["invoice_number"]) == ["CI-1", "LB-1", "PI-1"]
    assert _totals(at) == {("carr-9", "EUR"): "150.00 EUR", ("Eps Supplies", "CZK"): "12.345 CZK", ("Fwd", None): ""}
    assert any("amount not in the list" in c.value for c in at.caption)


def test_filters_remove_the_right_rows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "invoices", state={"invoices.currency": "eur"})
    assert sorted(at.dataframe[0].value["invoice_number"]) == ["Q-1", "Q-2"]
    at.text_input(key="invoices.currency").set_value("")
    at.toggle(key="invoices.overdue").set_value(True).run()  # the seed's dates are all past by now
    assert sorted(at.dataframe[0].value["invoice_number"]) == ["FV-1", "Q-1", "Q-2", "Q-3"]
    at.text_input(key="invoices.counterparty").set_value("acm").run()
    assert sorted(at.dataframe[0].value["invoice_number"]) == ["Q-1", "Q-2"]
    assert _totals(at) == {("Acme", "EUR"): "95.50 EUR"}


def test_details_per_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # ui/details.selectable_table keeps the selection by the record's id (source, invoice number)
    at = open_page(monkeypatch, tmp_path, "invoices", state={"invoices.counterparty": "acme",
                                                             "invoices.receivable.selected": ("quaderno", "Q-1")})
    assert [s.value for s in at.subheader][2:] == ["Invoice details", "Items", "Payments"]
    assert [t.value for t in at.text] == ["Q-1 (quaderno)"]
    assert list(at.dataframe[3].value["total"]) == ["120.00 EUR"]  # items
    assert list(at.dataframe[4].value["amount"]) == ["50.00 EUR"]  # payments
    (tmp_path / "again").mkdir()
    at = open_page(monkeypatch, tmp_path / "again", "invoices", state={"invoices.direction": "payable",
                                                             "invoices.payable.selected": ("qasida", "LB-1")})
    assert [t.value for t in at.text] == ["LB-1 (qasida)"]
    assert list(at.dataframe[3].value["customer"]) == ["Eps Supplies"]  # joined at read time


def test_empty_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "invoices", seeded=False)
    assert len(at.dataframe) == 0
    assert "No source of this data is configured" in at.info[0].value


def test_the_counterparty_totals_show_the_largest_until_all_are_asked_for(monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path) -> None:
    from store.schema import session
    from store.store import upsert_records

    at = open_page(monkeypatch, tmp_path, "invoices")
    # 20 more customers, one with three open invoices: 23 counterparties in all, more than the 15 shown
    extra = [{"invoice_id": f"x{i}", "number": f"X-{i}", "contact_name": f"Zeta {i:02d}", "currency": "EUR",
              "total": 100, "amount_due": 100, "state": "outstanding", "due_date": "2025-06-01", "raw": "{}",
              "synced_at": "2025-06-01T00:00:00.000Z"} for i in range(20)]
    extra += [{**extra[0], "invoice_id": f"y{i}", "number": f"Y-{i}"} for i in range(2)]
    with session(os.environ["OPSDASH_DB"]) as db:  # the database open_page seeded
        upsert_records(db, "quaderno_invoices", extra, "invoice_id")
    at.run()
    shown = at.dataframe[2].value
    assert len(shown) == 15 and shown.iloc[0]["counterparty"] == "Zeta 00"
    assert str(shown.iloc[0]["invoices"]) == "3" and shown.iloc[0]["amount"] == "3.00 EUR"
    assert any("The 15 counterparties with the most open invoices, of 23" in c.value for c in at.caption)
    at.toggle(key="invoices.receivable.all").set_value(True).run()
    assert len(at.dataframe[2].value) == 23
