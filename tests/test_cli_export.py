"""`opsdash export` through a real subprocess, with OPSDASH_DB pointing at a seeded database."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from store.db import connect
from store.queries import minor_to_decimal
from store.schema import migrate
from tests.conftest import NewOpsdashDb
from tests.exports.test_export import INVOICES, seed

ROOT = Path(__file__).resolve().parents[1]
# invoice number -> exact amount, as every format must carry it
EXPECTED = {"Q-1": Decimal("1234.56"), "Q-2": Decimal("123.45"), "Q-3": Decimal(70000),
            "Q-4": Decimal("1234.567"), "-12.50": Decimal("0.05")}


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory, new_opsdash_db: NewOpsdashDb) -> str:
    path = new_opsdash_db(tmp_path_factory.mktemp("cli") / "cache.db")
    db = connect(path)
    migrate(db)
    seed(db)
    db.close()
    return path


def opsdash(db_path: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "OPSDASH_DB": str(db_path)}
    return subprocess.run([sys.executable, "-m", "cli", "export", *args], cwd=ROOT, env=env,
                          capture_output=True, timeout=120, check=False)


def amounts(data: bytes, fmt: str) -> dict[str, Decimal]:
    """invoice_number -> amount_due, whatever the format (Decimal equality ignores trailing zeros)."""
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(data.decode())))
    elif fmt == "json":
        rows = json.loads(data)
    elif fmt == "parquet":
        rows = pq.read_table(io.BytesIO(data)).to_pylist()
    else:
        header, *body = openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)
        rows = [dict(zip(header, r, strict=True)) for r in body]
        # the sheet is for people: the screen's headers (tests/exports/test_export.py)
        return {r["Invoice number"]: minor_to_decimal(r["Amount due (minor units)"], r["Currency"]) for r in rows}
    return {r["invoice_number"]: Decimal(r["amount_due"]) for r in rows}


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "json"])
@pytest.mark.parametrize("to_stdout", [False, True])
def test_export_each_format_to_file_and_stdout(db_path: str, tmp_path: Path, fmt: str, to_stdout: bool) -> None:
    target = tmp_path / f"out.{fmt}"
    result = opsdash(db_path, "invoices_outstanding", "--format", fmt, "--output",
                     "-" if to_stdout else str(target))
    assert result.returncode == 0, result.stderr.decode()
    data = result.stdout if to_stdout else target.read_bytes()
    assert amounts(data, fmt) == EXPECTED
    assert f"{len(INVOICES)} rows of invoices_outstanding" in result.stderr.decode()


def test_filter_option(db_path: str) -> None:
    result = opsdash(db_path, "orders", "--format", "json", "--output", "-", "--filter", "customer=Beta")
    assert result.returncode == 0, result.stderr.decode()
    assert [r["order_id"] for r in json.loads(result.stdout)] == ["o2"]
    bad = opsdash(db_path, "orders", "--format", "json", "--output", "-", "--filter", "nope=1")
    assert bad.returncode == 2
    assert b"cannot be filtered on 'nope'" in bad.stderr


def test_unknown_dataset_exits_2_with_the_names(db_path: str) -> None:
    result = opsdash(db_path, "invoices", "--format", "csv", "--output", "-")
    assert result.returncode == 2
    assert b"unknown dataset: invoices" in result.stderr
    assert b"invoices_outstanding" in result.stderr and b"stock_levels" in result.stderr
    assert result.stdout == b""
