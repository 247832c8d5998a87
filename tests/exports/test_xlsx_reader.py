"""exports/xlsx_reader.py: the archive checked before openpyxl opens it, rows streamed with caps."""

from __future__ import annotations

import io
import zipfile

import pytest

from exports import xlsx_reader
from exports.xlsx_reader import XlsxRefused, check_archive, sheet_rows
from tests.reliability.test_hostile_files import workbook


def cell(ref: str, value: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'.encode()


def test_rows_come_numbered_and_cut_to_max_cols() -> None:
    data = workbook(b'<row r="1">' + cell("A1", "a") + cell("B1", "b") + cell("C1", "c") + b"</row>"
                    + b'<row r="3">' + cell("B3", "x") + b"</row>", dimension="A1:C3")
    assert list(sheet_rows(data, max_rows=10, max_cols=2)) == [(1, ("a", "b")), (2, (None, None)), (3, (None, "x"))]


def test_more_rows_than_max_rows_is_refused_blank_rows_included() -> None:
    data = workbook(b'<row r="1">' + cell("A1", "a") + b"</row>" + b'<row r="5">' + cell("A5", "e") + b"</row>",
                    dimension="A1:A5")
    rows = sheet_rows(data, max_rows=4, max_cols=1)
    assert [next(rows) for _ in range(4)] == [(1, ("a",)), (2, (None,)), (3, (None,)), (4, (None,))]
    with pytest.raises(XlsxRefused, match="more than 4 rows"):
        next(rows)


def test_too_many_parts_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_reader, "MAX_PARTS", 3)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in range(4):
            archive.writestr(f"part{n}.xml", "<x/>")
    with pytest.raises(XlsxRefused, match="the workbook has 4 parts; at most 3"):
        check_archive(out.getvalue())


def test_expansion_is_summed_over_every_part(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_reader, "MAX_EXPANDED", 2_000_000)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(3):
            archive.writestr(f"part{n}.xml", "<x>" + "y" * 999_000 + "</x>")  # each under the 1 MiB ratio floor
    with pytest.raises(XlsxRefused, match="expands to 3 MB; at most 1 MB"):
        check_archive(out.getvalue())


def test_not_a_zip() -> None:
    with pytest.raises(XlsxRefused, match="not a readable .xlsx workbook"):
        check_archive(b"just text")
