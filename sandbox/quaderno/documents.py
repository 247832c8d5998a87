"""Quaderno invoices, credit notes and contacts, computed on demand from the shared world.

Nothing is materialised at start: invoice k is a pure function of (seed, k) and the business
clock, so 100k invoices cost no memory or start-up time and a page of 100 is 100 small builds.
Invoice k bills ERP order `offset + k`: the newest `quaderno_invoices` orders (at large scale
every order, so invoice k is order k). Ids ascend with creation time and are contiguous per kind,
so `created_before=ID` paging (seeds/001 lines 64-75) is a slice. Bodies follow the recorded
shapes (cassettes paginated_invoices, all_contacts): money as strings such as "6000.0" next to an
integer `total_cents`, the contact embedded as {id, full_name}.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.context import Clock
from sandbox.quaderno import rates
from sandbox.world import Customer, Product, World

INVOICE_BASE, CREDIT_BASE, CONTACT_BASE = 1_900_000, 2_900_000, 1_100_000
PAYMENT_BASE, PARTIAL_BASE, ITEM_BASE = 5_000_000, 6_000_000, 7_000_000
_EXCHANGE = {"EUR": "1.0", "GBP": "1.1689", "USD": "0.921", "PLN": "0.2317", "DKK": "0.1341", "SEK": "0.0874"}
_TERMS = (14, 30, 30, 60)
REMOVED_EVERY = 97  # at least; Book.removed
REMOVED_AFTER = timedelta(minutes=20)
# Fields the sandbox never fills, with their recorded empty values (immutable ones only).
_CONSTANT: dict[str, Any] = {
    "blocked": False,
    "street_line_2": None,
    "subject": None,
    "discount_cents": "0.0",
    "processor_fee_cents": None,
    "payment_details": None,
    "notes": None,
    "processor": None,
    "processor_id": None,
}


@dataclass(frozen=True)
class Payment:
    due: date
    paid_at: datetime | None  # when the customer pays (in business time), None if never
    uncollectible: bool  # never pays and is written off 90 days after the due date


@dataclass(frozen=True)
class Lines:
    items: list[tuple[Product, int]]
    subtotal_cents: int
    tax: dict[str, Any]  # the tax engine's answer for this sale
    tax_cents: int

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + self.tax_cents


def cents_text(cents: int | Decimal) -> str:
    """The recorded money-string form: 6000 -> "6000.0"."""
    return f"{Decimal(cents):.1f}"


def secure_id(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


class Book:
    def __init__(self, world: World, clock: Clock) -> None:
        self.world, self.clock = world, clock
        sizes = world.sizes
        self.orders = sizes["erp_orders"]
        self.n_invoices = min(sizes["quaderno_invoices"], self.orders)
        self.offset = self.orders - self.n_invoices
        self.n_credits = min(sizes["quaderno_credits"], self.n_invoices - 1)
        self.extra: dict[str, dict[int, dict[str, Any]]] = {"invoices": {}, "credits": {}, "contacts": {}}
        self.started = clock.now()

    def removed(self, k: int) -> int | None:
        """410 Gone or 404 Not Found for an invoice removed from Quaderno's servers (seeds/001 lines 94,
        103): one invoice in `removed_every` (1 in 97 on the small set, 1 in 2,000 on the large one: a few
        hundred at once would be a burst no account has), REMOVED_AFTER into the sandbox's life (business
        time), so a client first stores it and then meets the answer when it reads the invoice again.
        Alternately 410 and 404, so both shapes are served. Removed invoices are in no listing."""
        every = self.removed_every
        if k % every or self.clock.now() < self.started + REMOVED_AFTER:
            return None
        return 410 if (k // every) % 2 else 404

    @property
    def removed_every(self) -> int:
        return max(REMOVED_EVERY, self.n_invoices // 100)

    # --- invoices -------------------------------------------------------------------------
    def order_of(self, k: int) -> int:
        return self.offset + k

    def invoice_created(self, k: int) -> datetime:
        """Strictly increasing in k (order dates carry an hour jitter, ids must not)."""
        return self.world.anchor - timedelta(days=365 * (self.orders - self.order_of(k)) / self.orders)

    def customer_of(self, k: int) -> Customer:
        return self.world.order_customer(self.order_of(k))

    def _rng(self, kind: str, k: int) -> random.Random:
        return random.Random(f"{self.world.seed}/quaderno/{kind}/{k}")

    def payment(self, k: int) -> Payment:
        rng = self._rng("invoice", k)
        created = self.invoice_created(k)
        terms = _TERMS[self.customer_of(k).id % len(_TERMS)]
        due = created.date() + timedelta(days=terms)
        draw = rng.random()
        paid_at = created + timedelta(days=rng.uniform(1, terms + 25)) if draw < 0.7 else None
        return Payment(due, paid_at, uncollectible=0.7 <= draw < 0.74)

    def lines(self, k: int) -> Lines:
        rng = self._rng("lines", k)
        products = self.world.products
        items = [(rng.choice(products), rng.randint(1, 12)) for _ in range(rng.randint(1, 3))]
        subtotal = sum(p.price_cents * qty for p, qty in items)
        c = self.customer_of(k)
        issued = self.invoice_created(k).date()
        query = rates.Query(
            to_country=c.country,
            to_postal_code=c.postal_code,
            tax_id=c.vat_number,
            product_type="good",
            on=issued,
        )
        tax = rates.calculate(query, rates.DEFAULT_REGISTRATIONS, issued)
        effective = tax["rate"] * tax["taxable_part"] / 10_000
        tax_cents = int((subtotal * effective).quantize(Decimal(1), ROUND_HALF_UP))
        return Lines(items, subtotal, tax, tax_cents)

    def credit_target(self, j: int) -> int:
        """The invoice credit note j cancels: spread evenly, increasing in j, never repeated."""
        return j * self.n_invoices // (self.n_credits + 1)

    def credit_of(self, k: int) -> int | None:
        guess = k * (self.n_credits + 1) // self.n_invoices
        return next(
            (
                j
                for j in (guess - 1, guess, guess + 1)
                if 1 <= j <= self.n_credits and self.credit_target(j) == k
            ),
            None,
        )

    def credit_created(self, j: int) -> datetime:
        """Two days after the invoice, but never after the anchor; increasing in j."""
        after = self.invoice_created(self.credit_target(j)) + timedelta(days=2)
        return min(after, self.world.anchor - timedelta(minutes=self.n_credits - j))

    def invoice_state(self, k: int, now: datetime) -> str:
        if self.credit_of(k) is not None:
            return "paid"  # crediting an invoice marks it paid (seeds/001 lines 301-304)
        pay = self.payment(k)
        if pay.paid_at is not None and pay.paid_at <= now:
            return "paid"
        if pay.uncollectible and now.date() > pay.due + timedelta(days=90):
            return "uncollectible"
        return "late" if now.date() > pay.due else "outstanding"

    def credit_state(self, j: int) -> str:
        return "outstanding" if self._rng("credit", j).random() < 0.2 else "paid"

    # --- rendering --------------------------------------------------------------------------
    def invoice(self, k: int, origin: str) -> dict[str, Any]:
        doc_id = INVOICE_BASE + k
        now = self.clock.now()
        doc = self._document("invoices", doc_id, k, self.invoice_created(k), origin)
        doc["number"] = self.world.invoice_number(self.order_of(k))
        pay = self.payment(k)
        doc["due_date"] = pay.due.isoformat()
        doc["state"] = state = self.invoice_state(k, now)
        partial = self._partial(doc_id, k, doc, now, origin)
        if state == "paid":
            full = self._payment(doc_id, k, pay, doc, origin)
            if partial is not None:  # the rest settles it
                full["amount_cents"] = doc["total_cents"] - partial["amount_cents"]
            doc["payments"] = [p for p in (partial, full) if p is not None]
        elif partial is not None:
            doc["payments"] = [partial]  # still outstanding/late, with less due than the total
        return doc

    def _partial(self, doc_id: int, k: int, doc: dict[str, Any], now: datetime, origin: str) -> dict[str, Any] | None:
        """Some customers pay part first (an own random stream, so the other draws stay as they were):
        an open invoice with payments whose sum is below the total (seeds/001 "payments")."""
        rng = self._rng("partial", k)
        if self.credit_of(k) is not None or rng.random() >= 0.15:
            return None
        when = self.invoice_created(k) + timedelta(days=rng.randint(1, 10))
        pay = self.payment(k)
        if when > now or (pay.paid_at is not None and when >= pay.paid_at):
            return None
        pid = PARTIAL_BASE + k
        return {"id": pid, "date": when.date().isoformat(), "payment_method": "wire_transfer",
                "amount_cents": doc["total_cents"] * rng.choice((25, 40, 50)) // 100,
                "url": f"{origin}/api/invoices/{doc_id}/payments/{pid}.json"}

    def credit(self, j: int, origin: str) -> dict[str, Any]:
        doc_id, k = CREDIT_BASE + j, self.credit_target(j)
        doc = self._document("credits", doc_id, k, self.credit_created(j), origin)
        doc["number"] = f"CN-{self.world.anchor.year}-{j:06d}"
        doc["related_document"] = {"id": INVOICE_BASE + k, "type": "Invoice"}
        doc["state"] = self.credit_state(j)
        return doc

    def _payment(self, doc_id: int, k: int, pay: Payment, doc: dict[str, Any], origin: str) -> dict[str, Any]:
        credit = self.credit_of(k)
        when = self.credit_created(credit) if credit is not None else pay.paid_at
        pid = PAYMENT_BASE + k
        return {
            "id": pid,
            "date": when.date().isoformat() if when else None,
            "payment_method": "wire_transfer",
            "amount_cents": doc["total_cents"],
            "url": f"{origin}/api/invoices/{doc_id}/payments/{pid}.json",
        }

    def _document(self, kind: str, doc_id: int, k: int, created: datetime, origin: str) -> dict[str, Any]:
        c, lines = self.customer_of(k), self.lines(k)
        sid = secure_id(self.world.seed, kind, doc_id)
        page = "invoice" if kind == "invoices" else "credit"
        return {
            "id": doc_id,
            "number": "",
            "issue_date": created.date().isoformat(),
            "created_at": int(created.timestamp()),
            "contact": {"id": CONTACT_BASE + c.id, "full_name": c.name},
            "tax_id": c.vat_number,
            "country": c.country,
            "street_line_1": c.street,
            "city": c.city,
            "region": c.region,
            "postal_code": c.postal_code,
            "po_number": self.world.order_number(self.order_of(k)),
            "due_date": None,
            "currency": c.currency,
            "exchange_rate": _EXCHANGE.get(c.currency, "1.0"),
            "items": [self._item(doc_id, i, p, qty, lines.tax) for i, (p, qty) in enumerate(lines.items)],
            "subtotal_cents": cents_text(lines.subtotal_cents),
            "taxes": self._taxes(lines),
            "total_cents": lines.total_cents,
            "payments": [],
            "state": "outstanding",
            "tag_list": [],
            "secure_id": sid,
            "permalink": f"{origin}/{page}/{sid}",
            "pdf": f"{origin}/{page}/{sid}.pdf",
            "url": f"{origin}/api/{kind}/{doc_id}.json",
            "custom_metadata": {},
            **_CONSTANT,
        }

    @staticmethod
    def _item(doc_id: int, i: int, p: Product, qty: int, tax: dict[str, Any]) -> dict[str, Any]:
        taxed = tax["status"] == "taxable"
        subtotal = p.price_cents * qty
        return {
            "id": ITEM_BASE + doc_id * 4 + i,
            "product_code": p.sku,
            "description": p.name,
            "reference": None,
            "quantity": f"{qty}.0",
            "unit_price_cents": cents_text(p.price_cents),
            "discount_rate": "0.0",
            "subtotal_cents": cents_text(subtotal),
            "discount_cents": "0.0",
            "tax_1_name": tax["name"] if taxed else None,
            "tax_1_rate": tax["rate"] if taxed else None,
            "tax_1_country": tax["country"] if taxed else None,
            "tax_1_region": tax["region"] if taxed else None,
            "tax_1_transaction_type": tax["tax_code"],
            "tax_2_name": None,
            "tax_2_rate": None,
            "tax_2_country": None,
            "tax_2_region": None,
            "tax_2_transaction_type": tax["tax_code"],
            "gross_amount_cents": cents_text(subtotal),
        }

    @staticmethod
    def _taxes(lines: Lines) -> list[dict[str, Any]]:
        tax = lines.tax
        if tax["status"] != "taxable" or not lines.tax_cents:
            return []
        return [
            {
                "label": f"{tax['name']} ({tax['rate']:.2f}%)",
                "rate": tax["rate"],
                "country": tax["country"],
                "region": tax["region"],
                "amount_cents": lines.tax_cents,
            }
        ]

    # --- contacts ---------------------------------------------------------------------------
    def contact_created(self, customer_id: int) -> datetime:
        """Before any order; increasing with the customer id."""
        span = timedelta(days=30) * customer_id / max(1, len(self.world.customers))
        return self.world.anchor - timedelta(days=400) + span

    def contact(self, c: Customer, origin: str) -> dict[str, Any]:
        cid = CONTACT_BASE + c.id
        sid = secure_id(self.world.seed, "contacts", cid)
        return {
            "id": cid,
            "kind": "company",
            "created_at": int(self.contact_created(c.id).timestamp()),
            "full_name": c.name,
            "contact_name": None,
            "street_line_1": c.street,
            "street_line_2": None,
            "postal_code": c.postal_code,
            "city": c.city,
            "region": c.region,
            "country": c.country,
            "phone_1": None,
            "phone_2": None,
            "fax": None,
            "email": c.email,
            "web": None,
            "discount": None,
            "tax_id": c.vat_number,
            "vat_number": c.vat_number,
            "language": "EN",
            "notes": None,
            "tax_status": "taxable",
            "processor": None,
            "processor_id": c.code,
            "secure_id": sid,
            "permalink": f"{origin}/billing/{sid}",
            "url": f"{origin}/api/contacts/{cid}",
        }
