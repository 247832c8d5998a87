"""Asynchronous order upload (seeds/000 line 361-546).

`POST /v1/orders/order/upload` answers `IN_PROGRESS` at once. The upload then walks the UploadStatus
values on the sandbox's *business* clock: IN_PROGRESS (0-1 s), READY_TO_UPSERT (1-2 s),
UPSERT_IN_PROGRESS (2-3 s), and from 3 s a final COMPLETED / DUPLICATE / ERROR. Uploads are applied
in arrival order when a status read or a tick first sees them due, so a client polling in real
time sees it complete in ~3 s, and a test can jump there with `POST /_admin/clock`.
An ERROR carries the reason in `error` (the spec's ErrorStatus shape: error_type, error_message).
"""

from __future__ import annotations

import json
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sandbox.qargo.orders import Consignment, Order, OrderBook, Stop
from sandbox.world import Customer, World

PROGRESS = ((1.0, "IN_PROGRESS"), (2.0, "READY_TO_UPSERT"), (3.0, "UPSERT_IN_PROGRESS"))
OPERATIONS = ("CREATE", "UPDATE", "DELETE")


class UploadError(Exception):
    """The payload can not be applied: the upload ends in ERROR with this message."""


@dataclass
class Upload:
    id: str
    payload: dict[str, Any]
    submitted: datetime
    status: str | None = None  # final status, once applied
    order_id: str | None = None
    message: str | None = None

    def view(self, now: datetime) -> dict[str, Any]:
        body: dict[str, Any] = {
            "upload_id": self.id, "upload_status": self.status or _progress(self.submitted, now),
            "upload_url": f"v1/orders/order/upload/{self.id}", "order_id": self.order_id,
            "order_url": f"v1/orders/order/{self.order_id}" if self.order_id else None}
        if self.message:
            body["error"] = {"error_type": "USER_INPUT_ERROR", "error_message": self.message}
        return body


def _progress(submitted: datetime, now: datetime) -> str:
    elapsed = (now - submitted).total_seconds()
    return next((status for limit, status in PROGRESS if elapsed < limit), PROGRESS[-1][1])


OnStatus = Callable[[Order, str], None]  # (order, visibility status) for each status change


