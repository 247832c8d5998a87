"""Order batch files (CSV, XLSX, JSON) -> validated `OrderInput`s, before anything is sent to Qargo.

One row per order: one consignment (pickup stop -> delivery stop) with one goods line, flattened into the
columns of `COLUMNS`. Every problem comes back as a `RowError` (row number as the user sees it: the CSV/XLSX
header is row 1, so the first order is row 2; JSON rows count from 1) and the good rows are kept, so staff
can fix the bad ones and upload the rest.

Bounds (issue 22): a file over `MAX_BYTES` is refused before it is read (`read_order_file`), an XLSX is
checked and streamed by exports/xlsx_reader.py (expansion, rows, `MAX_COLUMNS` columns), a cell longer than
`MAX_CELL_CHARS` or holding a control character (NUL...) is a row error naming its column, and numbers go
through the bounded parser of services/types.py (`1e999999` is refused from its exponent, in microseconds).

The order identifier is derived from the order's business key (customer code + ERP order number + pickup
date): the same order always gets the same identifier, so a double click, a reload or a retry updates or
repeats it at Qargo instead of creating a second one (seeds/000 line 392).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic_core import PydanticCustomError

from actions.countries import is_country
from actions.files import read_at_most
from exports.xlsx_reader import XlsxRefused, sheet_rows
from services.qargo.order_input import (
    ConsignmentInput,
    Entity,
    GoodInput,
    Location,
    Operation,
    OrderInput,
    PackagingType,
    Product,
    StopInput,
)
from services.types import to_decimal
from store import jsonguard

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000
MAX_SHEET_ROWS = 2 * MAX_ROWS + 1  # physical XLSX rows, blank ones included, header row too
MAX_COLUMNS = 64  # the template has 22; columns beyond are not read
MAX_CELL_CHARS = 1_000  # the longest template field (planning instructions) is a few lines
_CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r"}
ORDER_JSON_DEPTH = 8  # an array of flat objects nests 2 levels; deeper is not an order file
FORMATS = ("csv", "xlsx", "json")
_STOP = ("name", "address", "postal_code", "city", "country", "date")
REQUIRED = ("customer_code", "erp_order_number", *(f"pickup_{f}" for f in _STOP if f != "name"),
            *(f"delivery_{f}" for f in _STOP if f != "name"), "goods_quantity")
OPTIONAL = ("customer_reference", "pickup_name", "delivery_name", "goods_product", "goods_packaging",
            "goods_weight_kg", "goods_volume_m3", "transport_service", "planning_instructions")
COLUMNS = (*REQUIRED, *OPTIONAL)
_EXAMPLE = {
    "customer_code": "C00001", "erp_order_number": "SO-1001", "customer_reference": "PO-77",
    "pickup_date": "2026-05-04", "pickup_name": "Main warehouse", "pickup_address": "Industrieweg 1",
    "pickup_postal_code": "9050", "pickup_city": "Ghent", "pickup_country": "BE",
    "delivery_date": "2026-05-06", "delivery_name": "Customer DC", "delivery_address": "Hafenstrasse 5",
    "delivery_postal_code": "20457", "delivery_city": "Hamburg", "delivery_country": "DE",
    "goods_quantity": "12", "goods_product": "Pallet of goods", "goods_packaging": "EUR",
    "goods_weight_kg": "4800", "goods_volume_m3": "14.4", "transport_service": "", "planning_instructions": "",
}


class FileRejected(ValueError):
    """The whole file is refused (too big, unreadable, wrong format): no row was looked at."""


@dataclass(frozen=True)
class RowError:
    row: int | None  # None: the problem concerns the whole file (e.g. a missing column)
    field: str | None
    message: str

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        return f"{where}, {self.field or '-'}: {self.message}"


@dataclass(frozen=True)
class ParsedOrder:
    row: int
    order: OrderInput


@dataclass
class ParsedBatch:
    orders: list[ParsedOrder] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def inputs(self) -> list[OrderInput]:
        return [p.order for p in self.orders]


def order_identifier(customer_code: str, erp_order_number: str, pickup_date: date) -> str:
    """"OPS-<16 hex>" from the business key; stable across files, runs and machines."""
    key = "\x1f".join((customer_code.strip().upper(), erp_order_number.strip(), pickup_date.isoformat()))
    return "OPS-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


# ----------------------------------------------------------------------------- reading a file


def detect_format(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise FileRejected(f"{name}: unknown file type; use one of .{', .'.join(FORMATS)}")
    return suffix


def read_order_file(path: Path) -> bytes:
    """The bytes of an order file, reading at most `MAX_BYTES` + 1: a 3 GB file or /dev/zero is refused
    after one bounded read, never loaded (issue 22)."""
    data = read_at_most(path, MAX_BYTES)
    if len(data) > MAX_BYTES:
        raise FileRejected(f"the file has more than {MAX_BYTES // (1024 * 1024)} MB; the limit is "
                           f"{MAX_BYTES // (1024 * 1024)} MB: split it into smaller batches")
    return data


def read_rows(data: bytes, fmt: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """(columns, [(row number, {column: value})]); `FileRejected` for an oversized or unreadable file."""
    if len(data) > MAX_BYTES:
        raise FileRejected(f"the file has {len(data) / 1e6:.1f} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB:"
                           " split it into smaller batches")
    reader = {"csv": _csv_rows, "xlsx": _xlsx_rows, "json": _json_rows}.get(fmt)
    if reader is None:
        raise FileRejected(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    columns, rows = reader(data)
    if len(rows) > MAX_ROWS:
        raise FileRejected(f"the file has {len(rows)} orders; the limit is {MAX_ROWS} per upload: split it")
    return columns, rows


def _csv_rows(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRejected("the CSV is not UTF-8 text: save it as 'CSV UTF-8'") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        lines = list(reader)
    except csv.Error as exc:
        raise FileRejected(f"the CSV is malformed at line {reader.line_num}: {exc}") from None
    if not lines:
        raise FileRejected("the file is empty: it needs a header row with the template columns")
    header = [h.strip().lower() for h in lines[0]]
    rows = []
    for number, values in enumerate(lines[1:], start=2):
        if not any(v.strip() for v in values):
            continue  # blank lines are not orders
        rows.append((number, dict(zip(header, values, strict=False)) | _extra(values, header)))
    return header, rows


def _extra(values: list[str], header: list[str]) -> dict[str, Any]:
    """A row longer than the header: a stray delimiter, reported by `_validate_row`."""
    return {"__extra__": values[len(header):]} if len(values) > len(header) else {}


def _xlsx_rows(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    try:
        return _xlsx_sheet(sheet_rows(data, max_rows=MAX_SHEET_ROWS, max_cols=MAX_COLUMNS))
    except XlsxRefused as exc:
        raise FileRejected(str(exc)) from None


def _xlsx_sheet(lines: Iterator[tuple[int, tuple[Any, ...]]]) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    first = next(lines, None)
    header = [_cell_text(h).strip().lower() for h in (first[1] if first else ())]
    if not any(header):
        raise FileRejected("the workbook's first sheet is empty: it needs a header row with the template columns")
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, values in lines:
        if len(rows) > MAX_ROWS:
            break  # enough to refuse the file without reading a huge sheet
        if any(v not in (None, "") for v in values):
            rows.append((number, {h: ("" if v is None else v) for h, v in zip(header, values, strict=False)}))
    return header, rows


def _cell_text(value: Any) -> str:
    return "" if value is None else str(value)[: MAX_CELL_CHARS + 1]


def _json_rows(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    try:  # depth, 64-bit number range, strict UTF-8, no lone surrogates (store/jsonguard.py)
        body = jsonguard.loads(data, max_depth=ORDER_JSON_DEPTH, what="the JSON")
    except jsonguard.BadJson as exc:
        raise FileRejected(str(exc)) from None
    if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
        raise FileRejected("the JSON must be an array of objects, one per order, with the template columns")
    rows = [(n, {str(k).strip().lower(): ("" if v is None else v) for k, v in r.items()})
            for n, r in enumerate(body, start=1)]
    columns = sorted({c for _, r in rows for c in r})
    return columns, rows


# ----------------------------------------------------------------------------- validating rows


def parse_orders(data: bytes, fmt: str) -> ParsedBatch:
    """Read and validate a batch; `FileRejected` when the file itself cannot be used."""
    columns, rows = read_rows(data, fmt)
    missing = [c for c in REQUIRED if c not in columns]
    if missing and fmt != "json":
        return ParsedBatch(errors=[RowError(None, c, "required column is missing (see the template)")
                                   for c in missing])
    if not rows:
        return ParsedBatch(errors=[RowError(None, None, "the file has no orders: only a header, or only blank rows")])
    batch, seen = ParsedBatch(), dict[str, int]()
    for number, row in rows:
        order, errors = validate_row(number, row)
        if order is not None and order.order_identifier in seen:
            errors = [RowError(number, "erp_order_number",
                               f"same order (customer, ERP number, pickup date) as row {seen[order.order_identifier]}")]
        batch.errors.extend(errors)
        if not errors and order is not None:
            seen[order.order_identifier] = number
            batch.orders.append(ParsedOrder(number, order))
    return batch


def validate_row(number: int, row: Mapping[str, Any]) -> tuple[OrderInput | None, list[RowError]]:
    """One row -> (OrderInput, []) or (None, every error of the row)."""
    errors: list[RowError] = []
    if row.get("__extra__"):
        errors.append(RowError(number, None, "the row has more values than the header has columns"))
    text = {c: _text(row.get(c)) for c in COLUMNS}
    errors += [RowError(number, c, problem) for c in COLUMNS if (problem := _bad_text(text[c]))]
    if errors:
        return None, errors  # an over-long or binary value is not looked at further
    errors += [RowError(number, c, "is required") for c in REQUIRED if not text[c]]
    dates = {c: _date(number, c, row.get(c), errors) for c in ("pickup_date", "delivery_date") if text[c]}
    for c in ("pickup_country", "delivery_country"):
        if text[c] and not is_country(text[c]):
            errors.append(RowError(number, c, f"{text[c]!r} is not an ISO 3166 country code (e.g. DE, BE, FR)"))
    quantity = _quantity(number, text["goods_quantity"], errors) if text["goods_quantity"] else None
    measures = {c: _measure(number, c, text[c], errors) for c in ("goods_weight_kg", "goods_volume_m3")}
    pickup, delivery = dates.get("pickup_date"), dates.get("delivery_date")
    if pickup and delivery and delivery < pickup:
        errors.append(RowError(number, "delivery_date", f"{delivery} is before the pickup date {pickup}"))
    if errors or pickup is None or delivery is None:
        return None, errors
    return _order(text, pickup, delivery, quantity, measures), []


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _bad_text(text: str) -> str | None:
    """Why a value cannot go to Qargo as it is: too long, or a control character such as NUL."""
    if len(text) > MAX_CELL_CHARS:
        return f"is {len(text):,} characters long; at most {MAX_CELL_CHARS:,}"
    bad = next((ch for ch in text if ch in _CONTROL), None)
    if bad is not None:
        return f"holds a control character (U+{ord(bad):04X}) at position {text.index(bad) + 1}: remove it"
    return None


def _number(value: str) -> Decimal | str:
    """A bounded decimal (services/types.py), or why the text is not one."""
    try:
        return to_decimal(value)
    except PydanticCustomError as exc:
        return exc.message() if exc.type == "number_range" else f"{value!r} is not a number"


def _date(number: int, column: str, value: Any, errors: list[RowError]) -> date | None:
    if isinstance(value, datetime):  # XLSX date cells
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append(RowError(number, column, f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2026-05-04"))
        return None


def _quantity(number: int, value: str, errors: list[RowError]) -> int | None:
    quantity = _number(value)
    if isinstance(quantity, str):
        errors.append(RowError(number, "goods_quantity", quantity))
        return None
    if quantity != quantity.to_integral_value() or quantity <= 0:
        errors.append(RowError(number, "goods_quantity", f"{value} must be a whole number above 0"))
        return None
    return int(quantity)


def _measure(number: int, column: str, value: str, errors: list[RowError]) -> float | None:
    """Weights and volumes: JSON numbers in Qargo's schema (they are not money)."""
    if not value:
        return None
    measure = _number(value)
    if isinstance(measure, str):
        errors.append(RowError(number, column, measure))
        return None
    if measure < 0:
        errors.append(RowError(number, column, f"{value} must not be negative"))
        return None
    return float(measure)


