"""The operational visibility webhook Qargo POSTs to us (schema ``OperationalVisibilityUpdate``).

Qargo sends an event on order ``ACCEPTED``/``REJECTED``/``COMPLETED``, stop ``AT_STOP``/``COMPLETED`` and trip
``PLANNED``/``COMPLETED`` (seeds/000 lines 327-336). Statuses outside the known vocabulary are kept as text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from services.types import FlexibleDatetime, OptDatetime, OptText, Text, VendorModel, lenient


class OrderStatus(StrEnum):
    """The visibility vocabulary; ``OrderWithStatus.status`` is a free string that may hold others."""

    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    COMPLETED = "COMPLETED"
    DRAFT = "DRAFT"
    QUOTE = "QUOTE"
    TO_PLAN = "TO_PLAN"
    PLANNED = "PLANNED"
    DEPARTED = "DEPARTED"
    IN_TRANSIT = "IN_TRANSIT"
    INVOICE_READY = "INVOICE_READY"
    DONT_INVOICE = "DONT_INVOICE"
    INVOICE_CREATED = "INVOICE_CREATED"
    INVOICED = "INVOICED"
    INVOICE_POSTED = "INVOICE_POSTED"
    CANCELLED = "CANCELLED"


class VisibilityLocation(VendorModel):
    name: OptText = None
    city: OptText = None
    postal_code: OptText = None
    country_code: OptText = None


class VisibilityStop(VendorModel):
    id: OptText = None
    status: OptText = None
    stop_type: OptText = None
    location: VisibilityLocation | None = None
    stop_reference: OptText = None
    eta_start_time: OptDatetime = None
    eta_end_time: OptDatetime = None
    actual_start_timestamp: OptDatetime = None
    actual_end_timestamp: OptDatetime = None


class VisibilityCustomer(VendorModel):
    id: OptText = None
    name: OptText = None


class VisibilityOrder(VendorModel):
    id: Text
    order_name: OptText = None
    customer_reference_number: OptText = None
    customer: VisibilityCustomer | None = None
    status: lenient(OrderStatus) | None = None  # type: ignore[valid-type]
    stops: list[VisibilityStop] = Field(default_factory=list)


class VisibilityUpdate(VendorModel):
    """The ``update`` of an event: ``type`` says what changed (Order, OrderImport, Stop, Document, ...)."""

    type: str
    id: OptText = None
    status: OptText = None
    update_type: OptText = None
    stop: VisibilityStop | None = None


class VisibilityEvent(VendorModel):
    timestamp: FlexibleDatetime
    update: VisibilityUpdate


class OperationalVisibilityUpdate(VendorModel):
    """Body of the operational visibility webhook (``POST /webhooks/qargo``)."""

    events: list[VisibilityEvent]
    order: VisibilityOrder | None = None
    trip: dict[str, Any] | None = None

    @property
    def latest_order_status(self) -> str | None:
        """The order status to store: the newest Order event's status, else the order block's."""
        order_events = [e for e in self.events if e.update.type == "Order" and e.update.status]
        if order_events:
            return max(order_events, key=lambda e: e.timestamp).update.status
        return str(self.order.status) if self.order and self.order.status else None
