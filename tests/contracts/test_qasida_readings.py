"""Qasida readings of issue 18 (points 7 and 10), from seeds/003 transcribed here (no file is read).

- Payment status (point 10): parameters PageNumber, PageSize, MandantId and `variableSymbol` (required)
  (seeds/003 lines 1116-1119); the answer is the paged envelope of invoices (lines 1120-1143).
- Stock cards (point 10): parameters PageNumber, PageSize, MandantId, since, reservationType (seeds/003
  lines 6028-6032): no `warehouseId`.
- Claim and liability rows carry `dueDate`/`issueDate` as timestamps, "2019-08-24T14:15:22Z" (seeds/003
  lines 165-166 and 3139-3140): stored as their business date in OPSDASH_TIMEZONE (point 7). By hand:
  14:15:22Z is 02:15:22 on 25 August in Pacific/Auckland (NZST, UTC+12) and 16:15:22 on 24 August in
  Europe/Berlin (CEST, UTC+2); 23:30Z on 24 August is 01:30 on 25 August in Berlin.
- Customer orders' `issueDate`/`fulfillmentDate` are `<datetime>` (seeds/003 lines 1783-1784).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from services.qasida import resources as qr
from services.qasida.client import make_client
from services.qasida.models import CustomerOrder, OpenItem
from services.settings import Settings, get_settings
from sync import mappers

# seeds/003 lines 1120-1143: the payment status example, verbatim.
PAYMENT_STATUS_EXAMPLE: dict[str, Any] = {
    "data": [{
        "id": 0, "invoiceNumber": "string", "issueDate": "string", "paymentDueDate": "string",
        "variableSymbol": "string", "customerId": 0, "mandantId": 0, "paymentMethod": "string",
        "customerName": "string", "customerIco": "string", "customerInternalCode": "string",
        "totalSum": 0, "notPaidSum": 0, "lastPaymentDate": "string", "invoiceType": "string", "parentId": 0,
    }],
    "pageNumber": 0, "pageSize": 0, "nextPage": None, "previousPage": None,  # "string" in the doc: the end
}
# seeds/003 lines 157-168 (claims; lines 3131-3142 for liabilities are the same), verbatim.
OPEN_ITEM_EXAMPLE: dict[str, Any] = {
    "invoiceId": 0, "type": "string", "documentNumber": "string", "invoicedAmount": 0.1, "currency": "string",
    "remainsToBePaid": 0.1, "daysDelayed": 0, "dueDate": "2019-08-24T14:15:22Z",
    "issueDate": "2019-08-24T14:15:22Z", "variableSymbol": "string", "lastPayment": "2019-08-24T14:15:22Z",
}


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def set_zone(name: str) -> None:
        monkeypatch.setenv("OPSDASH_TIMEZONE", name)
        get_settings.cache_clear()

    yield set_zone
    get_settings.cache_clear()


def settings(db_path: Path | str) -> Settings:
    return Settings(opsdash_db=db_path, qasida_base_url="https://erp.example.com/qasida",
                    qasida_token=SecretStr("jwt"), qasida_mandant_id="7")


def recording(answer: dict[str, Any], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer)
    return httpx.MockTransport(handler)


def test_payment_status_sends_the_documented_parameters_and_reads_the_paged_answer(db_path: Path | str) -> None:
    seen: list[httpx.Request] = []
    with make_client(settings(db_path), transport=recording(PAYMENT_STATUS_EXAMPLE, seen)) as client:
        (status,) = qr.payment_status(client, "0260000123")
    (request,) = seen
    assert request.url.path == "/qasida/api/finance/v1/Invoice/GetPaymentStatus"
    assert set(request.url.params) == {"PageNumber", "PageSize", "MandantId", "variableSymbol"}  # 1116-1119
    assert (request.url.params["variableSymbol"], request.url.params["MandantId"]) == ("0260000123", "7")
    # The example's values, read: "string" dates are unknown, sums exact.
    assert (status.invoice_number, status.variable_symbol, status.total_sum, status.not_paid_sum) == (
        "string", "string", Decimal(0), Decimal(0))
    assert (status.issue_date, status.payment_due_date, status.last_payment_date) == (None, None, None)


def test_stock_cards_send_no_warehouse_id(db_path: Path | str) -> None:
    seen: list[httpx.Request] = []
    empty = {"data": [], "pageNumber": 1, "pageSize": 1000, "nextPage": None, "previousPage": None}
    with make_client(settings(db_path), transport=recording(empty, seen)) as client:
        list(qr.stock_cards(client))
    assert set(seen[0].url.params) == {"PageNumber", "PageSize", "MandantId"}  # 6028-6032, no warehouseId


@pytest.mark.parametrize(("zone_name", "due", "expected"), [
    ("Pacific/Auckland", "2019-08-24T14:15:22Z", "2019-08-25"),
    ("Europe/Berlin", "2019-08-24T14:15:22Z", "2019-08-24"),
    ("Europe/Berlin", "2019-08-24T23:30:00Z", "2019-08-25"),
    ("UTC", "2019-08-24T23:30:00Z", "2019-08-24"),
])
def test_open_item_dates_are_business_dates(zone: Any, zone_name: str, due: str, expected: str) -> None:
    zone(zone_name)
    item = OpenItem.model_validate({**OPEN_ITEM_EXAMPLE, "dueDate": due, "issueDate": due})
    row = mappers.qasida_open_item(mappers.Owned("42", item, "liability"))
    assert (row["due_date"], row["issue_date"]) == (expected, expected)
    assert row["last_payment"] == "2019-08-24T14:15:22.000Z"  # a timestamp stays a UTC timestamp


def test_customer_order_dates_are_business_dates(zone: Any) -> None:
    zone("Europe/Berlin")  # CET in November: UTC+1, so 23:30Z on 30 November is 00:30 on 1 December
    order = CustomerOrder.model_validate({"id": 1, "issueDate": "2026-11-30T23:30:00Z",
                                          "fulfillmentDate": "2026-12-01T22:59:59Z", "currency": "EUR"})
    row = mappers.qasida_customer_order(order)
    assert (row["order_date"], row["delivery_date"]) == ("2026-12-01", "2026-12-01")
