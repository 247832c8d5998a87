"""Roles on the command line as in the UI (issue 22): `OPSDASH_LOCAL_ROLE=viewer` refuses operator actions with
exit 2 and one clear line, before the file is read or anything is queued or sent; reading stays allowed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import cli
from services.settings import get_settings
from store.schema import session

OPERATOR_ACTIONS = [
    (["upload-orders", "orders.csv"], "uploading orders to Qargo"),
    (["validate-tax-ids", "ids.csv"], "validating tax IDs"),
    (["reorder-levels", "import", "levels.csv"], "setting reorder levels"),
]


@pytest.fixture
def viewer(tmp_path: Path, db_path: Path | str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path | str]:
    db = db_path  # migrated: a file, or with --db=postgresql a PostgreSQL database
    monkeypatch.chdir(tmp_path)
    for name in ("QARGO_BASE_URL", "OPSDASH_ROLES", "OPSDASH_WEBHOOK_USER", "OPSDASH_WEBHOOK_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPSDASH_DB", str(db))
    monkeypatch.setenv("QARGO_BASE_URL", "http://127.0.0.1:9/qargo")  # never reached
    monkeypatch.setenv("OPSDASH_LOCAL_ROLE", "viewer")
    monkeypatch.setenv("OPSDASH_LOCAL_USER", "kiosk")
    (tmp_path / "orders.csv").write_text("order_identifier,customer\nSO-1,Acme\n")
    (tmp_path / "ids.csv").write_text("country,tax_id\nDE,DE123456789\n")
    (tmp_path / "levels.csv").write_text("product_code,warehouse,reorder_level\nP-1,WH-1,5\n")
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


@pytest.mark.parametrize(("argv", "action"), OPERATOR_ACTIONS, ids=[a[0] for a, _ in OPERATOR_ACTIONS])
def test_a_viewer_is_refused_operator_actions(viewer: Path | str, capsys, argv: list[str], action: str) -> None:
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert err[1] == (f"  - kiosk is a viewer: {action} needs the operator role; ask an admin to grant it "
                      "(OPSDASH_LOCAL_ROLE)")
    assert len(err) == 2 and captured.out == ""  # refused before the file was read
    with session(viewer) as db:
        assert db.execute("SELECT count(*) FROM jobs").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM reorder_levels").fetchone()[0] == 0


def test_a_viewer_still_reads_and_exports(viewer: Path | str, capsys) -> None:
    assert cli.main(["reorder-levels", "export"]) == 0
    assert cli.main(["export", "orders", "--format", "csv", "--output", "-"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("product_code,warehouse")


def test_an_operator_gets_past_the_role_check(viewer: Path | str, monkeypatch, capsys) -> None:
    monkeypatch.setenv("OPSDASH_LOCAL_ROLE", "operator")
    assert cli.main(["reorder-levels", "import", "levels.csv"]) == 2  # the empty cache knows no warehouse WH-1
    err = capsys.readouterr().err
    assert "warehouse 'WH-1' is not a known warehouse" in err and "viewer" not in err  # the file was read
