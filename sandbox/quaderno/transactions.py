"""`POST /transactions`: a sale creates an invoice, a refund a credit note (seeds/001 lines 518-716).

Quaderno has no idempotency key: every accepted POST creates a document, which is what lets a
client test that it never retries this call blindly. `Book.extra` keeps the creations; the admin
route `GET /_admin/quaderno/transactions` counts them. Item `amount` is the line total with tax
included, as the recorded sale shows (amount 89 at 8.875 % -> subtotal 8175, total 8900 cents).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sandbox.quaderno.documents import CONTACT_BASE, CREDIT_BASE, INVOICE_BASE, Book, cents_text, secure_id

_KINDS = {
    "sale": ("invoices", INVOICE_BASE, "Invoice", "invoice"),
    "refund": ("credits", CREDIT_BASE, "Credit", "credit"),
}


class Invalid(ValueError):
    """A 422 body in Rails' shape, as recorded: {"field": ["message"]}."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.body = {field: [message]}


def create(book: Book, payload: Any, origin: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise Invalid("base", "must be a JSON object")
    kind = _KINDS.get(payload.get("type", "sale"))
    if kind is None:
        raise Invalid("type", "is not included in the list")
    items = payload.get("items")
    if not isinstance(items, list) or not items:
        raise Invalid("items", "can't be blank")
    name, base, label, page = kind
    doc_id = base + _generated(book, name) + len(book.extra[name]) + 1
    contact = _contact(book, payload.get("customer") or {}, origin)
    doc = _document(book, doc_id, payload, [_line(doc_id, i, it) for i, it in enumerate(items)], contact)
    sid = secure_id(book.world.seed, name, doc_id)
    doc.update(
        type=label,
        secure_id=sid,
        permalink=f"{origin}/{page}/{sid}",
        pdf=f"{origin}/{page}/{sid}.pdf",
        url=f"{origin}/api/{name}/{doc_id}.json",
    )
    book.extra[name][doc_id] = doc
    return doc


def _generated(book: Book, name: str) -> int:
    return book.n_invoices if name == "invoices" else book.n_credits


def _decimal(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Invalid(field, "is not a number") from None


def _line(doc_id: int, i: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or "amount" not in item:
        raise Invalid("items", "amount can't be blank")
    quantity = _decimal(item.get("quantity", 1), "quantity")
    tax = item.get("tax") or {}
    rate = _decimal(tax.get("rate") or 0, "tax rate")
    total = (_decimal(item["amount"], "amount") * 100).quantize(Decimal(1), ROUND_HALF_UP)
    subtotal = (total / (1 + rate / 100)).quantize(Decimal(1), ROUND_HALF_UP)
    taxed = rate != 0
    return {
        "id": doc_id * 4 + i,
        "product_code": item.get("product_code"),
        "description": item.get("description"),
        "reference": None,
        "quantity": f"{quantity:.1f}",
        "unit_price_cents": cents_text(subtotal / quantity),
        "discount_rate": "0.0",
        "subtotal_cents": cents_text(subtotal),
        "discount_cents": "0.0",
        "tax_1_name": tax.get("name") if taxed else None,
        "tax_1_rate": rate if taxed else None,
        "tax_1_country": tax.get("country") if taxed else None,
        "tax_1_region": tax.get("region") if taxed else None,
        "tax_1_transaction_type": tax.get("tax_code", "standard"),
        "tax_2_name": None,
        "tax_2_rate": None,
        "tax_2_country": None,
        "tax_2_region": None,
        "tax_2_transaction_type": None,
        "gross_amount_cents": cents_text(subtotal),
        "_total": int(total),
    }


def _contact(book: Book, customer: dict[str, Any], origin: str) -> dict[str, Any]:
    """An existing contact by id, else a new one from the given fields."""
    if "id" in customer:
        return {"id": customer["id"], "full_name": customer.get("full_name")}
    contacts = book.extra["contacts"]
    cid = CONTACT_BASE + len(book.world.customers) + len(contacts) + 1
    full = customer.get("full_name") or " ".join(
        filter(None, (customer.get("first_name"), customer.get("last_name")))
    )
    contacts[cid] = {
        "id": cid,
        "kind": customer.get("kind", "person"),
        "full_name": full,
        "email": customer.get("email"),
        "country": customer.get("country"),
        "tax_id": customer.get("tax_id"),
        "created_at": int(book.clock.now().timestamp()),
        "url": f"{origin}/api/contacts/{cid}",
    }
    return {"id": cid, "full_name": full}


def _document(
    book: Book, doc_id: int, payload: dict[str, Any], lines: list[dict[str, Any]], contact: dict[str, Any]
) -> dict[str, Any]:
    now: datetime = book.clock.now()
    subtotal = sum(Decimal(line["subtotal_cents"]) for line in lines)
    total = sum(line.pop("_total") for line in lines)
    payment = payload.get("payment") or {}
    return {
        "id": doc_id,
        "blocked": False,
        "number": f"{doc_id % 100_000:05d}",
        "issue_date": payload.get("date") or now.date().isoformat(),
        "created_at": int(now.timestamp()),
        "contact": contact,
        "currency": payload.get("currency", "EUR"),
        "po_number": payload.get("po_number"),
        "items": lines,
        "subtotal_cents": cents_text(subtotal),
        "discount_cents": "0.0",
        "taxes": [],
        "total_cents": total,
        "payments": [
            {
                "id": doc_id,
                "date": now.date().isoformat(),
                "payment_method": payment.get("method"),
                "amount_cents": total,
            }
        ]
        if payment
        else [],
        "state": "outstanding",
        "processor": payload.get("processor"),
        "processor_id": payload.get("processor_id"),
        "custom_metadata": payload.get("custom_metadata") or {},
        "notes": payload.get("notes"),
    }
