"""Qasida models: doc-shaped pages parse; numbers as strings, Y/N flags and zone-less dates are tolerated."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.qasida.models import (
    Customer,
    CustomerOrder,
    Liability,
    OpenItem,
    Page,
    PaymentStatus,
    Product,
    StockCard,
    Warehouse,
)


def _page(*rows: dict[str, Any], next_page: str = "") -> dict[str, Any]:
    return {"data": list(rows), "pageNumber": 1, "pageSize": 50, "nextPage": next_page, "previousPage": None}


def test_stock_card_page() -> None:
    row = {
        "id": 7,
        "warehouseId": 2,
        "warehouseNumber": "W02",
        "warehouseName": "Praha",
        "productId": 11,
        "productCode": "P-11",
        "productName": "Pallet wrap",
        "quantity": "120.5",
        "reserveQuantity": 20,
        "availableQuantity": "100.5",
        "unitPrice": "12.40",
        "unit1Shortcut": "ks",
        "productValidity": "Y",
    }
    page = Page[StockCard].model_validate(_page(row, next_page="/api/stock/v1/StockCard/GetAll?PageNumber=2"))
    card = page.data[0]
    assert (card.quantity, card.reserve_quantity, card.available) == (
        Decimal("120.5"),
        Decimal(20),
        Decimal("100.5"),
    )
    assert card.unit_price == Decimal("12.40") and card.product_validity is True
    assert page.next_page is not None and page.page_number == 1


def test_stock_card_available_falls_back_to_quantity_minus_reserved() -> None:
    card = StockCard.model_validate({"id": "8", "quantity": "10", "reserveQuantity": "2.5"})
    assert card.id == 8 and card.available == Decimal("7.5")


def test_empty_next_page_means_last_page() -> None:
    assert Page[Warehouse].model_validate(_page({"id": 1})).next_page is None


@pytest.mark.parametrize(
    ("flag", "expected"), [("Y", True), ("N", False), (True, True), ("", None), (None, None)]
)
def test_warehouse_and_product_flags(flag: Any, expected: bool | None) -> None:
    assert Warehouse.model_validate({"id": 1, "isValid": flag}).is_valid is expected
    assert Product.model_validate({"productId": 1, "stockItem": flag}).is_stock_item is expected


def test_product_fields() -> None:
    product = Product.model_validate(
        {
            "productId": "5",
            "productCode": "P-5",
            "productName": "Tape",
            "vat": "21",
            "edited": "2024-03-01T08:00:00",
        }
    )
    assert (product.id, product.code, product.vat_rate) == (5, "P-5", Decimal(21))
    assert product.edited == datetime(2024, 3, 1, 8, tzinfo=UTC)


def test_customer_vat_number_is_dic() -> None:
    customer = Customer.model_validate(
        {
            "id": 3,
            "name": "Alfa s.r.o.",
            "ico": "25596641",
            "dic": "CZ25596641",
            "isVATPayer": "Y",
            "addresses": [{"isoA2CountryCode": "CZ", "city": "Brno"}],
        }
    )
    assert (customer.vat_number, customer.is_vat_payer, customer.country) == ("CZ25596641", True, "CZ")


def test_customer_order() -> None:
    order = CustomerOrder.model_validate(
        {
            "id": 42,
            "orderNumber": "OP-42",
            "workflowStatusCode": "SHIPPED",
            "workflowStatusName": "Shipped",
            "isPaid": "N",
            "issueDate": "2024-05-02",
            "currency": "CZK",
            "price": "1250.50",
            "customerId": 3,
            "customerOrderItems": [{"id": 1, "productId": 11, "quantity": "2", "price": "625.25"}],
        }
    )
    assert order.is_paid is False and order.workflow_status_code == "SHIPPED"
    assert order.issue_date == datetime(2024, 5, 2, tzinfo=UTC)
    assert order.price == Decimal("1250.50") and order.items[0].quantity == Decimal(2)


def test_liability() -> None:
    liability = Liability.model_validate(
        {
            "invoiceId": 9,
            "type": "FV",
            "documentNumber": "FV-2024-009",
            "invoicedAmount": 1000.1,
            "currency": "EUR",
            "remainsToBePaid": "400.10",
            "daysDelayed": "12",
            "dueDate": "2024-06-01T00:00:00",
            "lastPayment": "",
        }
    )
    assert liability.remains_to_be_paid == Decimal("400.10") and liability.invoiced_amount == Decimal(
        "1000.1"
    )
    assert liability.days_delayed == 12 and liability.last_payment is None
    assert liability.due_date == datetime(2024, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(("not_paid", "paid"), [("0", True), ("10.00", False), (None, None)])
def test_payment_status(not_paid: Any, paid: bool | None) -> None:
    status = PaymentStatus.model_validate(
        {"id": 1, "invoiceNumber": "FV-1", "totalSum": "10.00", "notPaidSum": not_paid}
    )
    assert status.is_paid is paid


def test_open_item_is_the_document_row_without_a_customer() -> None:
    """Claims and liabilities share the row of seeds/003 lines 157-168; neither carries a customer."""
    item = OpenItem.model_validate({"documentNumber": "FV-1", "customerId": 5, "remainsToBePaid": 0.125})
    assert item.key == "FV-1" and not hasattr(item, "customer_id") and item.remains_to_be_paid == Decimal("0.125")
    assert OpenItem.model_validate({"invoiceId": 9, "documentNumber": "FV-9"}).key == "9"


def test_no_reorder_level_on_stock_cards() -> None:
    """`minimumQuantity` is not in the ERP's document (issue 9 point 4): not read even when sent."""
    card = StockCard.model_validate({"id": 1, "minimumQuantity": 20})
    assert "minimumQuantity" not in card.model_dump_json(by_alias=True)
