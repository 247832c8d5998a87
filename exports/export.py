"""Export a dataset (or rows already on screen) to CSV, XLSX, Parquet or JSON, streamed.

`export(db, dataset, fmt, out)` pulls rows from `store.queries.iter_dataset` and hands them to
a format writer in batches of `BATCH_ROWS`, so the dataset is never held in memory twice (no
DataFrame of everything). `export_rows` does the same for any iterable of row dicts (a page's
"download what is shown"), and `export_bytes` returns the file as bytes for `st.download_button`.

The parts, by role (this module is the entry point and keeps their public names importable):
- exports/money.py: which columns are money and their exact value (`money_columns`, `money_value`).
  Money (ARCHITECTURE.md, "money exact"): money columns hold integer minor units next to a
  `currency` column, and each format keeps the exact value and the currency column.
- exports/formats.py: CSV, Parquet and JSON, for machines: the dataset's column names (snake_case) and raw
  values; money as exact decimal text (CSV, JSON) or `decimal128(38, 3)` (Parquet).
- exports/sheet.py: the XLSX sheet, for people (issue 21): it speaks like the screen (the screen's headers and
  column order, Yes/No, statuses as words, vendor names, real dates); money as a number cell with its exact
  minor units beside it.
- exports/target.py: where the file goes (`--output`): a path replaced whole or not at all (`ExportTargetError`).

Formula injection (CSV, XLSX): a text cell starting with `=`, `+`, `-`, `@`, tab or carriage
return would run as a formula when a spreadsheet opens the file, so it gets a `'` prefix. Text
that is a plain number ("-12.50") is left alone: a spreadsheet reads it as a number, not code.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any, BinaryIO, Protocol

from sqlite_utils import Database

from exports.formats import CsvWriter, JsonWriter, ParquetWriter
from exports.money import MONEY_NAMES, money_columns, money_value
from exports.sheet import SheetWriter
from exports.target import ExportTargetError, Target, target
from figures.cells import neutralise
from store.datasets import get_dataset
from store.queries import Row, iter_dataset

__all__ = ["BATCH_ROWS", "FORMATS", "MONEY_NAMES", "ExportTargetError", "Target", "export", "export_bytes",
           "export_rows", "money_columns", "money_value", "neutralise"]

FORMATS = ("csv", "xlsx", "parquet", "json")
BATCH_ROWS = 20_000  # also the Parquet row-group size


class _Writer(Protocol):
    def __init__(self, columns: tuple[str, ...], out: BinaryIO) -> None: ...
    def write(self, rows: list[Row]) -> None: ...
    def close(self) -> None: ...


def export(
    db: Database, dataset: str, fmt: str, out: Target,
    filters: dict[str, Any] | None = None, now: datetime | None = None, *, force: bool = False,
) -> int:
    """Stream the dataset into `out` (a binary stream or a path) in `fmt`; returns the row count.

    Raises KeyError for an unknown dataset and ValueError for a bad format or filter, before
    anything is written; `ExportTargetError` (a ValueError) for a path that is not a regular file
    (exports/target.py `target`)."""
    columns = get_dataset(dataset).columns
    _check_format(fmt)
    rows = iter_dataset(db, dataset, filters, now=now)
    first = list(islice(rows, 1))  # run the query now, so a bad filter fails before the file exists
    return export_rows(_chain(first, rows), columns, fmt, out, force=force)


def export_rows(rows: Iterable[Row], columns: Sequence[str], fmt: str, out: Target, *, force: bool = False) -> int:
    """Write any rows (dicts keyed by `columns`) in `fmt` to a stream or path; returns the count."""
    _check_format(fmt)
    count = 0
    with target(out, force) as stream:
        writer = _WRITERS[fmt](tuple(columns), stream)
        for batch in _batches(rows, BATCH_ROWS):
            writer.write(batch)
            count += len(batch)
        writer.close()
    return count


def export_bytes(rows: Iterable[Row], columns: Sequence[str], fmt: str) -> bytes:
    """The file as bytes: what a page hands to a download button, built only on click."""
    buffer = io.BytesIO()
    export_rows(rows, columns, fmt, buffer)
    return buffer.getvalue()


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


def _chain(first: list[Row], rest: Iterator[Row]) -> Iterator[Row]:
    yield from first
    yield from rest


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


_WRITERS: dict[str, type[_Writer]] = {
    "csv": CsvWriter, "json": JsonWriter, "xlsx": SheetWriter, "parquet": ParquetWriter,
}
