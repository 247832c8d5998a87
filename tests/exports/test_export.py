"""Exports: every format read back equals the cache rows, money exact, formulas neutralised."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow.parquet as pq
import pytest
from sqlite_utils import Database

from exports.export import (
    ExportTargetError,
    export,
    export_bytes,
    export_rows,
    money_columns,
    money_value,
    neutralise,
)
from services.core.postgres import PgDatabase
from store.queries import CURRENCY_EXPONENTS, format_minor, iter_dataset
from tests.conftest import NOW

SYNCED = "2025-03-01T00:00:00.000Z"
# (number, contact, currency, amount_due minor units, due date): a yen and a
# dinar amount (0 and 3 decimals), and names a spreadsheet would run as formulas.
INVOICES = [
    ("Q-1", "=HYPERLINK(\"http://evil\",\"x\")", "EUR", 123456, "2025-02-01"),
    ("Q-2", "@SUM(A1:A2)", "EUR", 12345, "2025-03-20"),  # outstanding = something due (> 0, issue 9)
    ("Q-3", "+31 20 555", "JPY", 70000, "2025-01-15"),
    ("Q-4", "\tTabbed Ltd", "KWD", 1234567, "2025-02-20"),
    ("-12.50", "Plain Ltd", "USD", 5, None),
]
ORDERS = [("o1", "ORD-1", "R-1", "ACME", "PLANNED", "2025-03-01", "2025-03-05"),
          ("o2", "ORD-2", "-R-2", "Beta", "COMPLETED", "2025-03-02", "2025-03-04")]


def seed(db: Database) -> None:
    """Rows behind `invoices_outstanding` (Quaderno) and `orders` (Qargo), inserted directly."""
    db.conn.executemany(
        "INSERT INTO quaderno_invoices (invoice_id, number, contact_name, currency, amount_due, state,"
        " due_date, synced_at) VALUES (?, ?, ?, ?, ?, 'outstanding', ?, ?)",
        [(f"id{i}", n, c, cur, amt, due, SYNCED) for i, (n, c, cur, amt, due) in enumerate(INVOICES)])
    db.conn.executemany(
        "INSERT INTO qargo_orders (order_id, order_identifier, reference, customer, status, pickup_date,"
        " delivery_date, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(*o, SYNCED) for o in ORDERS])


@pytest.fixture
def seeded(db: Database) -> Database:
    seed(db)
    return db


def cache_rows(db: Database, dataset: str = "invoices_outstanding") -> list[dict[str, Any]]:
    return list(iter_dataset(db, dataset, now=NOW))


def run(db: Database, fmt: str, dataset: str = "invoices_outstanding") -> bytes:
    out = io.BytesIO()
    count = export(db, dataset, fmt, out, now=NOW)
    assert count == len(cache_rows(db, dataset))
    return out.getvalue()


def as_text(value: Any) -> str:
    return "" if value is None else str(value)


def test_csv_reads_back_as_the_cache_rows_with_exact_money(seeded: Database) -> None:
    got = list(csv.DictReader(io.StringIO(run(seeded, "csv").decode())))
    expected = [{c: as_text(neutralise(v)) for c, v in row.items()}
                | {"amount_due": format_minor(row["amount_due"], row["currency"])}
                for row in cache_rows(seeded)]
    assert got == expected
    assert {r["invoice_number"]: r["amount_due"] for r in got}["Q-2"] == "123.45"
    assert {r["invoice_number"]: r["amount_due"] for r in got}["Q-4"] == "1234.567"


def test_json_is_an_array_of_row_objects_with_money_as_exact_text(seeded: Database) -> None:
    got = json.loads(run(seeded, "json"))
    expected = [row | {"amount_due": format_minor(row["amount_due"], row["currency"])}
                for row in cache_rows(seeded)]
    assert got == expected
    assert {r["invoice_number"]: r["amount_due"] for r in got}["Q-3"] == "70000"  # JPY: no decimals


def test_parquet_reads_back_with_decimal_money(seeded: Database) -> None:
    table = pq.read_table(io.BytesIO(run(seeded, "parquet")))
    assert str(table.schema.field("amount_due").type) == "decimal128(38, 3)"
    expected = [row | {"amount_due": money_value(row["amount_due"], row["currency"])}
                for row in cache_rows(seeded)]
    assert table.to_pylist() == expected
    assert str(table.schema.field("days_overdue").type) == "int64"


def test_xlsx_has_number_cells_and_an_exact_minor_column(seeded: Database) -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(run(seeded, "xlsx"))).active
    header, *body = [[c.value for c in row] for row in sheet.iter_rows()]
    # the screen's headers, its three most useful columns first (counterparty, amount, days overdue)
    assert header == ["Counterparty", "Amount due", "Amount due (minor units)", "Days overdue", "Source",
                      "Invoice number", "Currency", "Due date", "Status", "Direction"]
    for row, values in zip(cache_rows(seeded), body, strict=True):
        got = dict(zip(header, values, strict=True))
        exact = money_value(row["amount_due"], row["currency"])  # decimal text in the dataset
        assert exact is not None
        assert got["Amount due (minor units)"] == int(exact.scaleb(CURRENCY_EXPONENTS.get(row["currency"], 2)))
        assert Decimal(str(got["Amount due"])) == exact
        assert got["Currency"] == row["currency"]  # the currency column is kept
        assert got["Counterparty"] == neutralise(row["counterparty"])
        assert got["Days overdue"] == row["days_overdue"]
    formats = {r[5].value: r[1].number_format for r in sheet.iter_rows(min_row=2)}
    assert (formats["Q-1"], formats["Q-3"], formats["Q-4"]) == ("#,##0.00", "#,##0", "#,##0.000")


def test_xlsx_speaks_like_the_screen(seeded: Database) -> None:
    """Issue 21: headers as the screen labels them, Yes/No, statuses and vendors in words, dates as dates."""
    sheet = openpyxl.load_workbook(io.BytesIO(run(seeded, "xlsx", "orders"))).active
    header, *body = [[c.value for c in row] for row in sheet.iter_rows()]
    assert header == ["Reference", "Status", "Planned delivery", "ETA", "Source", "Order identifier", "Customer",
                      "Order date", "Late", "Last event at", "Last event type", "Synced at", "Expected late",
                      "Order ID"]  # the id the screen hides: last
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    assert rows["R-1"]["Status"] == "Planned" and rows["'-R-2"]["Status"] == "Completed"  # not PLANNED
    assert (rows["R-1"]["Late"], rows["'-R-2"]["Late"], rows["R-1"]["Expected late"]) == ("Yes", "No", "No")
    assert rows["R-1"]["Source"] == "Qargo"
    assert rows["R-1"]["Planned delivery"] == datetime(2025, 3, 5)  # a real date cell
    assert rows["R-1"]["ETA"] is None  # a blank stays an empty cell, never "None"
    cells = {c.column_letter: c for c in next(sheet.iter_rows(min_row=2))}
    assert cells["C"].number_format == "yyyy-mm-dd" and cells["C"].is_date


def test_xlsx_times_are_in_the_business_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDASH_TIMEZONE", "Europe/Berlin")
    from services.settings import get_settings
    get_settings.cache_clear()
    try:
        data = export_bytes([{"at": "2026-11-29T09:42:00+00:00", "action": "qargo.upload_orders.queue"}],
                            ("at", "action"), "xlsx")
    finally:
        get_settings.cache_clear()
    header, row = openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)
    assert header == ("When", "Action")
    assert row[0] == datetime(2026, 11, 29, 10, 42)  # 09:42 UTC is 10:42 in Berlin (CET)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_machine_formats_keep_stable_names_and_raw_values(seeded: Database, fmt: str) -> None:
    """Issue 21: CSV, Parquet and JSON are for machines: snake_case names in the dataset's order, raw values."""
    data = run(seeded, fmt, "orders")
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(data.decode())))
        names = list(rows[0])
    elif fmt == "json":
        rows = json.loads(data)
        names = list(rows[0])
    else:
        table = pq.read_table(io.BytesIO(data))
        rows, names = table.to_pylist(), table.column_names
    assert names == ["source", "order_id", "order_identifier", "reference", "customer", "status", "order_date",
                     "delivery_date", "late", "last_event_at", "last_event_type", "synced_at", "eta_date",
                     "expected_late"]
    got = {r["order_id"]: r for r in rows}
    assert (got["o1"]["status"], got["o1"]["source"], got["o1"]["delivery_date"]) == ("PLANNED", "qargo", "2025-03-05")
    assert [str(got[o]["late"]) for o in ("o1", "o2")] == ["1", "0"]  # 0/1, not Yes/No


