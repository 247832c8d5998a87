"""Orders as the API shows them: OrderWithStatus, OrderExport, charges (2025-09 ChargeWithApproval),
documents, and the VisibilityOrder snapshot carried by visibility events."""

from __future__ import annotations

from typing import Any

from sandbox.qargo.common import iso, money, percent_of, stable_uuid
from sandbox.qargo.orders import CHAIN, Order, Stop
from sandbox.world import Customer, World

_TAX = {"DE": 19, "NL": 21, "BE": 21, "IT": 22, "AT": 20, "PL": 23, "DK": 25, "SE": 25, "PT": 23, "GB": 20}
_DONE_FROM = CHAIN.index("COMPLETED")


def company(customer: Customer, seed: int) -> dict[str, Any]:
    """CompanyOutput (required: id, currency, name); the ERP customer code is the shared key."""
    return {"id": stable_uuid(seed, "customer", customer.id), "code": customer.code, "name": customer.name,
            "currency": customer.currency, "vat_number": customer.vat_number,
            "accounting_code": customer.code, "is_customer": True, "is_subcontractor": False,
            "is_blocked": False}


def stop_status(order: Order, stop: Stop) -> str:
    if order.status == "CANCELLED":
        return "CANCELLED"
    step = CHAIN.index(order.status) if order.status in CHAIN else 0
    done_at, moving_at = (2, 1) if stop.kind == "PICKUP" else (4, 3)  # DEPARTED / COMPLETED
    if step >= done_at:
        return "COMPLETED"
    if step >= moving_at:
        return "ROUTE_TO_STOP" if stop.kind == "DELIVERY" else "AT_STOP"
    return "PLANNED" if step >= 1 else "TO_PLAN"


def _stop(order: Order, stop: Stop) -> dict[str, Any]:
    return {"id": stop.id, "location": {k: v for k, v in stop.location.items() if v is not None},
            "date": stop.day.isoformat() if stop.day else None, "reference_number": stop.reference,
            "status": stop_status(order, stop), "custom_fields": {}}


def order_with_status(order: Order, seed: int) -> dict[str, Any]:
    consignments = [{"id": c.id, "pickup_stop": _stop(order, c.pickup), "delivery_stop": _stop(order, c.delivery),
                     "custom_fields": {}, "signatures": []} for c in order.consignments]
    stops = [{**_stop(order, s), "consignment_id": c.id}
             for c in order.consignments for s in (c.pickup, c.delivery)]
    return {"id": order.id, "order_identifier": order.identifier, "status": order.status,
            "customer_reference_number": order.reference, "customer": company(order.customer, seed),
            "created_timestamp": iso(order.created), "transport_service": {"name": "General", "code": "GENERAL"},
            "consignments": consignments, "stops": stops,
            "first_pickup_stop": stops[0], "last_delivery_stop": stops[-1]}


def _stop_input(stop: Stop) -> dict[str, Any]:
    return {"location": {k: v for k, v in stop.location.items() if v is not None},
            "date": stop.day.isoformat() if stop.day else None, "reference_number": stop.reference}


def order_export(order: Order) -> dict[str, Any]:
    """The order in the upload format (seeds/000 line 540-546), ready to be used as a template."""
    return {"operation": "CREATE", "order_identifier": order.identifier,
            "customer": {"code": order.customer.code, "name": order.customer.name},
            "customer_reference_number": order.reference, "transport_service": {"name": "General"},
            "consignments": [{"pickup_stop": _stop_input(c.pickup), "delivery_stop": _stop_input(c.delivery),
                              "goods": c.goods} for c in order.consignments]}


def charges(order: Order, world: World, seed: int) -> list[dict[str, Any]]:
    rng = world.rng("qargo", "charges", order.key)
    freight = rng.randint(15_000, 250_000)
    lines: list[tuple[str, str, int, str | None]] = [("FREIGHT", "Freight", freight, None), ("FUEL", "Fuel surcharge", percent_of(freight, 12), None)]
    if rng.random() < 0.4:  # extra costs need the customer's approval
        lines.append(("WAITING", "Waiting time", rng.choice((4_500, 9_000, 13_500)), "REQUESTED"))
    return [_charge(order, seed, *line) for line in lines]


def _charge(order: Order, seed: int, code: str, name: str, cents: int, approval: str | None) -> dict[str, Any]:
    charge_id = stable_uuid(seed, "charge", order.key, code)
    pct = _TAX.get(order.customer.country, 0)
    tax = percent_of(cents, pct)
    approval, description = order.approvals.get(charge_id, (approval, None))
    return {"id": charge_id, "code": code, "name": name, "currency": order.customer.currency,
            "amount_excl_tax": money(cents), "amount_tax": money(tax), "amount_incl_tax": money(cents + tax),
            "tax_rate": {"code": f"VAT{pct}", "name": f"VAT {pct}%", "percentage": pct, "tax_type": "VAT"},
            "status": _charge_status(order, approval), "approval_status": approval, "description": description}


def _charge_status(order: Order, approval: str | None) -> str:
    if order.status == "CANCELLED" or approval == "REJECTED":
        return "DO_NOT_INVOICE"
    return "INVOICED" if order.status in ("INVOICED", "INVOICE_POSTED") else "CREATED"


def document_kinds(order: Order) -> list[tuple[str, str]]:
    """(kind, file name): the CMR from the start, the proof of delivery once delivered."""
    kinds = [("CMR", f"CMR-{order.reference or order.identifier}.pdf")]
    if order.status in CHAIN and CHAIN.index(order.status) >= _DONE_FROM:
        kinds.append(("PROOF_OF_DELIVERY", f"POD-{order.reference or order.identifier}.pdf"))
    return kinds


def document_id(seed: int, order: Order, kind: str) -> str:
    return stable_uuid(seed, "document", order.key, kind)


def documents(order: Order, seed: int) -> list[dict[str, Any]]:
    out = []
    for kind, name in document_kinds(order):
        doc_id = document_id(seed, order, kind)
        out.append({"id": doc_id, "name": name, "type": kind, "subject_type": "ORDER",
                    "content_type": "application/pdf", "download_url": f"v1/documents/document/{doc_id}/download"})
    return out


def pdf_bytes(title: str) -> bytes:
    """A tiny, valid one-page PDF naming the document."""
    text = title.replace("(", "").replace(")", "")
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                b"/Resources << /Font << /F1 5 0 R >> >> >>"),
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    body, offsets = b"%PDF-1.4\n", []
    for n, obj in enumerate(objects, 1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (n, obj)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    return body + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
