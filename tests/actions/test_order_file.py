"""Order files: templates in every format parse back, identifiers are deterministic, errors name row and field."""

from __future__ import annotations

import json
from datetime import date

import pytest

from actions.order_file import MAX_ROWS, FileRejected, order_identifier, parse_orders, template


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_template_parses_back_into_one_order(fmt: str) -> None:
    batch = parse_orders(template(fmt), fmt)
    assert batch.errors == []
    order = batch.inputs[0]
    assert order.order_identifier == order_identifier("C00001", "SO-1001", date(2026, 5, 4))
    assert order.payload()["consignments"][0]["goods"][0]["quantity"] == 12
    assert order.payload()["consignments"][0]["delivery_stop"]["location"]["country"] == "DE"


def test_identifier_depends_only_on_the_business_key() -> None:
    a = order_identifier("c00001", "SO-1", date(2026, 1, 2))
    assert a == order_identifier("C00001 ", "SO-1", date(2026, 1, 2))
    assert a.startswith("OPS-") and len(a) == 20
    assert a != order_identifier("C00001", "SO-1", date(2026, 1, 3))


def test_json_rows_report_every_error_of_a_row() -> None:
    row = json.loads(template("json"))[0]
    bad = {**row, "pickup_date": "04/05/2026", "pickup_country": "ZZ", "goods_quantity": "1.5", "customer_code": ""}
    late = {**row, "erp_order_number": "L", "delivery_date": "2026-05-01"}
    batch = parse_orders(json.dumps([row, bad, late, row]).encode(), "json")
    assert [(e.row, e.field) for e in batch.errors] == [
        (2, "customer_code"), (2, "pickup_date"), (2, "pickup_country"), (2, "goods_quantity"),
        (3, "delivery_date"), (4, "erp_order_number")]
    assert "same order" in batch.errors[-1].message
    assert len(batch.orders) == 1


def test_too_many_rows_is_refused() -> None:
    lines = template("csv").decode().splitlines()
    data = "\n".join([lines[0]] + [lines[1]] * (MAX_ROWS + 1)).encode()
    with pytest.raises(FileRejected, match="limit is 5000"):
        parse_orders(data, "csv")


def test_not_a_workbook_is_refused() -> None:
    with pytest.raises(FileRejected, match="not a readable .xlsx"):
        parse_orders(b"plain text", "xlsx")
