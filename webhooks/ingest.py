"""Apply webhook events to the cache: idempotent, out-of-order safe, every accepted event kept raw.

Outcomes, recorded per (source, event id) in `webhook_events`:
- accepted:  new event, applied to its table;
- duplicate: the same event id again, or a retry (`retryOfId`) of an event we already have;
- stale:     a new event older than the stored state of its record: kept, not applied;
- rejected:  bad body (the reason names the field), or a version more than a day in the future
             (`FutureTimestamp`, a `BadEvent`: the receiver answers 400); nothing of it is applied or stored.

Versions are compared as datetimes at the vendor's precision (microseconds) and stored as such
(`version_text`). On PostgreSQL (issue 20), where writers do not queue on one lock, the comparison is the
upsert's own `WHERE` (`ON CONFLICT ... DO UPDATE ... WHERE stored < new`): the row lock the upsert takes makes
check and write one step, so concurrent receivers never leave an older version over a newer one. An Upwell DELETE applies unless a newer INSERT/UPDATE was applied (see
`_upwell_stale`); Qargo deliveries are de-duplicated on a digest of their content (`delivery_key`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlite_utils import Database

from services.qargo.visibility import OperationalVisibilityUpdate
from services.types import INT_MAX, INT_MIN
from services.upwell.events import EventValidationError, parse_event
from services.upwell.models import CarrierInvoiceEvent, Operation
from store.calendar import business_date
from store.changes import note_write
from store.db import is_postgres, iso, transaction, utcnow


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    STALE = "stale"
    REJECTED = "rejected"


class BadEvent(ValueError):
    """The body is not a valid event; the message names the field."""


class FutureTimestamp(BadEvent):
    """A version stamped more than `MAX_FUTURE` ahead of our clock: refused (400), never stored,
    or it would freeze its record until that date (issue 11 point 1)."""


MAX_FUTURE = timedelta(days=1)


def refuse_future(field: str, moment: datetime, now: datetime) -> None:
    if moment - now > MAX_FUTURE:
        raise FutureTimestamp(f"{field}: {moment.isoformat()} is more than a day in the future "
                              f"(our clock: {now.isoformat(timespec='seconds')}); refused")


def version_text(moment: datetime) -> str:
    """A vendor version at its full precision (microseconds, UTC, `Z`). `store.db.iso` keeps
    milliseconds for our own stamps; three updates within one millisecond must stay ordered."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_version(text: str) -> datetime:
    """A stored version (either precision) as an aware datetime, for comparison."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def ingest_upwell(db: Database, body: bytes, now: datetime | None = None) -> Outcome:
    try:
        event = parse_event(body)
    except EventValidationError as exc:
        raise BadEvent(str(exc)) from None
    moment = now or utcnow()
    received = iso(moment)
    invoice = event.invoice
    deleting = event.operation == Operation.DELETE
    image = "old" if deleting else "new"
    version = invoice.updated_at or event.updated_at
    refuse_future(f"payload.{image}.updated_at" if invoice.updated_at else "updatedAt", version, moment)
    _paid(event)  # checked before the stale test: a value out of range is a 400 whatever we hold
    with transaction(db):
        if _seen(db, "upwell", event.id, event.retry_of_id):
            return _record(db, "upwell", event.id, event.retry_of_id, Outcome.DUPLICATE, received,
                           event.operation.value, invoice.id, version_text(version), body)
        if is_postgres(db):  # check and write in one statement: no reader can interleave (module doc)
            applied = _apply_carrier_invoice(db, event, version_text(version), received, newer_only=True)
            return _record(db, "upwell", event.id, event.retry_of_id, Outcome.ACCEPTED if applied else Outcome.STALE,
                           received, event.operation.value, invoice.id, version_text(version), body)
        current = db.execute("SELECT last_event_updated_at FROM carrier_invoices WHERE invoice_id = ?",
                             [invoice.id]).fetchone()
        stored = parse_version(current[0]) if current and current[0] else None
        if _upwell_stale(stored, version, deleting):
            outcome = Outcome.STALE
        else:
            _apply_carrier_invoice(db, event, version_text(version), received)
            outcome = Outcome.ACCEPTED
        return _record(db, "upwell", event.id, event.retry_of_id, outcome, received,
                       event.operation.value, invoice.id, version_text(version), body)


def _upwell_stale(stored: datetime | None, version: datetime, deleting: bool) -> bool:
    """A real DELETE carries the row as it was (`old`, seeds/002 lines 50-86), so its `updated_at`
    equals the version we hold: it applies unless a newer INSERT/UPDATE was applied already. An
    INSERT/UPDATE applies only when newer than what we hold (an equal one is a replay, and loses
    to a DELETE of that same version). Compared as datetimes at the vendor's microseconds."""
    if stored is None:
        return False
    return stored > version if deleting else stored >= version


