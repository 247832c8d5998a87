"""Typed shapes of the Qasida ERP (Asseco Solutions) reads the dashboard makes (seeds/003).

Every list answer is the envelope ``{"data": [...], "pageNumber", "pageSize", "nextPage", "previousPage"}``
(e.g. seeds/003 lines 156-174). Field names are the doc's camelCase, exposed here in snake_case through aliases.
The ERP is loose with types: quantities and money may arrive as numbers or decimal strings, flags as booleans or
"Y"/"N" (products, seeds/003 lines 4240-4250 document them as strings), and dates as ISO text without a zone
(read as UTC, see services.types). Money is exact ``Decimal`` in the row's currency; quantities are Decimal too,
because stock can be fractional (kg, m).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BeforeValidator, Field, field_validator
from pydantic_core import PydanticCustomError

from services.types import (
    IntLike,
    OptBool,
    OptDatetime,
    OptDecimal,
    OptInt,
    OptText,
    VendorModel,
    to_bool,
    to_datetime,
)

T = TypeVar("T")


def _unknown_if_unreadable(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """For fields the document types as plain ``string`` (customers' and products' ``edited``, orders' dates,
    products' Y/N flags): its own examples hold ``"string"`` there, so text we cannot read is "unknown" (None),
    not a broken page. ``raw`` keeps what was sent. Fields the document types as date-time stay strict."""

    def parse_or_none(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parse(value)
        except PydanticCustomError:
            return None

    return parse_or_none


TextDatetime = Annotated[datetime | None, BeforeValidator(_unknown_if_unreadable(to_datetime))]
TextBool = Annotated[bool | None, BeforeValidator(_unknown_if_unreadable(to_bool))]


class Page(VendorModel, Generic[T]):
    """The paging envelope of every ``GetAll``-style answer."""

    data: list[T] = Field(default_factory=list)
    page_number: OptInt = Field(default=None, alias="pageNumber")
    page_size: OptInt = Field(default=None, alias="pageSize")
    next_page: OptText = Field(default=None, alias="nextPage")
    previous_page: OptText = Field(default=None, alias="previousPage")

    @field_validator("next_page", "previous_page", mode="before")
    @classmethod
    def _no_blank_links(cls, value: Any) -> Any:
        """An empty link means "no such page", so paging loops can test ``next_page is None``."""
        return value or None


class StockCard(VendorModel):
    """Stock of one product in one warehouse (``/api/stock/v1/StockCard/GetAll``, seeds/003 lines 6028-6068).

    The doc has no reorder level or last-change field on stock cards: reorder levels are opsdash's own data.
    """

    id: IntLike  # bounded to SQLite's INTEGER (services/types.py)
    warehouse_id: OptInt = Field(default=None, alias="warehouseId")
    warehouse_number: OptText = Field(default=None, alias="warehouseNumber")
    warehouse_name: OptText = Field(default=None, alias="warehouseName")
    product_id: OptInt = Field(default=None, alias="productId")
    product_code: OptText = Field(default=None, alias="productCode")
    product_name: OptText = Field(default=None, alias="productName")
    quantity: OptDecimal = None
    reserve_quantity: OptDecimal = Field(default=None, alias="reserveQuantity")
    available_quantity: OptDecimal = Field(default=None, alias="availableQuantity")
    unit_price: OptDecimal = Field(default=None, alias="unitPrice")
    total_value: OptDecimal = Field(default=None, alias="totalValue")
    unit: OptText = Field(default=None, alias="unit1Shortcut")
    product_validity: OptBool = Field(default=None, alias="productValidity")

    @property
    def available(self) -> Decimal:
        """Free stock: the vendor's figure, else quantity minus reservations."""
        if self.available_quantity is not None:
            return self.available_quantity
        return (self.quantity or Decimal(0)) - (self.reserve_quantity or Decimal(0))


class Warehouse(VendorModel):
    """``/api/stock/v1/Warehouse/GetAll`` (seeds/003 lines 7711-7741)."""

    id: IntLike  # bounded to SQLite's INTEGER (services/types.py)
    number: OptText = None
    name: OptText = None
    type: OptText = None
    is_valid: OptBool = Field(default=None, alias="isValid")
    is_locked: OptBool = Field(default=None, alias="isLocked")
    is_external: OptBool = Field(default=None, alias="isExternal")


class Product(VendorModel):
    """``/api/eshop/v1/Product/GetAll`` (seeds/003 lines 4211-4270); flags are "string" in the doc."""

    id: IntLike = Field(alias="productId")
    code: OptText = Field(default=None, alias="productCode")
    name: OptText = Field(default=None, alias="productName")
    product_type: OptText = Field(default=None, alias="productType")
    vat_rate: OptDecimal = Field(default=None, alias="vat")
    unit: OptText = Field(default=None, alias="unit1Shortcut")
    category_name: OptText = Field(default=None, alias="categoryName")
    weight: OptDecimal = None
    is_valid: TextBool = Field(default=None, alias="productValidity")
    is_stock_item: TextBool = Field(default=None, alias="stockItem")
    edited: TextDatetime = None


class CustomerAddress(VendorModel):
    street: OptText = None
    city: OptText = None
    postal_code: OptText = Field(default=None, alias="postalCode")
    country: OptText = Field(default=None, alias="isoA2CountryCode")
    address_type: OptText = Field(default=None, alias="addressTypeCode")


class Customer(VendorModel):
    """``/api/crm/v1/Customer/GetAll`` (seeds/003 lines 192-250).

    ``dic`` is the VAT number (Czech "DIČ"), ``ico`` the company registration number ("IČO").
    """

    id: IntLike  # bounded to SQLite's INTEGER (services/types.py)
    internal_code: OptText = Field(default=None, alias="internalCode")
    name: OptText = None
    ico: OptText = None
    vat_number: OptText = Field(default=None, alias="dic")
    is_vat_payer: OptBool = Field(default=None, alias="isVATPayer")
    addresses: list[CustomerAddress] = Field(default_factory=list)
    edited: TextDatetime = None

    @property
    def country(self) -> str | None:
        return next((a.country for a in self.addresses if a.country), None)


class CustomerOrderItem(VendorModel):
    """A line of ``customerOrderItems`` (seeds/003 lines 1243-1262): no product code or unit in the doc."""

    id: OptInt = None
    customer_order_id: OptInt = Field(default=None, alias="customerOrderId")
    order: OptInt = None
    product_id: OptInt = Field(default=None, alias="productId")
    quantity: OptDecimal = None
    price: OptDecimal = None
    fulfillment_date: TextDatetime = Field(default=None, alias="fulfillmentDate")
    is_price_with_vat: OptBool = Field(default=None, alias="isPriceWithVat")


class CustomerOrder(VendorModel):
    """``/api/sales/v1/CustomerOrder/GetAll`` (seeds/003 lines 1197-1262)."""

    id: IntLike  # bounded to SQLite's INTEGER (services/types.py)
    order_number: OptText = Field(default=None, alias="orderNumber")
    order_status: OptText = Field(default=None, alias="orderStatus")
    workflow_status_code: OptText = Field(default=None, alias="workflowStatusCode")
    workflow_status_name: OptText = Field(default=None, alias="workflowStatusName")
    is_paid: OptBool = Field(default=None, alias="isPaid")
    issue_date: TextDatetime = Field(default=None, alias="issueDate")
    fulfillment_date: TextDatetime = Field(default=None, alias="fulfillmentDate")
    customer_id: OptInt = Field(default=None, alias="customerId")
    customer_name: OptText = Field(default=None, alias="clientCustomerName")
    warehouse_id: OptInt = Field(default=None, alias="warehouseId")
    currency: OptText = None
    price: OptDecimal = None
    invoice_id: OptInt = Field(default=None, alias="invoiceId")
    items: list[CustomerOrderItem] = Field(default_factory=list, alias="customerOrderItems")


class OpenItem(VendorModel):
    """A row of the claim list (what a customer owes us, seeds/003 lines 150-173) or of the liability list
    (what we owe, seeds/003 lines 3124-3147): both lists have exactly this shape.

    The rows carry no customer: the lists are read per customer (`customerId` is a required parameter),
    so the caller knows whose items they are. Money is exact in the row's currency.
    """

    invoice_id: OptInt = Field(default=None, alias="invoiceId")
    type: OptText = None
    document_number: OptText = Field(default=None, alias="documentNumber")
    invoiced_amount: OptDecimal = Field(default=None, alias="invoicedAmount")
    currency: OptText = None
    remains_to_be_paid: OptDecimal = Field(default=None, alias="remainsToBePaid")
    days_delayed: OptInt = Field(default=None, alias="daysDelayed")
    due_date: OptDatetime = Field(default=None, alias="dueDate")
    issue_date: OptDatetime = Field(default=None, alias="issueDate")
    variable_symbol: OptText = Field(default=None, alias="variableSymbol")
    last_payment: OptDatetime = Field(default=None, alias="lastPayment")

    @property
    def key(self) -> str | None:
        """The row's identity: the invoice id, else the document number."""
        return str(self.invoice_id) if self.invoice_id is not None else self.document_number


Claim = OpenItem
Liability = OpenItem


class PaymentStatus(VendorModel):
    """A row of ``/api/finance/v1/Invoice/GetPaymentStatus`` (seeds/003 lines 1120-1143, one item of its paged
    ``data``; asked by ``variableSymbol``, line 1119): totals and what is unpaid. Its dates are typed
    ``string`` there (the example holds "string"): unreadable text is unknown, not a broken answer."""

    id: OptInt = None
    invoice_number: OptText = Field(default=None, alias="invoiceNumber")
    issue_date: TextDatetime = Field(default=None, alias="issueDate")
    payment_due_date: TextDatetime = Field(default=None, alias="paymentDueDate")
    variable_symbol: OptText = Field(default=None, alias="variableSymbol")
    customer_id: OptInt = Field(default=None, alias="customerId")
    customer_name: OptText = Field(default=None, alias="customerName")
    total_sum: OptDecimal = Field(default=None, alias="totalSum")
    not_paid_sum: OptDecimal = Field(default=None, alias="notPaidSum")
    last_payment_date: TextDatetime = Field(default=None, alias="lastPaymentDate")
    invoice_type: OptText = Field(default=None, alias="invoiceType")

    @property
    def is_paid(self) -> bool | None:
        return None if self.not_paid_sum is None else self.not_paid_sum <= 0
