"""Liabilities (open receivables) and invoice payment status.

Liability j (1..qasida_liabilities) is the invoice `world.invoice_number(i)` of order
i = erp_orders - qasida_liabilities + j: the newest orders' invoices, so some are not yet due and the
oldest are overdue by up to ~150 days (at large scale). A quarter are partly paid; `tick` pays some
off. Settled liabilities stay in the list with remainsToBePaid 0 so an incremental (`since`) sync sees
the settlement.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sandbox.context import SandboxContext
from sandbox.qasida.sales import Sales
from sandbox.qasida.table import Table, mix
from sandbox.qasida.wire import money, naive, zulu

_DAY = 86_400
_LIABILITY = 61  # hash salt
_TERMS_DAYS = (14, 30, 30, 45)


class Finance:
    def __init__(self, ctx: SandboxContext, sales: Sales) -> None:
        self.world, self.clock, self.sales, self.seed = ctx.world, ctx.clock, sales, ctx.world.seed
        self.n_orders = ctx.world.sizes["erp_orders"]
        self.offset = self.n_orders - ctx.world.sizes["qasida_liabilities"]
        self.table = Table(ctx.world.sizes["qasida_liabilities"], ctx.world.anchor, self._age)

    def order_of(self, j: int) -> int:
        return self.offset + j

    # -- state -----------------------------------------------------------------------------------
    def due(self, j: int) -> datetime:
        terms = _TERMS_DAYS[mix(self.seed, _LIABILITY, j) % len(_TERMS_DAYS)]
        return self.world.order_date(self.order_of(j)) + timedelta(days=terms)

    def _base_paid(self, j: int) -> tuple[int, datetime | None]:
        h = mix(self.seed, _LIABILITY, j, 1)
        if h % 4:
            return 0, None
        total = self.sales.total_cents(self.order_of(j))
        issued = self.world.order_date(self.order_of(j))
        return (h >> 8) % max(1, total), min(self.world.anchor, issued + timedelta(days=(h >> 40) % 20))

    def paid(self, j: int) -> tuple[int, datetime | None]:
        """(paid cents, last payment time)."""
        over = self.table.overlay.get(j)
        return (over["paid"], over["lastPayment"]) if over else self._base_paid(j)

    def remains(self, j: int) -> int:
        return self.sales.total_cents(self.order_of(j)) - self.paid(j)[0]

    def is_open(self, j: int) -> bool:
        over = self.table.overlay.get(j)
        return over is None or self.remains(j) > 0  # seeded part payments never settle an invoice

    def days_delayed(self, j: int) -> int:
        days = (self.clock.now().date() - self.due(j).date()).days
        return days if days > 0 and self.is_open(j) else 0

    @cached_property
    def by_customer(self) -> dict[int, list[int]]:
        """Liability indexes per customer id, ascending (built on first use)."""
        index: dict[int, list[int]] = {}
        for j in range(1, self.table.n + 1):
            index.setdefault(self.world.order_customer(self.order_of(j)).id, []).append(j)
        return index

    def _age(self, j: int) -> int:
        last = self._base_paid(j)[1] or self.world.order_date(self.order_of(j))
        return max(0, int((self.world.anchor - last).total_seconds()))

    # -- records ---------------------------------------------------------------------------------
    def liability(self, j: int) -> dict[str, Any]:
        i = self.order_of(j)
        customer, total = self.world.order_customer(i), self.sales.total_cents(i)
        paid, last = self.paid(j)
        number = self.world.invoice_number(i)
        return {
            "invoiceId": i, "type": "FV", "documentNumber": number, "invoicedAmount": money(total),
            "currency": customer.currency, "remainsToBePaid": money(total - paid),
            "daysDelayed": self.days_delayed(j), "dueDate": zulu(self.due(j)),
            "issueDate": zulu(self.world.order_date(i)), "variableSymbol": number.replace("-", "")[3:],
            "lastPayment": zulu(last) if last else None,
            # Not in the doc's by-customer list (sandbox extension for the list of all customers):
            "customerId": customer.id, "customerInternalCode": customer.code,
            "lastChange": naive(self.table.changed(j), micro=True),
        }

    def liability_index(self, invoice_number: str) -> int | None:
        """The order index i of an invoice number, if the number is one this ERP issued."""
        tail = invoice_number.rsplit("-", 1)[-1]
        if not tail.isdigit():
            return None
        i = int(tail)
        if not 1 <= i <= self.n_orders or self.world.invoice_number(i) != invoice_number:
            return None
        if i <= self.offset and self.sales.status(i) != "INVOICED":
            return None  # cancelled or not yet invoiced
        return i

    def payment_status(self, i: int) -> dict[str, Any]:
        """The invoice's payment state, shaped like the doc's customerInvoicePayments item."""
        customer, total = self.world.order_customer(i), self.sales.total_cents(i)
        if i > self.offset:
            j = i - self.offset
            paid, last = self.paid(j)
            due = self.due(j)
        else:  # older invoices were settled a few days before they were due
            paid, due = total, self.world.order_date(i) + timedelta(days=30)
            last = due - timedelta(days=mix(self.seed, _LIABILITY, i, 2) % 10)
        return {
            "id": i, "invoiceNumber": self.world.invoice_number(i), "issueDate": naive(self.world.order_date(i)),
            "paymentDueDate": naive(due), "variableSymbol": self.world.invoice_number(i).replace("-", "")[3:],
            "customerId": customer.id, "mandantId": self.sales.mandant, "paymentMethod": "TRANSFER",
            "customerName": customer.name, "customerIco": str(10_000_000 + customer.id),
            "customerInternalCode": customer.code, "totalSum": money(total), "notPaidSum": money(total - paid),
            "lastPaymentDate": naive(last) if last else None, "invoiceType": "FV", "parentId": None,
            "currency": customer.currency, "isPaid": paid >= total,  # sandbox extensions
        }

    # -- tick ------------------------------------------------------------------------------------
    def tick(self, rng: random.Random, now: datetime, moves: int = 2) -> list[int]:
        """Customers pay a few open invoices, fully or in part."""
        changed: list[int] = []
        for _ in range(moves * 10):
            j = rng.randint(1, self.table.n)
            remains = self.remains(j)
            if remains <= 0 or j in changed:
                continue
            payment = remains if rng.random() < 0.5 else max(1, remains // 2)
            self.table.touch(j, now, paid=self.paid(j)[0] + payment, lastPayment=now)
            if payment == remains:
                self.sales.mark_paid(self.order_of(j), now)
            changed.append(j)
            if len(changed) == moves:
                break
        return changed
