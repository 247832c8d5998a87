"""Stock page (AppTest): levels against our reorder levels, "no level set" counted, filters, warehouse
totals, the reorder-level editor for operators only, empty state."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.pages.test_orders import fresh_settings, open_page  # noqa: F401


def test_levels_and_warehouse_totals(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "stock")
    levels = at.dataframe[0].value
    assert list(levels["product"]) == ["Bolts", "Oil", "Nuts"]  # at or below their level first, no level last
    assert list(levels["available"]) == ["70", "20", "50"]  # Oil: 20.5 quantity - 0.5 reserved; grouped text
    # Oil: the WH-B row wins over 5 everywhere; Nuts: no level set (blank, never a number)
    assert [None if pd.isna(v) else v for v in levels["reorder_level"]] == ["80", "25", None]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Items below reorder level": "2", "Items with no reorder level set": "1"}
    editor = at.dataframe[1].value  # the reorder-level editor (operator in local mode)
    assert list(editor["product_code"]) == ["BOLT", "OIL", "OIL"]
    assert list(editor["warehouse"]) == ["", "", "WH-B"]  # its name, as the table says; the level keeps "2"
    lead_times = at.dataframe[2].value  # the lead-time editor: the default row migration 0024 sets
    assert (list(lead_times["warehouse"]), list(lead_times["lead_time_days"])) == ([""], [7.0])
    totals = at.dataframe[3].value
    wh_a = totals[totals["warehouse"] == "WH-A"].iloc[0]
    assert (int(wh_a["items_below_level"]), str(wh_a["no_level_set"])) == (1, "1")  # display-formatted
    assert len(at.get("plotly_chart")) == 1


@pytest.mark.parametrize(("show", "products"), [
    ("Below reorder level", ["Bolts", "Oil"]), ("No level set", ["Nuts"]),
])
def test_show_filter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, show: str, products: list[str]) -> None:
    at = open_page(monkeypatch, tmp_path, "stock", state={"stock.show": show})
    assert list(at.dataframe[0].value["product"]) == products


def test_warehouse_filter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "stock", state={"stock.warehouse": "wh-b"})
    assert list(at.dataframe[0].value["product"]) == ["Oil"]


def test_viewers_see_levels_but_no_editor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPSDASH_LOCAL_ROLE", "viewer")
    at = open_page(monkeypatch, tmp_path, "stock")
    assert not any(b.key == "stock.levels_save" for b in at.button)
    assert "setting reorder levels needs the operator role" in " ".join(i.value for i in at.info)


def test_empty_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "stock", seeded=False)
    assert "No source of this data is configured" in at.info[0].value
    assert {m.label: m.value for m in at.metric}["Items with no reorder level set"] == "0"
