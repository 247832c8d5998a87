"""Vendor models (services/<vendor>/models.py) to cache rows (store/migrations/), one function per table.

Rules every mapper follows:
- money: integer minor units next to `currency` (`Money.from_decimal` refuses to round), except Qargo
  charges, whose amounts stay the exact decimal text Qargo sends (2025-09 spec, `ChargeWithApproval`);
- our timestamps: UTC ISO via `store.db.iso`; calendar dates as YYYY-MM-DD;
- quantities (REAL columns) are floats: they are not money;
- `raw` is the vendor record as JSON, kept (compressed, store/rawstore.py) for audit and re-mapping only:
  dataset SQL never reads it, so every field a dataset reads is a column written here;
- `synced_at` (and any `SyncResource.stamp` column) is the engine's, never set here, so every row of
  a run carries the run's one clock.
Records that need an owner the vendor does not repeat in them (a resource's unavailabilities, an
order's charges and documents, a Qasida claim's or liability's customer) arrive wrapped in `Owned`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from pydantic import BaseModel

from services.cargobase.models import Invoice as CargobaseInvoice
from services.qargo.models import AvailableTask, Charge, Document, OrderWithStatus, Resource, Unavailability
from services.qasida.models import Customer, CustomerOrder, OpenItem, Product, StockCard, Warehouse
from services.quaderno.models import Contact, Credit, Invoice
from services.types import Money
from store.calendar import business_date
from store.db import iso
from store.statuses import cargobase_status

Row = dict[str, Any]


@dataclass(frozen=True)
class Owned:
    """A child record with the id (and kind) of the record it belongs to."""

    owner_id: str
    record: Any
    owner_type: str | None = None


# --- small conversions ------------------------------------------------------------------------


def raw(record: BaseModel) -> str:
    return record.model_dump_json(by_alias=True)


def ts(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def day(value: date | datetime | None) -> str | None:
    """A vendor's calendar date as it is; a vendor timestamp as its business date (OPSDASH_TIMEZONE,
    `store.calendar.business_date`), never its UTC date: a due time of 23:30Z is the next day in Europe
    (issue 18 point 7; e.g. Qasida's `dueDate` "2019-08-24T14:15:22Z", seeds/003 line 165)."""
    if value is None:
        return None
    return (business_date(value) if isinstance(value, datetime) else value).isoformat()


def text(value: Any) -> str | None:
    return None if value is None else str(value)


def minor(amount: Decimal | None, currency: str | None) -> int | None:
    """Major units to exact minor units; None when either part is unknown."""
    if amount is None or not currency:
        return None
    return Money.from_decimal(amount, currency).amount_minor


def quantity(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def whole_cents(cents: Decimal) -> int:
    """Cents to an integer: Quaderno payments may carry a fraction of a cent (its own doc's sample has
    "amount_cents": 56.6, seeds/001 line 1587); the column is whole cents, `raw` keeps the exact value."""
    return int(cents.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


# --- Quaderno (seeds/001) -----------------------------------------------------------------------


def _document(doc: Invoice) -> Row:
    contact = doc.contact
    return {
        "number": doc.number, "contact_id": text(contact.id if contact else None),
        "contact_name": doc.counterparty or None, "contact_tax_id": doc.tax_id or (contact.tax_id if contact else None),
        "currency": doc.currency.upper(), "total": doc.total_minor, "state": text(doc.state),
        "issue_date": day(doc.issue_date), "due_date": day(doc.due_date), "raw": raw(doc),
    }


def quaderno_invoice(doc: Invoice) -> Row:
    """`amount_due`: what remains due, in whole cents: the total minus every payment (seeds/001
    "payments", lines 1583-1592; the recorded `new_sale` is "outstanding" with a payment covering its
    total: nothing due). Never below zero: an overpayment is not a debt of ours."""
    return {"invoice_id": str(doc.id), **_document(doc), "amount_due": max(0, whole_cents(doc.amount_due_cents))}


def quaderno_credit(doc: Credit) -> Row:
    related = (doc.related_document or {}).get("id")
    return {"credit_id": str(doc.id), "invoice_id": text(related), **_document(doc)}


def quaderno_contact(contact: Contact) -> Row:
    return {
        "contact_id": str(contact.id), "full_name": contact.display_name, "kind": contact.kind,
        "country": contact.country, "tax_id": contact.tax_id or contact.vat_number, "raw": raw(contact),
    }


# --- Qasida (seeds/003) -------------------------------------------------------------------------


def qasida_warehouse(w: Warehouse) -> Row:
    return {"warehouse_id": str(w.id), "code": w.number, "name": w.name, "raw": raw(w)}


def qasida_product(p: Product) -> Row:
    # Neither products nor stock cards carry a reorder level (seeds/003 lines 4211-4270, 6028-6068):
    # reorder levels are opsdash's own data, so the mappers write none.
    return {"product_id": str(p.id), "code": p.code, "name": p.name, "unit": p.unit, "raw": raw(p)}


def qasida_stock_card(c: StockCard) -> Row:
    return {
        "stock_card_id": str(c.id), "warehouse_id": text(c.warehouse_id), "warehouse": c.warehouse_name,
        "product_id": text(c.product_id), "product": c.product_name,
        "product_code": c.product_code,  # seeds/003 line 6050; stock_levels' code when the product is not synced
        "unit": c.unit,
        "quantity": quantity(c.quantity), "reserved": quantity(c.reserve_quantity),
        "available": quantity(c.available), "raw": raw(c),
    }


def qasida_customer(c: Customer) -> Row:
    return {"customer_id": str(c.id), "code": c.internal_code, "name": c.name, "vat_number": c.vat_number,
            "country": c.country, "raw": raw(c)}


def qasida_customer_order(o: CustomerOrder) -> Row:
    return {
        "order_id": str(o.id), "number": o.order_number, "customer_id": text(o.customer_id),
        "customer": o.customer_name, "status": o.order_status or o.workflow_status_code,
        "order_date": day(o.issue_date), "delivery_date": day(o.fulfillment_date),
        "warehouse_id": text(o.warehouse_id),  # seeds/003 line 1206; the demand's warehouse (days of cover)
        "currency": o.currency, "total": exact_minor(o.price, o.currency), "raw": raw(o),
    }


def qasida_not_fulfilled_order(o: CustomerOrder) -> Row:
    """A row of the list read with `onlyNotFulfilled=true` ("Return only not fulfilled orders", seeds/003 line
    1196): the vendor says this order is not fulfilled yet. The document lists no field that says so."""
    return {**qasida_customer_order(o), "not_fulfilled": 1}


def exact_minor(amount: Decimal | None, currency: str | None) -> int | None:
    """Minor units when the amount fits its currency exactly; else None (unknown), never a failed run: Qasida
    may send more decimals than the currency has, or a placeholder currency (its own examples say "string").
    `raw` keeps the exact amount either way."""
    try:
        return minor(amount, currency)
    except ValueError:
        return None


def qasida_order_lines(o: CustomerOrder, products: Mapping[str, tuple[str | None, str | None]]) -> list[Row]:
    """`customerOrderItems` (seeds/003 lines 1243-1262) as lines numbered 1.. in the order sent. The items
    carry no product code or unit: `products` (product id -> (code, unit), from qasida_products) adds them."""
    rows = []
    for line_no, item in enumerate(o.items, start=1):
        code, unit = products.get(text(item.product_id) or "", (None, None))
        rows.append({"order_id": str(o.id), "line_no": line_no, "product_id": text(item.product_id),
                     "product_code": code, "quantity": quantity(item.quantity), "unit": unit, "raw": raw(item)})
    return rows


def decimal_text(amount: Decimal | None) -> str | None:
    """Exact decimal text as the vendor wrote it ("1234.5", "0.125"), never in exponent form."""
    return None if amount is None else format(amount, "f")


def qasida_open_item(item: Owned) -> Row:
    """A claim or liability (`OpenItem`) of the customer whose list it came from (`Owned.owner_id`): the rows
    carry no customer (seeds/003 lines 157-168). Money stays exact decimal text; `dueDate`/`issueDate` are
    timestamps (lines 165-166), stored as their business date (`day`), the last payment a timestamp. A row
    seen in an open list is open."""
    entry: OpenItem = item.record
    if entry.key is None or entry.remains_to_be_paid is None or not entry.currency:
        raise ValueError(
            f"Qasida sent a {item.owner_type or 'claim/liability'} row of customer {item.owner_id} without "
            f"invoiceId/documentNumber, remainsToBePaid or currency (document {entry.document_number!r})")
    return {
        "invoice_id": entry.key, "customer_id": item.owner_id, "type": entry.type,
        "document_number": entry.document_number, "variable_symbol": entry.variable_symbol,
        "currency": entry.currency.strip().upper(), "invoiced_amount": decimal_text(entry.invoiced_amount),
        "remains_to_be_paid": decimal_text(entry.remains_to_be_paid), "days_delayed": entry.days_delayed,
        "due_date": day(entry.due_date), "issue_date": day(entry.issue_date),
        "last_payment": ts(entry.last_payment), "settled_at": None, "raw": raw(entry),
    }


# --- Cargobase (seeds/004) ----------------------------------------------------------------------


def cargobase_invoice(inv: CargobaseInvoice) -> Row:
    """`first_seen_at`/`last_seen_at` are stamped by the engine (`SyncResource.stamp`); seeing an
    invoice again clears `gone_from_vendor_at`."""
    return {
        "shipment_reference": inv.shipment_reference or "", "provider_invoice_number": inv.provider_invoice_number or "",
        "invoice_reference": inv.invoice_reference,
        "invoice_status": cargobase_status(inv.invoice_status) if inv.invoice_status is not None else None,
        "provider_name": inv.provider_name, "freight_mode": inv.freight_mode,
        "primary_tracking_number": inv.primary_tracking_number, "submit_date": day(inv.submit_date),
        "modified": ts(inv.modified), "gone_from_vendor_at": None, "raw": raw(inv),
    }


# --- Qargo (seeds/000) --------------------------------------------------------------------------

# ListResourceOutput's type blocks (services.qargo.models) folded into the table's three kinds.
_RESOURCE_TYPES = {"driver": "driver", "tractor": "vehicle", "truck": "vehicle", "van": "vehicle",
                   "trailer": "trailer", "full_trailer": "trailer", "chassis": "trailer", "container": "trailer"}


def qargo_order(order: OrderWithStatus, known_reference: str | None = None) -> Row:
    """Status polling's row. Leaves out what only webhooks know (last_event_*, delivered_at, eta_date, source).

    The planned dates are the stops' `date`, "Requested date of the stop" (OpenAPI OrderStatusStopOutput,
    qargo-tms-openapi-v1.2.0-2026.yml line 17042): calendar dates without a zone (the spec's "Date and time
    formats"), stored as sent. `customer_reference_number` is nullable (OrderWithStatus, line 17295): a null
    keeps `known_reference`, the number we hold (issue 18 point 2). `created_date` is the business date of
    `created_timestamp` (UTC), never its UTC date (issue 18 point 7)."""
    pickup, delivery = order.first_pickup_stop, order.last_delivery_stop
    created = order.created_timestamp
    return {
        "order_id": order.id, "order_identifier": order.order_identifier,
        "reference": order.customer_reference_number or known_reference,
        "customer": order.customer.name if order.customer else None,
        "status": text(order.status), "pickup_date": day(pickup.date) if pickup else None,
        "delivery_date": day(delivery.date) if delivery else None,
        "created_at": ts(created), "created_date": business_date(created).isoformat() if created else None,
        "raw": raw(order),
    }


@dataclass(frozen=True)
class Polled:
    """A polled order with the reference the cache held for it (a null from the vendor never erases it)."""

    order: OrderWithStatus
    known_reference: str | None = None


def qargo_polled_order(item: Polled | OrderWithStatus) -> Row:
    if isinstance(item, Polled):
        return qargo_order(item.order, item.known_reference)
    return qargo_order(item)


def qargo_charge(item: Owned) -> Row:
    charge: Charge = item.record
    amount = charge.amount_incl_tax if charge.amount_incl_tax is not None else charge.amount_excl_tax
    return {
        "charge_id": charge.id, "order_id": item.owner_id, "description": charge.name or charge.code,
        "amount": text(amount), "currency": charge.currency, "status": text(charge.status),
        "approval_status": text(charge.approval_status), "raw": raw(charge),
    }


def qargo_document(item: Owned) -> Row:
    doc: Document = item.record
    return {"document_id": doc.id, "order_id": item.owner_id, "document_type": doc.type,
            "file_name": doc.name, "created_at": None, "raw": raw(doc)}


def qargo_resource(r: Resource) -> Row:
    return {
        "resource_id": r.row_id, "resource_type": _RESOURCE_TYPES.get(r.kind, r.kind),
        "name": r.name, "identifier": r.code or r.external_id,
        "active": None if r.is_active is None else int(r.is_active), "raw": raw(r),
    }


def qargo_unavailability(item: Owned) -> Row:
    u: Unavailability = item.record
    return {
        "unavailability_id": u.id, "resource_id": item.owner_id, "resource_type": item.owner_type,
        "start_time": iso(u.start_time), "end_time": ts(u.end_time), "reason": u.reason,
        "external_id": u.external_id, "raw": raw(u),
    }


def qargo_sync_task(task: AvailableTask) -> Row:
    # The list gives no timestamps; created_at/updated_at stay NULL rather than a guess.
    return {"task_id": task.id, "entity_type": task.task_type, "entity_id": task.invoice_id,
            "status": text(task.status), "created_at": None, "updated_at": None, "raw": raw(task)}
