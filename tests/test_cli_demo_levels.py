"""`opsdash demo` imports the sandbox world's planning sheet as reorder levels, once (issue 21: the demo's
Overview read "Stock below reorder level 0 · 480 with no level set")."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli_demo import _install_demo_reorder_levels
from sandbox.world import World
from store.schema import session
from tests.conftest import NewOpsdashDb


def test_the_demo_sets_each_products_level_once_and_keeps_later_edits(tmp_path: Path,
                                                                     new_opsdash_db: NewOpsdashDb) -> None:
    path = new_opsdash_db(tmp_path / "demo.db")
    args = argparse.Namespace(seed=7, scale="small", factor=0.25)
    products = World(seed=7, scale="small", factor=0.25).products
    _install_demo_reorder_levels(path, args)
    with session(path) as db:
        levels = dict(db.execute("SELECT product_code, reorder_level FROM reorder_levels WHERE warehouse_id = ''"))
        assert levels == {p.sku: p.reorder_threshold for p in products}
        assert db.execute("SELECT actor, action, target FROM audit_log").fetchall() == [
            ("demo", "reorder_levels.import", "the demo's planning sheet")]
        db.execute("UPDATE reorder_levels SET reorder_level = 999 WHERE product_code = ?", [products[0].sku])
    _install_demo_reorder_levels(path, args)  # a resumed demo keeps what staff edited
    with session(path) as db:
        assert db.execute("SELECT reorder_level FROM reorder_levels WHERE product_code = ?",
                          [products[0].sku]).fetchone()[0] == 999
        assert db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 1
