"""Claims (what customers owe the business), liabilities (what it owes them) and invoice payment status.

Both lists are read per customer, as the document has them (seeds/003 lines 150-173 claims, 3124-3147
liabilities): `customerId` required, `allClaims`/`allLiabilities` default false (open items only),
`onlyDelayed` default false, no `since`, and rows that carry no customer.

Claim j (1..qasida_liabilities) is the sales invoice `world.invoice_number(i)` of order
i = erp_orders - qasida_liabilities + j: the newest orders' invoices, so some are not yet due and the
oldest are overdue. A quarter are partly paid. Liability k is a purchase invoice from one of the
customers that also supply the business (about a quarter of them). `tick` (and `POST
/_admin/qasida/pay`) pays items; a fully paid item leaves the open list and shows only with the
"all" flag, so a sync sees the settlement by its absence.
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
from sandbox.world import Customer

_CLAIM, _LIABILITY, _SUPPLIER = 61, 71, 73  # hash salts
_TERMS_DAYS = (14, 30, 30, 45)
LIABILITY_ID_BASE = 5_000_000  # purchase invoice ids, apart from the sales invoices' (= order ids)


def variable_symbol(document_number: str) -> str:
    """The payment reference of a document: the last 10 digits of its number (one rule for the open-item
    rows and the payment status, so `GetPaymentStatus?variableSymbol=` finds the claim it came from)."""
    return "".join(ch for ch in document_number if ch.isdigit())[-10:]


class OpenItems:
    """Shared behaviour of the two lists: payments in an overlay, open/delay, rows, per-customer index."""

    kind = ""

    def __init__(self, ctx: SandboxContext, n: int) -> None:
        self.world, self.clock, self.seed = ctx.world, ctx.clock, ctx.world.seed
        self.table = Table(n, ctx.world.anchor, lambda j: 0)
        self.arrivals: dict[int, datetime] = {}  # items issued after the start: index -> issue time
        self._initial = n

    # -- what a subclass says about item j ---------------------------------------------------------
    def customer(self, j: int) -> Customer:
        raise NotImplementedError

    def total_cents(self, j: int) -> int:
        raise NotImplementedError

    def issued(self, j: int) -> datetime:
        raise NotImplementedError

    def invoice_id(self, j: int) -> int:
        raise NotImplementedError

    def document_number(self, j: int) -> str:
        raise NotImplementedError

    def document_type(self) -> str:
        raise NotImplementedError

    # -- state -----------------------------------------------------------------------------------
    def due(self, j: int) -> datetime:
        return self.issued(j) + timedelta(days=_TERMS_DAYS[mix(self.seed, _CLAIM, self.kind == "claims", j) % 4])

    def _base_paid(self, j: int) -> tuple[int, datetime | None]:
        h = mix(self.seed, _CLAIM, self.kind == "claims", j, 1)
        if h % 4:
            return 0, None
        return (h >> 8) % max(1, self.total_cents(j)), min(
            self.world.anchor, self.issued(j) + timedelta(days=(h >> 40) % 20))

    def paid(self, j: int) -> tuple[int, datetime | None]:
        """(paid cents, last payment time)."""
        over = self.table.overlay.get(j)
        if over:
            return over["paid"], over["lastPayment"]
        return (0, None) if j in self.arrivals else self._base_paid(j)

    def remains(self, j: int) -> int:
        return self.total_cents(j) - self.paid(j)[0]

    def is_open(self, j: int) -> bool:
        return self.remains(j) > 0

    def days_delayed(self, j: int) -> int:
        days = (self.clock.now().date() - self.due(j).date()).days
        return days if days > 0 and self.is_open(j) else 0

    @cached_property
    def by_customer(self) -> dict[int, list[int]]:
        """Item indexes per customer id, ascending (built on first use)."""
        index: dict[int, list[int]] = {}
        for j in range(1, self.table.n + 1):
            index.setdefault(self.customer(j).id, []).append(j)
        return index

    def of_customer(self, customer_id: int, every: bool, only_delayed: bool) -> list[int]:
        """The customer's items: open ones unless `every`; only delayed ones if `only_delayed`."""
        items = self.by_customer.get(customer_id, [])
        return [j for j in items if (every or self.is_open(j)) and (not only_delayed or self.days_delayed(j) > 0)]

    def index_of(self, invoice_id: int) -> int | None:
        j = invoice_id - self.invoice_id(0)
        return j if 1 <= j <= self.table.n else None

    # -- records ---------------------------------------------------------------------------------
    def row(self, j: int) -> dict[str, Any]:
        """Exactly the document's fields (seeds/003 lines 157-168): no customer in the row."""
        total, (paid, last) = self.total_cents(j), self.paid(j)
        number = self.document_number(j)
        return {
            "invoiceId": self.invoice_id(j), "type": self.document_type(), "documentNumber": number,
            "invoicedAmount": money(total), "currency": self.customer(j).currency,
            "remainsToBePaid": money(total - paid), "daysDelayed": self.days_delayed(j),
            "dueDate": zulu(self.due(j)), "issueDate": zulu(self.issued(j)),
            "variableSymbol": variable_symbol(number),
            "lastPayment": zulu(last) if last else None,
        }

    # -- payments --------------------------------------------------------------------------------
    def pay(self, j: int, cents: int, now: datetime) -> None:
        self.table.touch(j, now, paid=self.paid(j)[0] + min(cents, self.remains(j)), lastPayment=now)

    def arrive(self, when: datetime) -> int:
        """A newly issued item (a living world, sandbox/living.py): index n+1, unpaid, issued `when`."""
        self.table.n += 1
        j = self.table.n
        self.arrivals[j] = when
        self.table.touch(j, when, paid=0, lastPayment=None)
        if "by_customer" in self.__dict__:
            self.by_customer.setdefault(self.customer(j).id, []).append(j)
        return j

    def tick(self, rng: random.Random, now: datetime, moves: int = 2, living: bool = False) -> list[int]:
        """A few open items are paid, fully or in part. Living: picks among the newest items (3x the start's
        count), a customer already late pays this time only one time in ten, and every item paid off is
        replaced by a newly issued one."""
        changed: list[int] = []
        start = max(1, self.table.n - 3 * self._initial) if living else 1
        for _ in range(moves * 10):
            j = rng.randint(start, self.table.n)
            remains = self.remains(j)
            if remains <= 0 or j in changed:
                continue
            if living and self.days_delayed(j) > 0 and rng.random() >= 0.1:
                continue
            self.pay(j, remains if rng.random() < 0.5 else max(1, remains // 2), now)
            changed.append(j)
            if living and self.remains(j) <= 0:
                self.arrive(now)
            if len(changed) == moves:
                break
        return changed


class Claims(OpenItems):
    """Sales invoices of the newest orders: what customers owe the business."""

    kind = "claims"

    def __init__(self, ctx: SandboxContext, sales: Sales) -> None:
        super().__init__(ctx, ctx.world.sizes["qasida_liabilities"])
        self.sales = sales
        self.offset = ctx.world.sizes["erp_orders"] - ctx.world.sizes["qasida_liabilities"]

    def order_of(self, j: int) -> int:
        return self.offset + j

    def customer(self, j: int) -> Customer:
        return self.world.order_customer(self.order_of(j))

    def total_cents(self, j: int) -> int:
        return self.sales.total_cents(self.order_of(j))

    def issued(self, j: int) -> datetime:
        return self.arrivals.get(j) or self.world.order_date(self.order_of(j))

    def invoice_id(self, j: int) -> int:
        return self.order_of(j)

    def document_number(self, j: int) -> str:
        return self.world.invoice_number(self.order_of(j))

    def document_type(self) -> str:
        return "FV"  # issued invoice

    def pay(self, j: int, cents: int, now: datetime) -> None:
        super().pay(j, cents, now)
        if self.remains(j) <= 0:
            self.sales.mark_paid(self.order_of(j), now)


class Liabilities(OpenItems):
    """Purchase invoices from the customers that also supply the business: what it owes them."""

    kind = "liabilities"

    def __init__(self, ctx: SandboxContext) -> None:
        super().__init__(ctx, max(10, ctx.world.sizes["qasida_liabilities"] // 5))

    @cached_property
    def suppliers(self) -> list[Customer]:
        chosen = [c for c in self.world.customers if mix(self.seed, _SUPPLIER, c.id) % 4 == 0]
        return chosen or self.world.customers[:1]

    def customer(self, j: int) -> Customer:
        return self.suppliers[mix(self.seed, _LIABILITY, j) % len(self.suppliers)]

    def total_cents(self, j: int) -> int:
        return 5_000 + mix(self.seed, _LIABILITY, j, 1) % 2_000_000

    def issued(self, j: int) -> datetime:
        if j in self.arrivals:
            return self.arrivals[j]
        return self.world.anchor - timedelta(days=mix(self.seed, _LIABILITY, j, 2) % 120, hours=9)

    def invoice_id(self, j: int) -> int:
        return LIABILITY_ID_BASE + j

    def document_number(self, j: int) -> str:
        return f"PINV-{self.issued(j).year}-{j:07d}"

    def document_type(self) -> str:
        return "FP"  # received invoice


class Finance:
    def __init__(self, ctx: SandboxContext, sales: Sales) -> None:
        self.world, self.sales = ctx.world, sales
        self.n_orders = ctx.world.sizes["erp_orders"]
        self.claims, self.liabilities = Claims(ctx, sales), Liabilities(ctx)
        self.living = ctx.config.living
        self.offset = self.claims.offset

    def is_supplier(self, customer_id: int) -> bool:
        return customer_id in self.liabilities.by_customer

    def invoice_index(self, invoice_number: str) -> int | None:
        """The order index i of a sales invoice number, if the number is one this ERP issued."""
        tail = invoice_number.rsplit("-", 1)[-1]
        if not tail.isdigit():
            return None
        i = int(tail)
        if not 1 <= i <= self.n_orders or self.world.invoice_number(i) != invoice_number:
            return None
        if i <= self.offset and self.sales.status(i) != "INVOICED":
            return None  # cancelled or not yet invoiced
        return i

    def invoices_with_symbol(self, symbol: str) -> list[int]:
        """The order indexes i of the sales invoices whose variable symbol is `symbol` (0 or 1 here)."""
        if not (symbol.isdigit() and len(symbol) >= 7):
            return []
        i = int(symbol[-7:])
        number = self.world.invoice_number(i) if i >= 1 else ""
        return [i] if number and variable_symbol(number) == symbol and self.invoice_index(number) else []

    def payment_status(self, i: int) -> dict[str, Any]:
        """The invoice's payment state, shaped like the doc's customerInvoicePayments item."""
        customer, total = self.world.order_customer(i), self.sales.total_cents(i)
        if i > self.offset:
            j = i - self.offset
            paid, last = self.claims.paid(j)
            due = self.claims.due(j)
        else:  # older invoices were settled a few days before they were due
            paid, due = total, self.world.order_date(i) + timedelta(days=30)
            last = due - timedelta(days=mix(self.world.seed, _CLAIM, i, 2) % 10)
        return {
            "id": i, "invoiceNumber": self.world.invoice_number(i), "issueDate": naive(self.world.order_date(i)),
            "paymentDueDate": naive(due), "variableSymbol": variable_symbol(self.world.invoice_number(i)),
            "customerId": customer.id, "mandantId": self.sales.mandant, "paymentMethod": "TRANSFER",
            "customerName": customer.name, "customerIco": str(10_000_000 + customer.id),
            "customerInternalCode": customer.code, "totalSum": money(total), "notPaidSum": money(total - paid),
            "lastPaymentDate": naive(last) if last else None, "invoiceType": "FV", "parentId": None,
            "currency": customer.currency, "isPaid": paid >= total,  # sandbox extensions
        }

    def tick(self, rng: random.Random, now: datetime) -> None:
        self.claims.tick(rng, now, living=self.living)
        self.liabilities.tick(rng, now, moves=1, living=self.living)