def test_xlsx_minor_column_stays_exact_beyond_float_precision() -> None:
    huge = 123456789012345678  # 18 digits: a double cannot hold it
    rows = [{"currency": "EUR", "amount": huge}]
    sheet = openpyxl.load_workbook(io.BytesIO(export_bytes(rows, ("currency", "amount"), "xlsx"))).active
    assert [c.value for c in list(sheet.iter_rows())[1]][2] == str(huge)  # text: never rounded


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_text_is_neutralised_but_numbers_are_not(seeded: Database, fmt: str) -> None:
    cells = _spreadsheet_cells(run(seeded, fmt), fmt)
    assert cells["Q-1"]["counterparty"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert cells["Q-2"]["counterparty"] == "'@SUM(A1:A2)"
    assert cells["Q-3"]["counterparty"] == "'+31 20 555"
    assert cells["Q-4"]["counterparty"] == "'\tTabbed Ltd"
    assert cells["-12.50"]["counterparty"] == "Plain Ltd"  # the numeric-looking text is kept as is
    assert str(cells["Q-2"]["amount_due"]) == "123.45"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_negative_amount_stays_a_number(fmt: str) -> None:
    rows = [{"invoice_number": "CN-1", "currency": "EUR", "amount_due": -12345}]
    cells = _spreadsheet_cells(export_bytes(rows, ("invoice_number", "currency", "amount_due"), fmt), fmt)
    assert str(cells["CN-1"]["amount_due"]) == "-123.45"


_MACHINE_NAMES = {"Invoice number": "invoice_number", "Counterparty": "counterparty", "Amount due": "amount_due"}


def _spreadsheet_cells(data: bytes, fmt: str) -> dict[str, dict[str, Any]]:
    """Rows by invoice number, keyed by machine names (the XLSX headers are the screen's labels)."""
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(data.decode())))
    else:
        header, *body = openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)
        names = [_MACHINE_NAMES.get(h, h) for h in header]
        rows = [dict(zip(names, r, strict=True)) for r in body]
    return {r["invoice_number"]: r for r in rows}


