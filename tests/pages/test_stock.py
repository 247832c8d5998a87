"""Stock page (AppTest): levels, below-threshold filter, warehouse totals, chart, empty state."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pages.test_orders import fresh_settings, open_page  # noqa: F401


def test_levels_and_warehouse_totals(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "stock")
    levels = at.dataframe[0].value
    assert list(levels["product"]) == ["Bolts", "Nuts", "Oil"]  # below threshold first
    assert list(levels["available"]) == [70.0, 50.0, 20.0]  # Oil: 20.5 quantity - 0.5 reserved
    totals = at.dataframe[1].value
    wh_a = totals[totals["warehouse"] == "WH-A"].iloc[0]
    assert (wh_a["quantity"], wh_a["available"], wh_a["below_threshold"]) == (100.0 + 50.0, 70.0 + 50.0, 1)
    assert at.metric[0].value == "1"
    assert len(at.get("plotly_chart")) == 1


def test_below_threshold_filter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "stock", state={"stock.below": True})
    assert list(at.dataframe[0].value["product"]) == ["Bolts"]
    at.toggle(key="stock.below").set_value(False)
    at.text_input(key="stock.warehouse").set_value("wh-b").run()
    assert list(at.dataframe[0].value["product"]) == ["Oil"]


def test_empty_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "stock", seeded=False)
    assert len(at.dataframe) == 0
    assert "No source of this data is configured" in at.info[0].value
