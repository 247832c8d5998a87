"""Export a dataset (or rows already on screen) to CSV, XLSX, Parquet or JSON, streamed.

`export(db, dataset, fmt, out)` pulls rows from `store.queries.iter_dataset` and hands them to
a format writer in batches of `BATCH_ROWS`, so the dataset is never held in memory twice (no
DataFrame of everything). `export_rows` does the same for any iterable of row dicts (a page's
"download what is shown"), and `export_bytes` returns the file as bytes for `st.download_button`.

Money (ARCHITECTURE.md, "money exact"): money columns hold integer minor units next to a
`currency` column. Each format keeps the exact value and the currency column:
- CSV and JSON: the exact decimal text from `format_minor` ("1234.56"; JSON as a string, since
  most JSON readers turn numbers into floats).
- Parquet: `decimal128(38, 3)`, 3 being the largest ISO 4217 exponent, so every currency fits.
- XLSX (`exports.xlsx`): the number cell is written as the exact decimal text, but Excel reads it
  into a double, exact only up to ~15 significant digits. We choose exact over pretty: the
  number cell (formatted with the currency's decimals) is what people sum, and a
  "<label> (minor units)" integer column right after it carries the exact value (as text past 2**53).

People and machines (issue 21): the XLSX sheet is for people and speaks like the screen (the screen's
headers and column order, Yes/No, statuses as words, vendor names, real dates; `_XlsxWriter`); CSV,
Parquet and JSON are for machines and keep the dataset's column names (snake_case) and raw values.

Formula injection (CSV, XLSX): a text cell starting with `=`, `+`, `-`, `@`, tab or carriage
return would run as a formula when a spreadsheet opens the file, so it gets a `'` prefix. Text
that is a plain number ("-12.50") is left alone: a spreadsheet reads it as a number, not code.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from sqlite_utils import Database

from exports.xlsx import Number, XlsxWriter
from figures import words
from figures.cells import neutralise
from store.calendar import zone
from store.datasets import get_dataset
from store.queries import CURRENCY_EXPONENTS, Row, format_minor, iter_dataset, minor_to_decimal

FORMATS = ("csv", "xlsx", "parquet", "json")
BATCH_ROWS = 20_000  # also the Parquet row-group size
Target = BinaryIO | str | os.PathLike[str]

# Integer minor-unit columns; they count as money only in a row that also has `currency`.
MONEY_NAMES = frozenset({"amount_due", "total_amount", "total_tax_amount", "paid_amount", "balance",
                         "remains_to_be_paid", "amount", "tax_amount", "total"})
_MAX_SCALE = max(CURRENCY_EXPONENTS.values())
_EXACT_DOUBLE = 2**53


class _Writer(Protocol):
    def __init__(self, columns: tuple[str, ...], out: BinaryIO) -> None: ...
    def write(self, rows: list[Row]) -> None: ...
    def close(self) -> None: ...


def money_columns(columns: Sequence[str]) -> tuple[str, ...]:
    """The money columns of a row schema: known minor-unit names next to a `currency` column."""
    if "currency" not in columns:
        return ()
    return tuple(c for c in columns if c in MONEY_NAMES)


def money_value(amount: Any, currency: str | None) -> Decimal | None:
    """Exact major-unit amount: minor-unit ints are scaled; decimal text is taken as it is."""
    if amount is None or amount == "":
        return None
    if isinstance(amount, int):
        return minor_to_decimal(amount, currency or "")
    return Decimal(str(amount))


def export(
    db: Database, dataset: str, fmt: str, out: Target,
    filters: dict[str, Any] | None = None, now: datetime | None = None, *, force: bool = False,
) -> int:
    """Stream the dataset into `out` (a binary stream or a path) in `fmt`; returns the row count.

    Raises KeyError for an unknown dataset and ValueError for a bad format or filter, before
    anything is written; `ExportTargetError` (a ValueError) for a path that is not a regular file
    (see `_target`)."""
    columns = get_dataset(dataset).columns
    _check_format(fmt)
    rows = iter_dataset(db, dataset, filters, now=now)
    first = list(islice(rows, 1))  # run the query now, so a bad filter fails before the file exists
    return export_rows(_chain(first, rows), columns, fmt, out, force=force)


def export_rows(rows: Iterable[Row], columns: Sequence[str], fmt: str, out: Target, *, force: bool = False) -> int:
    """Write any rows (dicts keyed by `columns`) in `fmt` to a stream or path; returns the count."""
    _check_format(fmt)
    count = 0
    with _target(out, force) as stream:
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


class ExportTargetError(ValueError):
    """`--output` names something we will not write: the message says what it is and what to do."""


@contextmanager
def _target(out: Target, force: bool = False) -> Iterator[BinaryIO]:
    """A stream as given; a path is written to a hidden `.NAME.*.part` beside it, renamed over it at
    the end, and removed on any failure: no half file, no `.part` left behind.

    Only a regular file (new or existing) is replaced. A directory is always refused; a symlink, FIFO,
    device or socket is refused unless `force`, and then written through as it is (no rename), so a
    `--output /dev/stdout` or a named pipe works on purpose and `/dev/full` is never replaced by a file."""
    if not isinstance(out, (str, os.PathLike)):
        yield out
        return
    path = Path(out)
    kind = _existing_kind(path)
    if kind == "directory":
        raise ExportTargetError(f"{path} is a directory: give a file name inside it")
    if kind not in (None, "regular file"):
        if not force:
            raise ExportTargetError(f"{path} is a {kind}, not a regular file: refusing to replace or write "
                                    "through it (use --force to write into it as it is)")
        with _open_special(path) as stream:
            yield stream
        return
    with _replacing(path) as stream:
        yield stream


def _existing_kind(path: Path) -> str | None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ExportTargetError(f"cannot use {path}: {exc.strerror or exc}") from None
    kinds = ((stat.S_ISLNK, "symbolic link"), (stat.S_ISDIR, "directory"), (stat.S_ISREG, "regular file"),
             (stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))
    return next((name for test, name in kinds if test(mode)), "special file")


@contextmanager
def _open_special(path: Path) -> Iterator[BinaryIO]:
    try:
        stream = path.open("wb")
    except OSError as exc:
        raise ExportTargetError(f"cannot write to {path}: {exc.strerror or exc}") from None
    with stream:
        yield stream


@contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    directory = path.parent
    if not directory.is_dir():
        raise ExportTargetError(f"cannot write {path}: the directory {directory} does not exist")
    try:
        fd, part_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise ExportTargetError(f"cannot write to {directory}: {exc.strerror or exc}") from None
    part = Path(part_name)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; an export gets the usual file mode
        with os.fdopen(fd, "wb") as stream:
            yield stream
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class _CsvWriter:
    def __init__(self, columns: tuple[str, ...], out: BinaryIO) -> None:
        # newline="" lets the csv module write its own \r\n; detach() at close leaves `out` open
        self._text = io.TextIOWrapper(out, encoding="utf-8", newline="")  # type: ignore[arg-type]
        self._csv = csv.writer(self._text)
        self._columns, self._money = columns, money_columns(columns)
        self._csv.writerow(columns)

    def write(self, rows: list[Row]) -> None:
        self._csv.writerows([self._cell(row, c) for c in self._columns] for row in rows)

    def _cell(self, row: Row, column: str) -> Any:
        if column in self._money:
            return format_minor(row[column], row["currency"]) if isinstance(row[column], int) \
                else neutralise(row[column])
        return neutralise(row[column])

    def close(self) -> None:
        self._text.flush()
        self._text.detach()


class _JsonWriter:
    """A JSON array of row objects, written row by row: `[`, rows separated by `,`, `]`."""

    def __init__(self, columns: tuple[str, ...], out: BinaryIO) -> None:
        self._out, self._columns, self._money = out, columns, money_columns(columns)
        self._separator = b"\n"
        out.write(b"[")

    def write(self, rows: list[Row]) -> None:
        for row in rows:
            self._out.write(self._separator + json.dumps(self._object(row), ensure_ascii=False,
                                                         default=str).encode())
            self._separator = b",\n"

    def _object(self, row: Row) -> dict[str, Any]:
        obj = {c: row[c] for c in self._columns}
        for column in self._money:
            value = money_value(row[column], row["currency"])
            obj[column] = None if value is None else str(value)
        return obj

    def close(self) -> None:
        self._out.write(b"\n]\n")



class _XlsxWriter:
    """A sheet for people (issue 21: "XLSX speaks like the screen"), streamed by `exports.xlsx` a batch at a time.

    The words are the screen's (figures/words.py): headers are the screen's labels ("Amount due", "Planned
    delivery"), columns in the screen's order (the three most useful first; the technical ids the screen hides
    last), flags read Yes/No, statuses and codes
    as words ("Requested", not REQUESTED), vendors by name. Money is a number cell with the currency's decimals,
    the currency column kept, and its exact minor units beside it; dates and times are real date cells (times in
    the business time zone). CSV, Parquet and JSON keep the machine names and raw values."""

    def __init__(self, columns: tuple[str, ...], out: BinaryIO) -> None:
        shown = words.ordered(columns)  # the screen's order; the ids it hides go last, kept for matching
        self._columns = (*(c for c in shown if c not in words.HIDDEN), *(c for c in shown if c in words.HIDDEN))
        self._money = money_columns(columns)
        # the header frozen, filtered and sized for a person scrolling the sheet (exports/xlsx.py)
        self._xlsx = XlsxWriter(out, header=[name for c in self._columns for name in self._names(c)])
        self._styles: dict[str, int] = {}  # currency -> style of its money number format
        self._kinds = {c: words.kind(c) for c in self._columns}
        self._date_style = self._xlsx.style("yyyy-mm-dd")
        self._time_style = self._xlsx.style("yyyy-mm-dd hh:mm")
        self._zone = _business_zone()

    def _names(self, column: str) -> tuple[str, ...]:
        name = words.label(column)
        return (name, f"{name} (minor units)") if column in self._money else (name,)

    def write(self, rows: list[Row]) -> None:
        self._xlsx.write_rows([cell for c in self._columns for cell in self._cells(row, c)]
                              for row in rows)

    def _cells(self, row: Row, column: str) -> tuple[Any, ...]:
        value = row[column]
        if column in self._money:
            amount = money_value(value, row["currency"])
            return (self._number_cell(amount, row["currency"]), _exact_minor(value, row["currency"]))
        if value is None or value == "":
            return (None,)
        return (self._person_cell(self._kinds[column], value),)

    def _person_cell(self, kind: str, value: Any) -> Any:
        if kind == "flag" and value in words.FLAG_VALUES:
            return words.yes_no(value)
        if kind == "words" and isinstance(value, str):
            return neutralise(words.words(value))
        if kind == "vendor":
            return words.vendor_name(value)
        if kind == "date":
            day = _as_date(value)
            return Number(_serial(datetime.combine(day, time())), self._date_style) if day else neutralise(value)
        if kind == "time":
            moment = _as_moment(value, self._zone)
            return Number(_serial(moment), self._time_style) if moment else neutralise(value)
        return neutralise(value)

    def _number_cell(self, amount: Decimal | None, currency: str | None) -> Number | None:
        if amount is None:
            return None
        code = (currency or "").upper()
        if code not in self._styles:
            decimals = CURRENCY_EXPONENTS.get(code, 2)
            self._styles[code] = self._xlsx.style("#,##0" + ("." + "0" * decimals if decimals else ""))
        return Number(amount, self._styles[code])

    def close(self) -> None:
        self._xlsx.close()


_EPOCH = datetime(1899, 12, 30)  # day 0 of a spreadsheet's dates (the 1900 date system, ECMA-376 18.17.4.1)


def _serial(moment: datetime) -> Decimal:
    """A naive local date-time as a spreadsheet date number: whole days since 1899-12-30 plus the day's fraction
    (to the second, exact text: no float)."""
    delta = moment - _EPOCH
    seconds = delta.seconds
    return Decimal(delta.days) + (Decimal(seconds) / 86400).quantize(Decimal("1e-10")) if seconds \
        else Decimal(delta.days)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _as_moment(value: Any, zone: tzinfo) -> datetime | None:
    """A stored timestamp (UTC when it names no zone: the cache stores UTC) as naive time in the business zone."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _business_zone() -> tzinfo:
    """The business time zone (store/calendar.py); UTC when the setting names none we know."""
    try:
        return zone()
    except ValueError:
        return UTC