def test_neutralise_rules() -> None:
    assert [neutralise(v) for v in ("=1+2", "-1+2", "\rx", "-12.50", "+5", "ok", -5, None)] == \
        ["'=1+2", "'-1+2", "'\rx", "-12.50", "+5", "ok", -5, None]


def test_json_does_not_neutralise(seeded: Database) -> None:
    got = {r["invoice_number"]: r for r in json.loads(run(seeded, "json"))}
    assert got["Q-1"]["counterparty"].startswith("=HYPERLINK")


def test_filters_and_other_datasets(seeded: Database) -> None:
    out = io.BytesIO()
    assert export(seeded, "orders", "json", out, filters={"customer": "Beta"}, now=NOW) == 1
    assert [r["reference"] for r in json.loads(out.getvalue())] == ["-R-2"]
    assert money_columns(("currency", "amount", "tax_amount", "rate")) == ("amount", "tax_amount")
    assert money_columns(("amount", "status")) == ()


def test_export_to_a_path_leaves_no_partial_file(seeded: Database, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    assert export(seeded, "orders", "csv", target, now=NOW) == 2
    assert target.read_text().splitlines()[0].startswith("source,order_id")
    with pytest.raises(ValueError, match="cannot be filtered"):
        export(seeded, "orders", "csv", tmp_path / "bad.csv", filters={"nope": 1}, now=NOW)
    database = [] if isinstance(seeded, PgDatabase) else ["cache.db", "cache.db-shm", "cache.db-wal"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [*database, "out.csv"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "json"])
def test_empty_dataset_is_a_valid_file(db: Database, fmt: str) -> None:
    data = run(db, fmt, "invoices_outstanding")
    if fmt == "json":
        assert json.loads(data) == []
    elif fmt == "parquet":
        assert pq.read_table(io.BytesIO(data)).num_rows == 0
    elif fmt == "csv":
        assert data.decode().strip() == "source,invoice_number,counterparty,currency,amount_due,due_date," \
            "days_overdue,status,direction"
    else:
        assert openpyxl.load_workbook(io.BytesIO(data)).active.max_row == 1


def test_unknown_dataset_and_format(db: Database) -> None:
    with pytest.raises(KeyError, match="known datasets"):
        export(db, "nope", "csv", io.BytesIO())
    with pytest.raises(ValueError, match="unknown export format"):
        export(db, "orders", "xml", io.BytesIO())


# --- where an export may write (issue 11, point 6) ------------------------------------------------

def _no_part_left(directory: Path) -> None:
    assert [p.name for p in directory.iterdir() if p.name.endswith(".part")] == []


def test_export_replaces_an_existing_regular_file_and_keeps_no_part(seeded: Database, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    assert export(seeded, "orders", "json", target, now=NOW) == 2
    assert sorted(r["reference"] for r in json.loads(target.read_text())) == ["-R-2", "R-1"]
    _no_part_left(tmp_path)


@pytest.mark.parametrize("kind", ["directory", "fifo", "symlink", "device"])
def test_export_refuses_what_is_not_a_regular_file(seeded: Database, tmp_path: Path, kind: str) -> None:
    target, real = tmp_path / "target", tmp_path / "real.csv"
    if kind == "directory":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        real.write_text("keep me")
        target.symlink_to(real)
    else:
        target = Path("/dev/null")
    before = target.lstat()
    with pytest.raises(ExportTargetError, match={"directory": "is a directory", "fifo": "named pipe",
                                                 "symlink": "symbolic link", "device": "character device"}[kind]):
        export(seeded, "orders", "csv", target, now=NOW)
    after = target.lstat()
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)  # not replaced by a file
    if kind == "symlink":
        assert real.read_text() == "keep me"
    _no_part_left(tmp_path)


def test_force_writes_through_a_symlink_and_into_a_device(seeded: Database, tmp_path: Path) -> None:
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("")
    link.symlink_to(real)
    assert export(seeded, "orders", "csv", link, now=NOW, force=True) == 2
    assert link.is_symlink() and real.read_text().startswith("source,order_id")
    assert export(seeded, "orders", "csv", "/dev/null", now=NOW, force=True) == 2
    _no_part_left(tmp_path)


def test_missing_directory_is_a_clear_error(seeded: Database, tmp_path: Path) -> None:
    with pytest.raises(ExportTargetError, match="does not exist"):
        export(seeded, "orders", "csv", tmp_path / "nope" / "out.csv", now=NOW)


def test_a_failure_mid_write_leaves_neither_target_nor_part(seeded: Database, tmp_path: Path) -> None:
    def rows():
        yield {"a": 1}
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        export_rows(rows(), ("a",), "csv", tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == [p for p in tmp_path.iterdir() if p.name.startswith("cache.db")]