def _paid(event: CarrierInvoiceEvent) -> int:
    """`total_amount - balance` (no balance: nothing paid), refused (400) when it leaves SQLite's INTEGER
    range: each operand fits, their difference may not (issue 22)."""
    inv = event.invoice
    paid = 0 if inv.balance is None else inv.total_amount - inv.balance
    if not INT_MIN <= paid <= INT_MAX:
        image = "old" if event.operation == Operation.DELETE else "new"
        raise BadEvent(f"payload.{image}.balance: total_amount minus balance is out of range (-2^63 to 2^63-1)")
    return paid


def _apply_carrier_invoice(db: Database, event: CarrierInvoiceEvent, version: str, received: str, *,
                           newer_only: bool = False) -> bool:
    """Write the invoice; `newer_only`: only over an older stored version (`_upwell_stale` as a WHERE on the
    upsert, compared as timestamps), returning whether it was written."""
    inv = event.invoice
    balance = inv.balance if inv.balance is not None else inv.total_amount
    paid = _paid(event)
    # A DELETE, or an UPDATE that sets `deleted_at` (a soft delete, seeds/002 line 24), removes the
    # invoice from what we owe; an UPDATE that clears `deleted_at` restores it.
    deleted = event.operation == Operation.DELETE or inv.deleted_at is not None
    row = {
        "invoice_id": inv.id, "invoice_number": inv.invoice_number, "carrier_id": inv.carrier_id,
        "carrier": inv.carrier_id, "load_number": inv.load_number, "currency": inv.currency.upper(),
        "total_amount": inv.total_amount, "total_tax_amount": inv.total_tax_amount,
        "paid_amount": paid, "balance": balance, "status": inv.status,
        "issue_date": _date(inv.issue_date), "due_date": _date(inv.due_date),
        "deleted_at": iso(inv.deleted_at or event.updated_at) if deleted else None,
        "last_event_id": event.id, "last_event_updated_at": version,
        "raw": json.dumps(inv.model_dump(mode="json", by_alias=True)), "synced_at": received,
    }
    columns = ", ".join(row)
    updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != "invoice_id")
    note_write(db, "carrier_invoices")
    guard = ""
    if newer_only:
        older = "<=" if event.operation == Operation.DELETE else "<"
        guard = (" WHERE carrier_invoices.last_event_updated_at IS NULL OR CAST(carrier_invoices.last_event_updated_at "
                 f"AS TIMESTAMPTZ) {older} CAST(excluded.last_event_updated_at AS TIMESTAMPTZ) RETURNING invoice_id")
    written = db.execute(f"INSERT INTO carrier_invoices ({columns}) VALUES ({', '.join('?' for _ in row)}) "
                         f"ON CONFLICT(invoice_id) DO UPDATE SET {updates}{guard}", list(row.values()))
    return not newer_only or written.fetchone() is not None


def ingest_qargo(db: Database, body: bytes, now: datetime | None = None) -> Outcome:
    update = _parse_visibility(body)
    moment = now or utcnow()
    received = iso(moment)
    for i, event in enumerate(update.events):
        refuse_future(f"events.{i}.timestamp", event.timestamp, moment)
    event_id = delivery_key(update)
    order = update.order
    version = max(e.timestamp for e in update.events)
    with transaction(db):
        if _seen(db, "qargo", event_id, None):
            return _record(db, "qargo", event_id, None, Outcome.DUPLICATE, received, None,
                           order.id if order else None, version_text(version), body)
        for event in update.events:
            _insert_order_event(db, update, event, received)
        outcome = _apply_order(db, update, version, received) if order else Outcome.ACCEPTED
        return _record(db, "qargo", event_id, None, outcome, received, update.events[-1].update.type,
                       order.id if order else None, version_text(version), body)


def delivery_key(update: OperationalVisibilityUpdate) -> str:
    """The de-duplication key of a delivery: a digest of what it says (order id, and per event its
    type, status, stop and timestamp at full precision). `events[].update.id` is an untitled
    nullable uuid in the OpenAPI; an installation that puts the order's id there would make every
    later event of that order look like a resend, so it is part of the digest, never the key."""
    order_id = update.order.id if update.order else ""
    return "qv:" + _digest([order_id, *(_event_facts(e) for e in update.events)])


