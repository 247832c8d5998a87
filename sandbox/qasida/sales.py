"""Customers and customer orders.

Order i (1..erp_orders) is the business's sales order `world.order_number(i)` for
`world.order_customer(i)`, dated `world.order_date(i)`; the seeded workflow status follows the order's
age (old orders invoiced, the last week's still open), and `tick` moves a few recent ones along.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sandbox.context import SandboxContext
from sandbox.qasida.table import Table, mix
from sandbox.qasida.wire import money, naive
from sandbox.world import Customer

_DAY = 86_400
_CUSTOMER, _ORDER, _ITEMS = 51, 31, 33  # hash salts

# Workflow (QasidaEnums.GetCustomerOrderWorkflowStatus) in order, with the coarse orderStatus of each.
WORKFLOW = {"NEW": ("New", "OPEN"), "CONFIRMED": ("Confirmed", "OPEN"), "RESERVED": ("Reserved", "RESERVED"),
            "PICKING": ("Picking", "RESERVED"), "SHIPPED": ("Shipped", "FULFILLED"),
            "INVOICED": ("Invoiced", "FULFILLED"), "CANCELLED": ("Cancelled", "CANCELLED")}
NOT_FULFILLED = frozenset({"NEW", "CONFIRMED", "RESERVED", "PICKING"})
RESERVED = frozenset({"RESERVED", "PICKING"})
_NEXT = {"NEW": "CONFIRMED", "CONFIRMED": "RESERVED", "RESERVED": "PICKING", "PICKING": "SHIPPED",
         "SHIPPED": "INVOICED"}
_RANK = {"NEW": 0, "CONFIRMED": 1, "RESERVED": 2, "PICKING": 3, "CANCELLED": 3, "SHIPPED": 4, "INVOICED": 5}


class Sales:
    def __init__(self, ctx: SandboxContext) -> None:
        self.world, self.seed = ctx.world, ctx.world.seed
        self.mandant = int(ctx.config.credentials.qasida_mandant_id)
        self.n_orders = ctx.world.sizes["erp_orders"]
        self.first_liability = self.n_orders - ctx.world.sizes["qasida_liabilities"] + 1
        anchor = ctx.world.anchor
        self.customers = Table(ctx.world.sizes["customers"], anchor,
                               lambda c: _DAY + mix(self.seed, _CUSTOMER, c) % (400 * _DAY))
        self.orders = Table(self.n_orders, anchor, self._order_age)
        self.arrivals: dict[int, datetime] = {}  # orders placed after the start (sandbox/living.py)
        # Set by the app to the finance side's answer: a customer that we also owe (liability list).
        self.is_supplier: Callable[[int], bool] = lambda customer_id: False

    # -- customers -------------------------------------------------------------------------------
    def customer(self, c: int) -> dict[str, Any]:
        item = self.world.customers[c - 1]
        vat = [{"id": item.id, "value": item.vat_number}] if item.vat_number else []
        region = [{"id": item.id, "customerId": item.id, "code": "REGION", "listValueShortcut": None,
                   "listValueName": None, "nonListValue": item.region}] if item.region else []
        return {
            "id": item.id, "mandantId": self.mandant, "internalCode": item.code,
            "ico": str(10_000_000 + item.id),  # the business id is a numeric string
            "dic": item.vat_number, "name": item.name, "isVATPayer": item.vat_number is not None,
            "validTo": None, "customerTypeId": "PO", "purchaserId": None, "isPurchaser": True,
            "priceListId": 1, "supplierId": item.id if self.is_supplier(item.id) else None,
            "isSupplier": self.is_supplier(item.id),
            "edited": naive(self.customers.changed(c)),
            "addresses": [{"id": item.id, "street": item.street, "city": item.city, "postalCode": item.postal_code,
                           "buildingNumber": None, "propertyRegistrationNumber": None, "addressTypeCode": "HQ",
                           "validTo": None, "isoA2CountryCode": item.country}],
            "contacts": [{"id": item.id, "value": item.email, "type": "EMAIL", "note": None, "validTo": None}],
            "icdpHs": vat, "loyaltyId": None, "cardNumber": None, "optionalData": region,
        }

    # -- order state -----------------------------------------------------------------------------
    def _age_days(self, i: int) -> float:
        return (self.world.anchor - self.world.order_date(i)).total_seconds() / _DAY

    def _base_status(self, i: int) -> str:
        age, h = self._age_days(i), mix(self.seed, _ORDER, i)
        if age > 20:
            return "CANCELLED" if h % 33 == 0 and i < self.first_liability else "INVOICED"
        if age > 7:
            return ("PICKING", "SHIPPED", "INVOICED", "INVOICED")[h % 4]
        if age > 2:
            return ("CONFIRMED", "RESERVED", "PICKING")[h % 3]
        return ("NEW", "CONFIRMED")[h % 2]

    def _order_age(self, i: int) -> int:
        """Seconds before the anchor of the last status change: three days per workflow step."""
        age = int(self._age_days(i) * _DAY)
        return age - min(age, _RANK[self._base_status(i)] * 3 * _DAY)

    def status(self, i: int) -> str:
        over = self.orders.overlay.get(i)
        return over["status"] if over and "status" in over else self._base_status(i)

    def is_paid(self, i: int) -> bool:
        over = self.orders.overlay.get(i)
        if over and "isPaid" in over:
            return bool(over["isPaid"])
        # Invoices of the last `qasida_liabilities` orders are open receivables; older ones are settled.
        return self._base_status(i) in ("SHIPPED", "INVOICED") and i < self.first_liability

    def items(self, i: int) -> list[tuple[int, int, int]]:
        """(product id, quantity, unit price in cents) per order line."""
        n_products = self.world.sizes["products"]
        out = []
        for k in range(1 + mix(self.seed, _ITEMS, i) % 4):
            product = self.world.products[mix(self.seed, _ITEMS, i, k) % n_products]
            out.append((product.id, 1 + mix(self.seed, _ITEMS, i, k, 1) % 40, product.price_cents))
        return out

    def total_cents(self, i: int) -> int:
        return sum(q * price for _, q, price in self.items(i))

    def warehouse_id(self, i: int) -> int:
        return 1 + mix(self.seed, _ORDER, i, 2) % self.world.sizes["warehouses"]

    # -- order record ----------------------------------------------------------------------------
    def arrive(self, when: datetime) -> int:
        """A new customer order (index n+1), placed `when`, in status NEW."""
        self.n_orders += 1
        self.orders.n = self.n_orders
        self.arrivals[self.n_orders] = when
        self.orders.touch(self.n_orders, when, status="NEW")
        return self.n_orders

    def order(self, i: int) -> dict[str, Any]:
        customer, status = self.world.order_customer(i), self.status(i)
        issued = self.arrivals.get(i) or self.world.order_date(i)
        items = self.items(i)
        return {
            "id": i, "orderNumber": self.world.order_number(i), "orderStatus": WORKFLOW[status][1],
            "typeDocumentId": "OV", "issueDate": naive(issued), "fulfillmentDate": naive(issued + timedelta(days=5)),
            "warehouseId": self.warehouse_id(i), "warehouseNumber": f"WH{self.warehouse_id(i):03d}",
            "currency": customer.currency, "priceListId": 1, "customerId": customer.id, "mandantId": self.mandant,
            **_ship_to(customer), "price": money(sum(q * p for _, q, p in items)),
            "externalOrderNumber": f"PO-{customer.code}-{i}", "isPaid": self.is_paid(i),
            "workflowStatusCode": status, "workflowStatusName": WORKFLOW[status][0],
            "invoiceId": i if status == "INVOICED" or i >= self.first_liability else None,
            "customerOrderItems": [_item(i, k, line) for k, line in enumerate(items, 1)],
            "packets": [], "customerInvoicePayments": [], "deliveryNotes": [],
            "lastChange": naive(self.orders.changed(i), micro=True),  # sandbox extension: what `since` compares
        }

    # -- tick ------------------------------------------------------------------------------------
    def tick(self, rng: random.Random, now: datetime, moves: int = 3, living: bool = False) -> list[int]:
        """Advance a few recent open orders one workflow step (now and then cancel one). Living: a new order
        arrives for every one that reached its end (invoiced or cancelled)."""
        window = max(1, self.n_orders * 21 // 365)
        changed: list[int] = []
        for _ in range(moves * 10):
            i = self.n_orders - rng.randrange(min(window, self.n_orders))
            status = self.status(i)
            if status in _NEXT and i not in changed:
                new = "CANCELLED" if rng.random() < 0.05 and status in NOT_FULFILLED else _NEXT[status]
                self.orders.touch(i, now, status=new)
                changed.append(i)
            if len(changed) == moves:
                break
        if living:
            for _ in [i for i in changed if self.status(i) not in _NEXT]:
                self.arrive(now)
        return changed

    def mark_paid(self, i: int, now: datetime) -> None:
        self.orders.touch(i, now, isPaid=True)


def _ship_to(c: Customer) -> dict[str, Any]:
    return {"paymentMethod": "TRANSFER", "fullClientName": None, "clientCustomerName": c.name, "clientPhone": None,
            "clientEmail": c.email, "clientAddressStreet": c.street, "clientCity": c.city,
            "clientPostalCode": c.postal_code, "clientCountry": c.country}


def _item(order_id: int, k: int, line: tuple[int, int, int]) -> dict[str, Any]:
    product_id, quantity, price = line
    return {"id": order_id * 10 + k, "customerOrderId": order_id, "productId": product_id, "quantity": quantity,
            "quantity2": quantity, "price": money(price), "priceListId": 1, "rabat": 0, "order": k,
            "isPriceWithVat": False}