def _stop(text: Mapping[str, str], prefix: str, day: date) -> StopInput:
    country = text[f"{prefix}_country"].upper()
    location = Location(name=text[f"{prefix}_name"] or None, address=text[f"{prefix}_address"],
                        postal_code=text[f"{prefix}_postal_code"], city=text[f"{prefix}_city"], country=country)
    return StopInput(location=location, date=day)


def _order(text: Mapping[str, str], pickup: date, delivery: date, quantity: int | None,
           measures: Mapping[str, float | None]) -> OrderInput:
    good = GoodInput(quantity=quantity, product=Product(name=text["goods_product"]) if text["goods_product"] else None,
                     packaging_type=PackagingType(code=text["goods_packaging"]) if text["goods_packaging"] else None,
                     total_weight_kg=measures["goods_weight_kg"], total_volume_m3=measures["goods_volume_m3"])
    consignment = ConsignmentInput(pickup_stop=_stop(text, "pickup", pickup),
                                   delivery_stop=_stop(text, "delivery", delivery), goods=[good],
                                   consignment_reference_number=text["erp_order_number"])
    service = text["transport_service"]
    return OrderInput(
        operation=Operation.CREATE,
        order_identifier=order_identifier(text["customer_code"], text["erp_order_number"], pickup),
        customer=Entity(code=text["customer_code"]), consignments=[consignment],
        customer_reference_number=text["customer_reference"] or text["erp_order_number"],
        transport_service=Entity(code=service) if service else None,
        planning_instructions=text["planning_instructions"] or None)


# ----------------------------------------------------------------------------- the template


def template(fmt: str) -> bytes:
    """A downloadable template: the header plus one example order, in `fmt`."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerow(_EXAMPLE)
        return out.getvalue().encode("utf-8")
    if fmt == "json":
        return json.dumps([_EXAMPLE], indent=2).encode("utf-8")
    if fmt == "xlsx":
        return _xlsx_bytes([list(COLUMNS), [_EXAMPLE[c] for c in COLUMNS]])
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _xlsx_bytes(lines: Iterable[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "orders"
    for line in lines:
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def iter_errors(batch: ParsedBatch) -> Iterator[str]:
    for error in batch.errors:
        yield str(error)