class Uploads:
    def __init__(self, book: OrderBook, world: World, seed: int, on_status: OnStatus) -> None:
        self.book, self.world, self.seed, self.on_status = book, world, seed, on_status
        self.uploads: dict[str, Upload] = {}
        self._pending: deque[Upload] = deque()
        self._customers: dict[str, Customer] = {}

    def submit(self, payload: dict[str, Any], now: datetime) -> Upload:
        upload = Upload(str(uuid.uuid4()), payload, now)
        known = self.book.by_ident(str(payload["order_identifier"]))
        upload.order_id = known.id if known else None  # OrderImport: only set for an existing order
        self.uploads[upload.id] = upload
        self._pending.append(upload)
        return upload

    def settle(self, now: datetime) -> None:
        """Apply every upload whose processing time has passed, oldest first."""
        while self._pending and (now - self._pending[0].submitted).total_seconds() >= PROGRESS[-1][0]:
            upload = self._pending.popleft()
            try:
                upload.status, upload.order_id = self._apply(upload)
            except UploadError as exc:
                upload.status, upload.message = "ERROR", str(exc)

    def _apply(self, upload: Upload) -> tuple[str, str | None]:
        payload = upload.payload
        operation, identifier = payload["operation"], str(payload["order_identifier"])
        existing = self.book.by_ident(identifier)
        if operation == "DELETE":
            return self._cancel(existing, identifier)
        if existing is not None and existing.status == "CANCELLED":
            # seeds/000 line 521: reusing a cancelled order's identifier is an update -> error
            raise UploadError(f"Order with identifier {identifier} is cancelled and can not be updated")
        if existing is None and operation == "UPDATE":
            raise UploadError(f"No order with order_identifier {identifier} to update")
        customer, consignments = self._validate(payload)
        if existing is not None and existing.fingerprint == fingerprint(payload):
            return "DUPLICATE", existing.id  # seeds/000 line 392: identical repeats are idempotent
        if existing is not None:
            self._update(existing, payload, customer, consignments)
            return "COMPLETED", existing.id
        return "COMPLETED", self._create(upload, customer, consignments).id

    def _cancel(self, order: Order | None, identifier: str) -> tuple[str, str | None]:
        if order is None:
            raise UploadError(f"No order with order_identifier {identifier} to cancel")
        if order.status == "CANCELLED":  # seeds/000 line 519: cancelling twice is not an error
            return "COMPLETED", order.id
        # seeds/000 line 519 ("This will cancel the order") names no status that refuses a cancel, so the
        # sandbox refuses none (docs/vendor-readings.md, "Qargo order changes"): it used to refuse every
        # status after PLANNED, a rule of its own that the dashboard could not know.
        order.status = "CANCELLED"
        self.on_status(order, "CANCELLED")
        return "COMPLETED", order.id

    def _create(self, upload: Upload, customer: Customer, consignments: list[Consignment]) -> Order:
        payload = upload.payload
        order = Order(str(uuid.uuid4()), f"upload/{upload.id}", str(payload["order_identifier"]), customer,
                      payload.get("customer_reference_number"), consignments, upload.submitted,
                      fingerprint=fingerprint(payload))
        self.book.add_uploaded(order)
        self.on_status(order, "ACCEPTED")  # seeds/000 line 331: ACCEPTED when the order is created
        return order

    def _update(self, order: Order, payload: dict[str, Any], customer: Customer,
                consignments: list[Consignment]) -> None:
        order.customer, order.consignments = customer, consignments
        order.reference = payload.get("customer_reference_number", order.reference)
        order.fingerprint = fingerprint(payload)

    def _validate(self, payload: dict[str, Any]) -> tuple[Customer, list[Consignment]]:
        customer = self._customer(payload.get("customer"))
        raw = payload.get("consignments")
        if not isinstance(raw, list) or not raw:
            raise UploadError("An order needs at least one consignment with a pickup and a delivery stop")
        return customer, [self._consignment(c, n) for n, c in enumerate(raw)]

    def _customer(self, entity: Any) -> Customer:
        if not self._customers:
            for c in self.world.customers:
                self._customers[c.code.lower()] = self._customers[c.name.lower()] = c
        entity = entity if isinstance(entity, dict) else {}
        key = str(entity.get("code") or entity.get("name") or "").lower()
        if key not in self._customers:
            raise UploadError(f"Customer not found: {entity.get('code') or entity.get('name') or '(none given)'}")
        return self._customers[key]

    def _consignment(self, raw: Any, n: int) -> Consignment:
        if not isinstance(raw, dict):
            raise UploadError(f"consignments[{n}] is not an object")
        pickup = _stop(raw.get("pickup_stop"), "PICKUP", f"consignments[{n}].pickup_stop")
        delivery = _stop(raw.get("delivery_stop"), "DELIVERY", f"consignments[{n}].delivery_stop")
        if pickup.day and delivery.day and delivery.day < pickup.day:
            raise UploadError(f"consignments[{n}]: delivery date {delivery.day} is before pickup date {pickup.day}")
        goods = raw.get("goods")
        return Consignment(str(uuid.uuid4()), pickup, delivery, goods if isinstance(goods, list) else [])


def _stop(raw: Any, kind: str, where: str) -> Stop:
    if not isinstance(raw, dict) or not isinstance(raw.get("location"), dict):
        raise UploadError(f"{where} is missing or has no location")
    return Stop(str(uuid.uuid4()), kind, dict(raw["location"]), _day(raw.get("date"), where),
                raw.get("reference_number"))


def _day(value: Any, where: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise UploadError(f"{where}.date {value!r} is not a date (YYYY-MM-DD)") from None


def fingerprint(payload: dict[str, Any]) -> str:
    """The payload without the fields that change between identical resends."""
    core = {k: v for k, v in payload.items() if k not in ("operation", "message_timestamp")}
    return json.dumps(core, sort_keys=True, default=str)


def request_problem(payload: Any) -> tuple[list[str | int], str] | None:
    """What makes a request unprocessable at once (422) rather than an ERROR upload."""
    if not isinstance(payload, dict):
        return ["body"], "Input should be a valid JSON object"
    if payload.get("operation") not in OPERATIONS:
        return ["body", "operation"], f"Input should be {', '.join(map(repr, OPERATIONS))}"
    if not isinstance(payload.get("order_identifier"), str) or not payload["order_identifier"]:
        return ["body", "order_identifier"], "Field required"
    return None

