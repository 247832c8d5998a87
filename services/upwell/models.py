"""Typed shapes of the Upwell ``onCarrierInvoiceEvent`` webhook (seeds/002 lines 4-93 and 101-146).

Amounts are integer minor units of ``currency`` (``total_amount: 250741`` EUR is 2,507.41 EUR). The same
event carries ``total_tax_amount`` as ``0`` in ``new`` and ``"0"`` in ``old`` (seeds/002 lines 32 and 69), so
every amount accepts both. Envelope timestamps have no zone (line 6) and are read as UTC.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from services.types import (
    FlexibleDatetime,
    MinorUnits,
    Money,
    OptDate,
    OptDatetime,
    OptMinorUnits,
    OptText,
    Text,
    VendorModel,
)


class Operation(StrEnum):
    """The database operation that triggered the event (seeds/002 lines 125-134)."""

    INSERT = "INSERT"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class CarrierInvoice(VendorModel):
    """One row of Upwell's ``carrier_invoices`` table as an event image (``payload.new`` / ``payload.old``)."""

    id: Text
    invoice_number: OptText = None
    status: str | None = None
    currency: str = Field(min_length=3, max_length=3)
    total_amount: MinorUnits
    total_tax_amount: OptMinorUnits = None
    balance: OptMinorUnits = None
    carrier_id: OptText = None
    tenant_id: OptText = None
    shipment_id: OptText = None
    bill_id: OptText = None
    load_number: OptText = None
    issue_date: OptDate = None
    due_date: OptDate = None
    received_at: OptDatetime = None
    created_at: OptDatetime = None
    updated_at: OptDatetime = None
    deleted_at: OptDatetime = None
    reference_numbers: Any = None

    @property
    def total(self) -> Money:
        return Money(amount_minor=self.total_amount, currency=self.currency)

    @property
    def open_balance(self) -> Money | None:
        """What is still owed, when Upwell says so (``balance``)."""
        if self.balance is None:
            return None
        return Money(amount_minor=self.balance, currency=self.currency)


class CarrierInvoicePayload(VendorModel):
    """The row images: ``new`` after the change, ``old`` before it."""

    new: CarrierInvoice | None = None
    old: CarrierInvoice | None = None


class CarrierInvoiceEvent(VendorModel):
    """The webhook envelope. ``id`` is the idempotency key when the same event is delivered twice."""

    id: Text
    created_at: FlexibleDatetime = Field(alias="createdAt")
    updated_at: FlexibleDatetime = Field(alias="updatedAt")
    scheduled_at: OptDatetime = Field(default=None, alias="scheduledAt")
    processed_at: OptDatetime = Field(default=None, alias="processedAt")
    status: str
    operation: Operation
    payload: CarrierInvoicePayload
    table: str | None = None
    webhook_subscription_id: OptText = Field(default=None, alias="webhookSubscriptionId")
    resource_id: OptText = Field(default=None, alias="resourceId")
    retry_of_id: OptText = Field(default=None, alias="retryOfId")
    retries: list[Any] | None = None
    trigger: Any = None

    @property
    def invoice(self) -> CarrierInvoice:
        """The image to store: ``new`` for INSERT/UPDATE, ``old`` for DELETE (parse_event guarantees it)."""
        image = self.payload.old if self.operation == Operation.DELETE else self.payload.new
        assert image is not None, "use parse_event, which checks the operation's images"
        return image
