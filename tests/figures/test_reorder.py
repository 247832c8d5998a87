"""Reorder levels (ours): CSV import all-or-nothing with every bad line named, export, roles, audit, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_utils import Database

from actions.reorder import export_levels, import_levels, save_levels
from actions.roles import Actor, PermissionDenied
from figures import reorder
from store.queries import query_dataset
from store.schema import session
from store.store import upsert_records

ROOT = Path(__file__).resolve().parents[2]
S = "2025-03-01T00:00:00.000Z"
OPERATOR, VIEWER = Actor("olga", "operator"), Actor("victor", "viewer")


def seed(db: Database) -> None:
    upsert_records(db, "qasida_warehouses", [
        {"warehouse_id": "11", "code": "01", "name": "Brno", "synced_at": S},
        {"warehouse_id": "12", "code": "02", "name": "Praha", "synced_at": S}], "warehouse_id")
    upsert_records(db, "qasida_products", [
        {"product_id": "p1", "code": "NUT", "name": "Nut", "synced_at": S}], "product_id")
    upsert_records(db, "qasida_stock_cards", [
        {"stock_card_id": f"s{w}", "warehouse_id": w, "warehouse": n, "product_id": "p1", "product": "Nut",
         "quantity": 30.0, "reserved": 0.0, "available": 30.0, "synced_at": S}
        for w, n in (("11", "Brno"), ("12", "Praha"))], "stock_card_id")


GOOD = b"product_code,warehouse,reorder_level\nNUT,,20\nNUT,praha,40.5\n"


def test_import_sets_levels_and_a_per_warehouse_row_wins(db: Database) -> None:
    seed(db)
    assert import_levels(db, OPERATOR, GOOD) == 2
    levels = {r["warehouse"]: r["reorder_level"] for r in query_dataset(db, "stock_levels").rows}
    assert levels == {"Brno": 20.0, "Praha": 40.5}
    entry = db.conn.execute("SELECT actor, action, result FROM audit_log").fetchall()
    assert entry == [("olga", "reorder_levels.import", "2 levels imported")]


def test_every_bad_row_is_reported_and_nothing_is_imported(db: Database) -> None:
    seed(db)
    import_levels(db, OPERATOR, b"product_code,warehouse,reorder_level\nNUT,,7\n")
    bad = (b"product_code,warehouse,reorder_level,lead_time_days\n"
           b"NUT,01,10,3\n"          # line 2: good
           b",01,10,\n"              # line 3: no product code
           b"NUT,Ostrava,10,\n"      # line 4: unknown warehouse
           b"NUT,02,-1,\n"           # line 5: negative
           b"NUT,02,ten,x\n"         # line 6: not numbers
           b"NUT,1,5,\n"             # line 7: warehouse given by number... "1" is neither code nor id
           b"NUT,01,12,\n")          # line 8: repeats line 2
    with pytest.raises(reorder.ReorderLevelError) as caught:
        import_levels(db, OPERATOR, bad)
    assert caught.value.problems == [
        "line 3: product_code is missing",
        "line 4: warehouse 'Ostrava' is not a known warehouse number or name",
        "line 5: reorder_level '-1' must be zero or more",
        "line 6: reorder_level 'ten' is not a number",
        "line 6: lead_time_days 'x' is not a number",
        "line 7: warehouse '1' is not a known warehouse number or name",
        "line 8: repeats the product and warehouse of line 2",
    ]
    assert reorder.rows(db)[0]["reorder_level"] == 7.0 and len(reorder.rows(db)) == 1  # untouched
    assert db.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 1  # only the good import


@pytest.mark.parametrize(("data", "problem"), [
    (b"code,warehouse,level\nNUT,,1\n", "line 1: the header needs product_code, warehouse, reorder_level"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_a_bad_file_is_refused_whole(db: Database, data: bytes, problem: str) -> None:
    with pytest.raises(reorder.ReorderLevelError, match=problem):
        import_levels(db, OPERATOR, data)


def test_export_round_trips_and_names_warehouses_by_number(db: Database) -> None:
    seed(db)
    import_levels(db, OPERATOR, b"product_code,warehouse,reorder_level,lead_time_days\nNUT,,20,\nNUT,Praha,40.5,3\n")
    text = export_levels(db, VIEWER)
    assert text == "product_code,warehouse,reorder_level,lead_time_days\nNUT,,20,\nNUT,02,40.5,3\n"
    db.execute("DELETE FROM reorder_levels")
    import_levels(db, OPERATOR, text.encode())
    assert export_levels(db, VIEWER) == text


def test_viewers_may_export_but_not_set_levels(db: Database) -> None:
    seed(db)
    with pytest.raises(PermissionDenied):
        import_levels(db, VIEWER, GOOD)
    with pytest.raises(PermissionDenied):
        save_levels(db, VIEWER, [])
    assert reorder.rows(db) == []


def test_the_stock_page_editor_saves_the_whole_table(db: Database) -> None:
    seed(db)
    import_levels(db, OPERATOR, GOOD)
    saved = save_levels(db, OPERATOR, [
        {"product_code": "NUT", "warehouse": "", "reorder_level": 25, "lead_time_days": None},
        {"product_code": None, "warehouse": None, "reorder_level": None, "lead_time_days": None}])  # blank row
    assert saved == 1
    assert [(r["warehouse"], r["reorder_level"]) for r in reorder.rows(db)] == [("", 25.0)]  # Praha row removed
    with pytest.raises(reorder.ReorderLevelError, match=r"row 1 \(NUT\): reorder_level is missing"):
        save_levels(db, OPERATOR, [{"product_code": "NUT", "warehouse": "", "reorder_level": None}])
    assert db.conn.execute("SELECT action FROM audit_log ORDER BY id").fetchall()[-1] == ("reorder_levels.edit",)


def test_items_without_a_level_are_counted(db: Database) -> None:
    seed(db)
    assert reorder.without_level(db) == 2
    import_levels(db, OPERATOR, b"product_code,warehouse,reorder_level\nNUT,Brno,5\n")
    assert reorder.without_level(db) == 1


def _cli(db_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPSDASH_DB": str(db_path)}
    return subprocess.run([sys.executable, "-m", "cli", "reorder-levels", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_cli_import_and_export(db_path: Path, tmp_path: Path) -> None:
    with session(db_path) as db:
        seed(db)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(GOOD)
    bad.write_bytes(b"product_code,warehouse,reorder_level\nNUT,,x\nNUT,Nowhere,1\n")
    done = _cli(db_path, "import", str(good))
    assert done.returncode == 0 and "2 reorder levels imported" in done.stderr
    refused = _cli(db_path, "import", str(bad))
    assert refused.returncode == 2
    assert "line 2: reorder_level 'x' is not a number" in refused.stderr
    assert "line 3: warehouse 'Nowhere'" in refused.stderr and "Traceback" not in refused.stderr
    exported = _cli(db_path, "export")
    assert exported.returncode == 0
    assert exported.stdout == "product_code,warehouse,reorder_level,lead_time_days\nNUT,,20,\nNUT,02,40.5,\n"
    missing = _cli(db_path, "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
