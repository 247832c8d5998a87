"""A minimal streaming XLSX (SpreadsheetML) writer: one sheet, inline strings, styled numbers.

openpyxl builds a cell object per value and is ~40 s for 200k export rows; this writes the sheet
XML as text straight into a deflated zip entry, a batch of rows at a time, never holding them all.

Values: `str` -> inline string (XML 1.0-illegal characters stripped), `bool` -> boolean,
`int`/`Decimal`/`float` -> number written as its exact text (a Decimal never goes through float), `Number`
-> a number with a number format from `style()`, `None` -> no cell; anything else -> its text.
Cells carry a reference (`r="C7"`) only after a skipped cell: readers count unreferenced cells
from the previous one (ECMA-376 part 1, 18.3.1.4 `r` is optional), which saves time and bytes.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from math import isfinite
from typing import IO, Any, BinaryIO, NamedTuple

MAX_ROWS = 1_048_576  # Excel's sheet limit: a longer sheet opens truncated, so refuse it
_FLUSH_ROWS = 1_000  # rows per compressed write: few zip calls, small buffers
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_STATIC = {
    "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/></Types>',
    "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    f'relationships"><Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
}


class Number(NamedTuple):
    """A number shown with a number format: `style` comes from `XlsxWriter.style`."""

    value: int | Decimal
    style: int


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, 29 -> AD."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def text(value: str) -> str:
    """Escaped XML content; control characters XML 1.0 cannot carry are dropped."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if not value.isprintable():  # cheap test first: most text is clean
        value = _ILLEGAL.sub("", value).replace("\r", "&#13;")  # a raw \r would read back as \n
    return value


def _string_cell(ref: str, value: str) -> str:
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f'<c{ref} t="inlineStr"><is><t{space}>{text(value)}</t></is></c>'


def _cell(ref: str, value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _string_cell(ref, value)
    if kind is Number:
        return f'<c{ref} s="{value.style}"><v>{value.value}</v></c>'
    if kind is bool:
        return f'<c{ref} t="b"><v>{int(value)}</v></c>'
    if kind is int or (kind is Decimal and value.is_finite()) or (kind is float and isfinite(value)):
        return f"<c{ref}><v>{value}</v></c>"  # str() of a Decimal is exact; "1E+3" is valid too
    return _string_cell(ref, str(value))


class XlsxWriter:
    """Write rows into one sheet of an XLSX file on `out`; call `close()` to finish the file."""

    def __init__(self, out: BinaryIO | IO[bytes], compresslevel: int = 1,
                 header: Sequence[str] | None = None) -> None:
        """With `header` (a sheet for people, issue 21): that row first, frozen while scrolling, with an
        autofilter over the data and each column as wide as its header (10 to 40 characters)."""
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        for name, xml in _STATIC.items():
            self._zip.writestr(name, _xml(xml))
        self._zip.writestr("xl/workbook.xml", _xml(
            f'<workbook {_NS} xmlns:r="{_REL}"><sheets>'
            '<sheet name="export" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w")
        self._header = list(header or ())
        self._sheet.write(_xml(f"<worksheet {_NS}>{_frozen_header(self._header)}<sheetData>"))
        self._formats: dict[str, int] = {}
        self._letters: list[str] = []
        self._pending: list[str] = []
        self._rows = 0
        if self._header:
            self.write_rows([self._header])

    def style(self, number_format: str) -> int:
        """The style index of a number format, registered on first use."""
        return self._formats.setdefault(number_format, len(self._formats) + 1)

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            self._rows += 1
            if self._rows > MAX_ROWS:
                raise ValueError(f"an XLSX sheet holds at most {MAX_ROWS:,} rows: filter the export")
            self._pending.append(self._row(values))
            if len(self._pending) >= _FLUSH_ROWS:
                self._flush()

    def _row(self, values: Sequence[Any]) -> str:
        while len(self._letters) < len(values):
            self._letters.append(column_letter(len(self._letters)))
        cells, gap, row = [f'<row r="{self._rows}">'], False, self._rows
        for index, value in enumerate(values):
            if value is None:
                gap = True
            else:
                cells.append(_cell(f' r="{self._letters[index]}{row}"' if gap else "", value))
                gap = False
        cells.append("</row>")
        return "".join(cells)

    def _flush(self) -> None:
        self._sheet.write("".join(self._pending).encode())
        self._pending.clear()

    def close(self) -> None:
        self._flush()
        last = f"{column_letter(len(self._header) - 1)}{max(self._rows, 1)}" if self._header else ""
        self._sheet.write(b"</sheetData>" + (f'<autoFilter ref="A1:{last}"/>'.encode() if last else b"")
                          + b"</worksheet>")
        self._sheet.close()
        self._zip.writestr("xl/styles.xml", _xml(_styles(self._formats)))
        self._zip.close()


def _frozen_header(header: Sequence[str]) -> str:
    """The sheet view with row 1 frozen, and column widths from the header's text (ECMA-376 18.3.1.87, 18.3.1.13)."""
    if not header:
        return ""
    cols = "".join(f'<col min="{i}" max="{i}" width="{min(40, max(10, len(name) + 4))}" customWidth="1"/>'
                   for i, name in enumerate(header, 1))
    return ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            f'state="frozen"/></sheetView></sheetViews><cols>{cols}</cols>')


def _styles(formats: dict[str, int]) -> str:
    """Style 0 is the default; style i (1..n) applies custom number format 163 + i."""
    num_fmts = "".join(f'<numFmt numFmtId="{163 + i}" formatCode="{_attr(code)}"/>'
                       for code, i in formats.items())
    xfs = "".join(f'<xf numFmtId="{163 + i}" fontId="0" fillId="0" borderId="0" xfId="0" '
                  'applyNumberFormat="1"/>' for i in formats.values())
    num_fmts = f'<numFmts count="{len(formats)}">{num_fmts}</numFmts>' if formats else ""
    return (f'<styleSheet {_NS}>{num_fmts}'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(formats) + 1}"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
            f'xfId="0"/>{xfs}</cellXfs><cellStyles count="1">'
            '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def _attr(value: str) -> str:
    return text(value).replace('"', "&quot;")


def _xml(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + body).encode()
