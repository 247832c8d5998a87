"""The machine formats of an export: CSV, JSON and Parquet writers, a batch of rows at a time.

They keep the dataset's column names (snake_case) and raw values (issue 21: the XLSX sheet, exports/sheet.py, is
the one for people). Money keeps its exact value and the currency column beside it: CSV and JSON as the exact
decimal text ("1234.56"; JSON as a string, since most JSON readers turn numbers into floats), Parquet as
`decimal128(38, 3)`, 3 being the largest ISO 4217 exponent, so every currency fits. CSV text a spreadsheet would
run as a formula gets a `'` prefix (`figures.cells.neutralise`).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, BinaryIO

from exports.money import money_columns, money_value
from figures.cells import neutralise
from store.queries import CURRENCY_EXPONENTS, Row, format_minor

_MAX_SCALE = max(CURRENCY_EXPONENTS.values())


class CsvWriter:
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


class JsonWriter:
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


class ParquetWriter:
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