def _event_facts(event: Any) -> list[str | None]:
    u = event.update
    return [u.type, u.status, u.update_type, u.id, u.stop.id if u.stop else None, version_text(event.timestamp)]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()


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
    note_write(db, "qargo_order_events")
    db.execute(
        "INSERT OR IGNORE INTO qargo_order_events (event_id, order_id, event_type, occurred_at, received_at, raw) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [_digest([update.order.id if update.order else "", *_event_facts(event)]),
         update.order.id if update.order else None, event_type, iso(event.timestamp), received,
         event.model_dump_json(by_alias=True)],
    )


def _apply_order(db: Database, update: OperationalVisibilityUpdate, version: datetime, received: str) -> Outcome:
    order = update.order
    assert order is not None
    if not is_postgres(db):
        current = db.execute("SELECT last_event_at FROM qargo_orders WHERE order_id = ?", [order.id]).fetchone()
        if current and current[0] and parse_version(current[0]) >= version:
            return Outcome.STALE
    last = max(update.events, key=lambda e: e.timestamp).update
    delivery = _last_delivery(order.stops)
    # No planned date here: the visibility stop carries estimates and actuals only (OpenAPI VisibilityStop,
    # eta_start_time/eta_end_time/actual_*; qargo-tms-openapi-v1.2.0-2026.yml lines 26506-26539). The plan is
    # the status endpoint's `date` (sync/mappers.py `qargo_order`); writing an ETA there made the
    # planned date flip with every delivery and hid an order whose ETA kept slipping (issue 18 point 1).
    # `customer_reference_number` is nullable, `order_name` required (VisibilityOrder, lines 26349-26360): a
    # null reference stays NULL here, so COALESCE keeps the ERP number we know (issue 18 point 2).
    row = {
        "order_id": order.id, "reference": order.customer_reference_number,
        "customer": order.customer.name if order.customer else None, "status": update.latest_order_status,
        "eta_date": eta_date(delivery), "delivered_at": _actual_end(delivery),
        "last_event_at": version_text(version), "last_event_type": last.type, "updated_at": received,
        "raw": order.model_dump_json(by_alias=True), "synced_at": received,
    }
    # Keep what a sync or an upload knew (identifier, dates) when an event lacks it: COALESCE.
    updates = ", ".join(f"{c} = COALESCE(excluded.{c}, qargo_orders.{c})" for c in row if c != "order_id")
    created = {"created_at": received, "created_date": business_date(parse_version(received)).isoformat()}
    note_write(db, "qargo_orders")
    # PostgreSQL: the staleness check is the upsert's WHERE (one statement, as for Upwell above)
    guard = (" WHERE qargo_orders.last_event_at IS NULL OR CAST(qargo_orders.last_event_at AS TIMESTAMPTZ) < "
             "CAST(excluded.last_event_at AS TIMESTAMPTZ) RETURNING order_id") if is_postgres(db) else ""
    written = db.execute(f"INSERT INTO qargo_orders ({', '.join(row)}, {', '.join(created)}) VALUES "
                         f"({', '.join('?' for _ in (*row, *created))}) ON CONFLICT(order_id) DO UPDATE SET {updates}"
                         f"{guard}", [*row.values(), *created.values()])
    return Outcome.ACCEPTED if not guard or written.fetchone() is not None else Outcome.STALE


def _last_delivery(stops: list[Any]) -> Any | None:
    deliveries = [s for s in stops if (s.stop_type or "").upper() == "DELIVERY"]
    return deliveries[-1] if deliveries else None


def eta_date(stop: Any | None) -> str | None:
    """The business date (OPSDASH_TIMEZONE, store/calendar.py) of the estimated arrival at a delivery stop:
    `eta_start_time` ("Estimated arrival time (ETA) at the stop in UTC", OpenAPI line 26512), else
    `eta_end_time` (the estimated departure, line 26521). Never its UTC date: 23:30Z is the next day in Europe."""
    moment = (stop.eta_start_time or stop.eta_end_time) if stop is not None else None
    return business_date(moment).isoformat() if moment else None


def _actual_end(stop: Any | None) -> str | None:
    moment = (stop.actual_end_timestamp or stop.actual_start_timestamp) if stop is not None else None
    return iso(moment) if moment else None


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
        "ON CONFLICT(source, event_id) DO UPDATE SET deliveries = webhook_events.deliveries + 1, "
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