def _exact_minor(value: Any, currency: str | None = None) -> int | str | None:
    """Minor units as a number while a double holds them exactly (Excel and openpyxl store
    numbers as doubles), as text beyond 2**53 so the value is never rounded. Decimal text (the
    outstanding lists' `amount_due`) counts when it is a whole number of minor units."""
    if isinstance(value, str) and value:
        try:
            scaled = Decimal(value).scaleb(CURRENCY_EXPONENTS.get((currency or "").upper(), 2))
        except InvalidOperation:
            return None
        value = int(scaled) if scaled.is_finite() and scaled == scaled.to_integral_value() else None
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if abs(value) < _EXACT_DOUBLE else str(value)


class _ParquetWriter:
    """pyarrow ParquetWriter, one row group per batch; the schema comes from the first batch."""

    def __init__(self, columns: tuple[str, ...], out: BinaryIO) -> None:
        self._out, self._columns, self._money = out, columns, money_columns(columns)
        self._writer: Any = None

    def write(self, rows: list[Row]) -> None:
        import pyarrow as pa

        if self._writer is None:
            self._open(rows)
        arrays = [pa.array(self._values(rows, f.name, f.type), f.type) for f in self._writer.schema]
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self._writer.schema))

    def _open(self, rows: list[Row]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([(c, self._type(rows, c)) for c in self._columns])
        self._writer = pq.ParquetWriter(self._out, schema)

    def _type(self, rows: list[Row], column: str) -> Any:
        """int64 / float64 when every value is one, decimal for money, else string.

        A column empty in the first batch becomes string: its later values are written as text."""
        import pyarrow as pa

        if column in self._money:
            return pa.decimal128(38, _MAX_SCALE)
        kinds = {type(row[column]) for row in rows if row[column] is not None}
        if kinds and kinds <= {int, bool}:
            return pa.int64()
        if kinds and kinds <= {int, float}:
            return pa.float64()
        return pa.string()

    def _values(self, rows: list[Row], column: str, arrow_type: Any) -> list[Any]:
        if column in self._money:
            return [money_value(row[column], row["currency"]) for row in rows]
        if str(arrow_type) == "string":
            return [None if row[column] is None else str(row[column]) for row in rows]
        return [row[column] for row in rows]

    def close(self) -> None:
        if self._writer is None:
            self._open([])  # no rows: still a valid file with the schema
        self._writer.close()


_WRITERS: dict[str, type[_Writer]] = {
    "csv": _CsvWriter, "json": _JsonWriter, "xlsx": _XlsxWriter, "parquet": _ParquetWriter,
}
