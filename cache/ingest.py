"""Apply webhook events to the cache: idempotent, out-of-order safe, every accepted event kept raw.

Outcomes, recorded per (source, event id) in `webhook_events`:
- accepted:  new event, applied to its table;
- duplicate: the same event id again, or a retry (`retryOfId`) of an event we already have;
- stale:     a new event older than the stored state of its record: kept, not applied;
- rejected:  bad body (the reason names the field); nothing of it is applied or stored.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlite_utils import Database

from cache.db import iso, transaction, utcnow
from services.qargo.visibility import OperationalVisibilityUpdate
from services.upwell.events import EventValidationError, parse_event
from services.upwell.models import CarrierInvoiceEvent, Operation


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    STALE = "stale"
    REJECTED = "rejected"


class BadEvent(ValueError):
    """The body is not a valid event; the message names the field."""


def ingest_upwell(db: Database, body: bytes, now: datetime | None = None) -> Outcome:
    try:
        event = parse_event(body)
    except EventValidationError as exc:
        raise BadEvent(str(exc)) from None
    received = iso(now or utcnow())
    invoice = event.invoice
    version = iso(invoice.updated_at or event.updated_at)
    with transaction(db):
        if _seen(db, "upwell", event.id, event.retry_of_id):
            return _record(db, "upwell", event.id, event.retry_of_id, Outcome.DUPLICATE, received,
                           event.operation.value, invoice.id, version, body)
        current = db.execute("SELECT last_event_updated_at FROM carrier_invoices WHERE invoice_id = ?",
                             [invoice.id]).fetchone()
        if current and current[0] and current[0] >= version:
            outcome = Outcome.STALE
        else:
            _apply_carrier_invoice(db, event, version, received)
            outcome = Outcome.ACCEPTED
        return _record(db, "upwell", event.id, event.retry_of_id, outcome, received,
                       event.operation.value, invoice.id, version, body)


def _apply_carrier_invoice(db: Database, event: CarrierInvoiceEvent, version: str, received: str) -> None:
    inv = event.invoice
    balance = inv.balance if inv.balance is not None else inv.total_amount
    deleted = event.operation == Operation.DELETE
    row = {
        "invoice_id": inv.id, "invoice_number": inv.invoice_number, "carrier_id": inv.carrier_id,
        "carrier": inv.carrier_id, "load_number": inv.load_number, "currency": inv.currency.upper(),
        "total_amount": inv.total_amount, "total_tax_amount": inv.total_tax_amount,
        "paid_amount": inv.total_amount - balance, "balance": balance, "status": inv.status,
        "issue_date": _date(inv.issue_date), "due_date": _date(inv.due_date),
        "deleted_at": iso(inv.deleted_at or event.updated_at) if deleted else None,
        "last_event_id": event.id, "last_event_updated_at": version,
        "raw": json.dumps(inv.model_dump(mode="json", by_alias=True)), "synced_at": received,
    }
    columns = ", ".join(row)
    updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != "invoice_id")
    db.execute(f"INSERT INTO carrier_invoices ({columns}) VALUES ({', '.join('?' for _ in row)}) "
               f"ON CONFLICT(invoice_id) DO UPDATE SET {updates}", list(row.values()))


def ingest_qargo(db: Database, body: bytes, now: datetime | None = None) -> Outcome:
    update = _parse_visibility(body)
    received = iso(now or utcnow())
    # Qargo gives each event a fresh id (update.id); the first one identifies the delivery.
    event_id = update.events[0].update.id or hashlib.sha256(body).hexdigest()
    order = update.order
    latest = max(e.timestamp for e in update.events)
    version = iso(latest)
    with transaction(db):
        if _seen(db, "qargo", event_id, None):
            return _record(db, "qargo", event_id, None, Outcome.DUPLICATE, received, None,
                           order.id if order else None, version, body)
        for event in update.events:
            _insert_order_event(db, update, event, received)
        outcome = _apply_order(db, update, version, received) if order else Outcome.ACCEPTED
        return _record(db, "qargo", event_id, None, outcome, received, update.events[-1].update.type,
                       order.id if order else None, version, body)


def _parse_visibility(body: bytes) -> OperationalVisibilityUpdate:
    try:
        update = OperationalVisibilityUpdate.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = ".".join(str(p) for p in first["loc"]) or "body"
        raise BadEvent(f"{path}: {'missing' if first['type'] == 'missing' else first['msg']}") from None
    if not update.events:
        raise BadEvent("events: at least one event is required")
    return update


def _insert_order_event(db: Database, update: OperationalVisibilityUpdate, event: Any, received: str) -> None:
    u = event.update
    event_type = f"{u.type}:{u.status or u.update_type or ''}".rstrip(":")
    db.execute(
        "INSERT OR IGNORE INTO qargo_order_events (event_id, order_id, event_type, occurred_at, received_at, raw) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [u.id or f"{update.order.id if update.order else ''}:{iso(event.timestamp)}:{event_type}",
         update.order.id if update.order else None, event_type, iso(event.timestamp), received,
         event.model_dump_json(by_alias=True)],
    )


def _apply_order(db: Database, update: OperationalVisibilityUpdate, version: str, received: str) -> Outcome:
    order = update.order
    assert order is not None
    current = db.execute("SELECT last_event_at FROM qargo_orders WHERE order_id = ?", [order.id]).fetchone()
    if current and current[0] and current[0] >= version:
        return Outcome.STALE
    last = max(update.events, key=lambda e: e.timestamp).update
    pickup, delivery = _stop_dates(order.stops)
    row = {
        "order_id": order.id, "reference": order.customer_reference_number or order.order_name,
        "customer": order.customer.name if order.customer else None, "status": update.latest_order_status,
        "pickup_date": pickup, "delivery_date": delivery,
        "last_event_at": version, "last_event_type": last.type, "updated_at": received,
        "raw": order.model_dump_json(by_alias=True), "synced_at": received,
    }
    # Keep what a sync or an upload knew (identifier, dates) when an event lacks it: COALESCE.
    updates = ", ".join(f"{c} = COALESCE(excluded.{c}, {c})" for c in row if c != "order_id")
    db.execute(f"INSERT INTO qargo_orders ({', '.join(row)}, created_at) VALUES "
               f"({', '.join('?' for _ in row)}, ?) ON CONFLICT(order_id) DO UPDATE SET {updates}",
               [*row.values(), received])
    return Outcome.ACCEPTED


def _stop_dates(stops: list[Any]) -> tuple[str | None, str | None]:
    """Planned (ETA) or actual dates of the first pickup and the last delivery stop, when the event has them."""
    def when(stop: Any) -> str | None:
        moment = stop.eta_end_time or stop.eta_start_time or stop.actual_end_timestamp or stop.actual_start_timestamp
        return moment.date().isoformat() if moment else None

    pickups = [when(s) for s in stops if (s.stop_type or "").upper() == "PICKUP"]
    deliveries = [when(s) for s in stops if (s.stop_type or "").upper() == "DELIVERY"]
    return (pickups[0] if pickups else None), (deliveries[-1] if deliveries else None)


def _seen(db: Database, source: str, event_id: str, retry_of_id: str | None) -> bool:
    ids = [i for i in (event_id, retry_of_id) if i]
    marks = ", ".join("?" for _ in ids)
    row = db.execute(f"SELECT 1 FROM webhook_events WHERE source = ? AND outcome != 'rejected' "
                     f"AND event_id IN ({marks}) LIMIT 1", [source, *ids]).fetchone()
    return row is not None


def _record(db: Database, source: str, event_id: str, retry_of_id: str | None, outcome: Outcome,
            received: str, operation: str | None, resource_id: str | None, version: str, body: bytes) -> Outcome:
    db.execute(
        "INSERT INTO webhook_events (source, event_id, retry_of_id, operation, resource_id, event_updated_at, "
        "received_at, last_received_at, outcome, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(source, event_id) DO UPDATE SET deliveries = deliveries + 1, "
        "last_received_at = excluded.received_at",
        [source, event_id, retry_of_id, operation, resource_id, version, received, received, outcome.value,
         body.decode("utf-8", "replace")],
    )
    return outcome


def record_rejection(db: Database, source: str, reason: str, now: datetime | None = None) -> None:
    """Count a rejected delivery for the health page. Its body is not kept: it may be forged or hostile."""
    received = iso(now or utcnow())
    db.execute("INSERT INTO webhook_events (source, received_at, last_received_at, outcome, reason) "
               "VALUES (?, ?, ?, 'rejected', ?)", [source, received, received, reason[:500]])


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
