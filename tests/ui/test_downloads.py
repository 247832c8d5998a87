"""Downloads from the UI: the whole filtered dataset equals `opsdash export` of the same filter; file names
say what and when; the page offers both the whole dataset and the rows shown."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from store.db import connect
from store.schema import migrate
from tests.conftest import suite_database
from ui import downloads

ROOT = Path(__file__).resolve().parents[2]
FILTER = {"currency": "EUR"}


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    path = suite_database(tmp_path / "cache.db")
    db = connect(path)
    migrate(db)
    rows = [{"calculated_at": f"2026-11-{day:02d}T10:00:00.000Z", "requested_by": "ops", "to_country": "DE",
             "currency": currency, "amount": amount, "rate": "19", "tax_amount": amount * 19 // 100,
             "status": "taxable"}
            for day, currency, amount in ((1, "EUR", 627224368), (2, "USD", 1000), (3, "EUR", 5), (4, "EUR", 99))]
    rows += [{**rows[0], "calculated_at": "2026-11-05T10:00:00.000Z", "amount": 70_000 + n} for n in range(120)]
    db["tax_calculations"].insert_all(rows)
    db.close()
    return path


def cli_export(db_path: str, fmt: str) -> bytes:
    env = {**os.environ, "OPSDASH_DB": str(db_path)}
    done = subprocess.run([sys.executable, "-m", "cli", "export", "tax_calculations", "--format", fmt,
                           "--filter", "currency=EUR", "--output", "-"],
                          cwd=ROOT, env=env, capture_output=True, check=True, timeout=120)
    return done.stdout


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_whole_dataset_download_equals_opsdash_export(db_path: str, fmt: str) -> None:
    ui_file = downloads.dataset_bytes(str(db_path), "tax_calculations", FILTER, fmt)
    assert ui_file == cli_export(db_path, fmt)
    if fmt == "csv":
        assert ui_file.count(b"\n") == 1 + 123  # every EUR row, not a page of 50
        assert b"6272243.68" in ui_file  # exact money


def test_whole_dataset_xlsx_has_the_same_cells_as_opsdash_export(db_path: str) -> None:
    def cells(content: bytes) -> list[tuple[object, ...]]:
        return list(load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True))

    assert cells(downloads.dataset_bytes(str(db_path), "tax_calculations", FILTER, "xlsx")) == \
        cells(cli_export(db_path, "xlsx"))


def test_file_names_carry_dataset_filter_and_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDASH_TIMEZONE", "Europe/Berlin")
    from services.settings import get_settings
    get_settings.cache_clear()
    at = datetime(2026, 11, 29, 9, 42, tzinfo=UTC)
    query = {"currency": "EUR", "due_date__gte": "2026-01-01", "source__in": ["quaderno", "qasida"]}
    assert downloads.file_name("receivables", query, "xlsx", at) == \
        "receivables_EUR_due-date-from-2026-01-01_quaderno_qasida_2026-11-29T1042.xlsx"
    assert downloads.file_name("receivables", {}, "csv", at, shown=True) == "receivables_shown_2026-11-29T1042.csv"
    assert downloads.filter_hint({"counterparty__contains": "ACME / Co"}) == "ACME-Co"


def test_the_cli_line_in_the_buttons_help_is_the_same_export() -> None:
    assert downloads.cli_command("orders", {"status": "PLANNED"}, "csv") == \
        "opsdash export orders --format csv --filter 'status=PLANNED' --output orders.csv"
    assert downloads.cli_command("orders", {"source__in": ["qargo"]}, "csv") is None  # no CLI form for a list


def test_the_tax_page_offers_all_rows_and_the_rows_shown(db_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from services.settings import get_settings

    monkeypatch.setenv("OPSDASH_DB", str(db_path))
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30)
    at.switch_page("pages/tax.py")
    at.run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download all 124 rows · CSV" in labels and "Rows shown · CSV" in labels, labels
