"""The streaming XLSX writer: what openpyxl reads back equals what was written."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from exports.xlsx import Number, XlsxWriter, column_letter


def write(rows: list[list[Any]], formats: tuple[str, ...] = ()) -> tuple[bytes, list[int]]:
    out = io.BytesIO()
    writer = XlsxWriter(out)
    styles = [writer.style(f) for f in formats]
    writer.write_rows(rows)
    writer.close()
    return out.getvalue(), styles


def read(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data)).active


def values(data: bytes) -> list[tuple[Any, ...]]:
    return list(read(data).iter_rows(values_only=True))


@pytest.mark.parametrize("value", [
    "plain", "<a href=\"x\">&amp; 'q'</a>", "  leading", "trailing  ", " ", "héllo ✓ 日本 🚀",
    "tab\tand\nnewline", "'=SUM(A1)", "",
])
def test_strings_read_back_unchanged(value: str) -> None:
    assert values(write([["x", value, "y"]])[0]) == [("x", value, "y")]


def test_control_characters_xml_cannot_carry_are_stripped() -> None:
    assert values(write([["a\x00b\x07c\x1fd\ufffe", "keep\r\x0bit"]])[0]) == [("abcd", "keep\rit")]


def test_numbers_are_exact_and_booleans_stay_booleans() -> None:
    row = [0, -7, 2**53 - 1, Decimal("-123.45"), Decimal("1234.567"), Decimal(70000), True, False, 1.5]
    got = values(write([row])[0])[0]
    assert got[:3] == (0, -7, 2**53 - 1)
    assert [Decimal(str(v)) for v in got[3:6]] == row[3:6]
    assert got[6:] == (True, False, 1.5)


def test_decimal_is_written_as_its_exact_text_not_through_float() -> None:
    data, _ = write([[Decimal("0.1"), Decimal("12345678901234567.89")]])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>0.1</v>" in sheet and "<v>12345678901234567.89</v>" in sheet


def test_none_leaves_a_gap_and_later_cells_keep_their_columns() -> None:
    rows = [[None, "b", None, None, 5, None], ["a", None, "c"], [None], []]
    got = values(write(rows)[0])
    assert got == [(None, "b", None, None, 5), ("a", None, "c", None, None)]  # openpyxl pads to max
    assert read(write(rows)[0]).cell(row=1, column=5).value == 5


def test_many_columns_go_past_z() -> None:
    sheet = read(write([[f"c{i}" for i in range(30)], [None] * 29 + [30]])[0])
    assert sheet["AD1"].value == "c29" and sheet["AD2"].value == 30 and sheet.max_column == 30
    assert [column_letter(i) for i in (0, 25, 26, 29, 701, 702)] == ["A", "Z", "AA", "AD", "ZZ", "AAA"]


def test_number_formats_are_applied_per_style() -> None:
    formats = ("#,##0.00", "#,##0", "0.000")
    data, styles = write([[Number(Decimal("-123.45"), 1), Number(70000, 2), Number(Decimal("1.234"), 3), 4]],
                    formats)
    cells = next(read(data).iter_rows())
    assert [c.number_format for c in cells] == ["#,##0.00", "#,##0", "0.000", "General"]
    assert [c.value for c in cells][1:] == [70000, 1.234, 4]
    assert str(cells[0].value) == "-123.45"
    assert styles == [1, 2, 3]


def test_style_is_registered_once_per_format() -> None:
    writer = XlsxWriter(io.BytesIO())
    assert [writer.style(f) for f in ("0.00", "0", "0.00")] == [1, 2, 1]
    writer.close()


def test_empty_workbook_is_valid_and_rows_stream_in_batches() -> None:
    assert values(write([])[0]) == []
    rows = [[i, f"row {i}"] for i in range(2_500)]  # spans several internal flushes
    assert values(write(rows)[0]) == [tuple(r) for r in rows]


def test_parts_are_a_standard_package() -> None:
    names = set(zipfile.ZipFile(io.BytesIO(write([["x"]])[0])).namelist())
    assert names == {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
                     "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/worksheets/sheet1.xml"}
    assert openpyxl.load_workbook(io.BytesIO(write([["x"]])[0])).sheetnames == ["export"]


def test_a_sheet_for_people_has_a_frozen_filtered_header_and_widths() -> None:
    """Issue 21: the header stays on screen, every column filters, widths follow the header's text."""
    out = io.BytesIO()
    writer = XlsxWriter(out, header=["Invoice number", "Amount due", "A very long column header indeed, yes"])
    writer.write_rows([["INV-1", 5, "x"], ["INV-2", 7, "y"]])
    writer.close()
    sheet = read(out.getvalue())
    assert next(sheet.iter_rows(values_only=True)) == ("Invoice number", "Amount due",
                                                   "A very long column header indeed, yes")
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:C3"
    assert [sheet.column_dimensions[c].width for c in "ABC"] == [18, 14, 40]  # len + 4, at most 40
