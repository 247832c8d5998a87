"""Reading an uploaded XLSX with bounded work: the archive is checked before openpyxl opens it.

An XLSX is a zip of XML parts, and openpyxl trusts both. A 3.3 MB archive whose shared-strings part
expands to gigabytes took 1.84 GB of memory, because openpyxl reads that part whole even in read-only
mode; a 700 KB sheet of empty rows kept a CPU busy for minutes, because read-only iteration fills every
gap and pads every row to the sheet's declared width (up to 16,384 columns). So (issue 22):

- before opening: at most `MAX_PARTS` parts, their declared sizes adding up to at most `MAX_EXPANDED`
  bytes, and no part over 1 MiB expanding more than `MAX_RATIO` times (a legitimate sheet is 5-20x).
  Python's zipfile stops each part at its declared size, so a part cannot lie its way past the total;
- while reading: rows are streamed (read-only mode), cut to `max_cols` columns, and the sheet is refused
  past `max_rows` rows, blank rows included (they cost the same to parse).
Cell length is the caller's business (actions/order_file.py names the row and column).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

MAX_PARTS = 1_000
MAX_EXPANDED = 64 * 1024 * 1024  # all parts, uncompressed: 5,000 orders of 22 columns are ~8 MB
MAX_RATIO = 100  # uncompressed / compressed, for parts above RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024  # small parts (styles, empty sheets) compress far better and cost nothing


class XlsxRefused(ValueError):
    """The workbook is refused as a whole; the message says why in the user's terms."""


def check_archive(data: bytes) -> None:
    """Refuse an archive that is not a zip, or that would expand beyond the bounds above."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise XlsxRefused(f"the file is not a readable .xlsx workbook ({exc})") from None
    if len(parts) > MAX_PARTS:
        raise XlsxRefused(f"the workbook has {len(parts):,} parts; at most {MAX_PARTS:,}: save it again from Excel")
    expanded = sum(part.file_size for part in parts)
    if expanded > MAX_EXPANDED:
        raise XlsxRefused(f"the workbook expands to {expanded / 1e6:,.0f} MB; at most "
                          f"{MAX_EXPANDED // (1024 * 1024)} MB: split it into smaller batches")
    for part in parts:
        if part.file_size > RATIO_FLOOR and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise XlsxRefused(f"the workbook's part {part.filename} expands {part.file_size // max(part.compress_size, 1):,}"
                              f" times (at most {MAX_RATIO}): this is not a spreadsheet saved by Excel")


def sheet_rows(data: bytes, *, max_rows: int, max_cols: int) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, values cut to `max_cols`) of the first sheet, streamed; `XlsxRefused` past `max_rows`."""
    check_archive(data)
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a file that is not a workbook
        raise XlsxRefused(f"the file is not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        for number, values in enumerate(sheet.iter_rows(max_col=max_cols, values_only=True), start=1):
            if number > max_rows:
                raise XlsxRefused(f"the sheet has more than {max_rows:,} rows (blank rows count): "
                                  "delete the empty rows below the orders, or split the file")
            yield number, tuple(values)
    finally:
        book.close()
