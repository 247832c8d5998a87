"""The Stock page's reorder editor (issue 21): an incomplete row is named and nothing is saved; a level of 0
is a level; the count returned is what was saved."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from actions.reorder import save_levels
from figures import reorder
from tests.actions.conftest import OPERATOR
from tests.figures.test_reorder import seed


def test_an_incomplete_row_is_named_and_nothing_is_saved(db: Database) -> None:
    seed(db)
    save_levels(db, OPERATOR, [{"product_code": "NUT", "warehouse": "Brno", "reorder_level": 5}])
    edited = [{"product_code": "NUT", "warehouse": "Brno", "reorder_level": 7},
              {"product_code": "BOLT", "warehouse": "Praha", "reorder_level": None},  # level not filled in
              {"product_code": None, "warehouse": "Praha", "reorder_level": 3}]  # product not filled in
    with pytest.raises(reorder.ReorderLevelError) as caught:
        save_levels(db, OPERATOR, edited)
    assert caught.value.problems == ["row 2 (BOLT): reorder_level is missing", "row 3: product_code is missing"]
    assert [(r["product_code"], r["reorder_level"]) for r in reorder.rows(db)] == [("NUT", 5.0)]  # untouched


def test_a_level_of_zero_is_saved_and_the_count_is_what_was_saved(db: Database) -> None:
    seed(db)
    saved = save_levels(db, OPERATOR, [
        {"product_code": "NUT", "warehouse": "Brno", "reorder_level": 0, "lead_time_days": 0},
        {"product_code": "NUT", "warehouse": "Praha", "reorder_level": 4.0, "lead_time_days": None},
        {"product_code": None, "warehouse": None, "reorder_level": None, "lead_time_days": None}])  # blank row
    assert saved == 2 == len(reorder.rows(db))
    assert sorted((r["warehouse"], r["reorder_level"], r["lead_time_days"]) for r in reorder.rows(db)) == [
        ("01", 0.0, 0.0), ("02", 4.0, None)]
