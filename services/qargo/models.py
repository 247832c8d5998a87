"""Typed shapes of the Qargo TMS API (vendor-specs/qargo OpenAPI v1.2.0; guide in seeds/000).

Two directions:

* what we SEND: :class:`OrderInput`, the body of ``POST /v1/orders/order/upload`` (schema ``OrderInput``).
  Note the spec names the *answer* of that call ``OrderImport`` (upload id + status); the order itself is
  ``OrderInput``. ``OrderInput.payload()`` gives the JSON body, without unset fields.
* what we READ: upload status, order with status, charges, documents, accounting sync tasks (read-only: the
  customer's accounting integration owns that queue), resources and unavailabilities, visibility webhooks.

Statuses are free strings at Qargo or grow over time: known values become enum members, unknown ones stay as
text (vendor-specs/README). Charge amounts are decimal strings (2025-09 spec, ``ChargeWithApproval``).
Physical measures (kg, m3, coordinates) are floats on the way out because the schema types them as JSON numbers;
they are not money.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from services.qargo.order_input import (  # re-exported: one import point for the Qargo shapes
    ADRInput,
    ConsignmentInput,
    ContainerInput,
    ContainerType,
    Entity,
    GoodInput,
    Location,
    Operation,
    OrderInput,
    PackagedItemInput,
    PackagingType,
    Product,
    StopInput,
    TimeWindow,
)
from services.qargo.visibility import (  # re-exported
    OperationalVisibilityUpdate,
    OrderStatus,
    VisibilityEvent,
    VisibilityOrder,
    VisibilityStop,
    VisibilityUpdate,
)
from services.types import (
    FlexibleDatetime,
    Money,
    OptDate,
    OptDatetime,
    OptDecimal,
    OptInt,
    OptText,
    Text,
    VendorModel,
    lenient,
)

__all__ = [
    "ADRInput",
    "AvailableTask",
    "AvailableTasks",
    "Charge",
    "ChargeApprovalStatus",
    "ChargeStatus",
    "Company",
    "ConsignmentInput",
    "ConsignmentOut",
    "ContainerInput",
    "ContainerType",
    "Document",
    "Entity",
    "ErrorBody",
    "GoodInput",
    "GoodOut",
    "Location",
    "Operation",
    "OperationalVisibilityUpdate",
    "OrderCharges",
    "OrderImport",
    "OrderInput",
    "OrderStatus",
    "OrderWithStatus",
    "PackagedItemInput",
    "PackagingType",
    "Product",
    "Resource",
    "ResourceList",
    "StopInput",
    "StopOut",
    "TaskDetail",
    "TaskStatus",
    "TimeWindow",
    "Unavailability",
    "UnavailabilityList",
    "UploadStatus",
    "VisibilityEvent",
    "VisibilityOrder",
    "VisibilityStop",
    "VisibilityUpdate",
]


class UploadStatus(StrEnum):
    TODO = "TODO"
    IN_PROGRESS = "IN_PROGRESS"
    READY_TO_UPSERT = "READY_TO_UPSERT"
    UPSERT_IN_PROGRESS = "UPSERT_IN_PROGRESS"
    COMPLETED = "COMPLETED"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"
    DUPLICATE = "DUPLICATE"


_FINAL_UPLOAD = {UploadStatus.COMPLETED, UploadStatus.ERROR, UploadStatus.SKIPPED, UploadStatus.DUPLICATE}


class ChargeStatus(StrEnum):
    CREATED = "CREATED"
    DO_NOT_INVOICE = "DO_NOT_INVOICE"
    INVOICED = "INVOICED"
    INVOICED_EXTERNAL = "INVOICED_EXTERNAL"


class ChargeApprovalStatus(StrEnum):
    TO_REQUEST = "TO_REQUEST"
    REQUESTED = "REQUESTED"
    REJECTED_INTERNAL = "REJECTED_INTERNAL"
    REJECTED = "REJECTED"
    APPROVED = "APPROVED"


class TaskStatus(StrEnum):
    TODO = "TODO"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    WAITING = "WAITING"


# ---------------------------------------------------------------------------- what we read


class OrderImport(VendorModel):
    """Answer of ``POST /v1/orders/order/upload`` and ``GET .../upload/{upload_id}``: poll until final."""

    upload_id: Text
    upload_status: lenient(UploadStatus)  # type: ignore[valid-type]
    upload_url: OptText = None
    order_id: OptText = None
    order_url: OptText = None
    # Not in the OpenAPI OrderImport schema; the sandbox (and, we expect, the vendor) explains an
    # ERROR here in the spec's ErrorStatus shape: {error_type, error_message}.
    error: dict[str, Any] | None = None

    @property
    def error_message(self) -> str | None:
        if not self.error:
            return None
        return str(self.error.get("error_message") or self.error.get("error_type") or self.error)

    @property
    def is_final(self) -> bool:
        return self.upload_status in _FINAL_UPLOAD

    @property
    def failed(self) -> bool:
        return self.upload_status in {UploadStatus.ERROR, UploadStatus.SKIPPED}


class LocationOut(VendorModel):
    name: OptText = None
    display_name: OptText = None
    address: OptText = None
    postal_code: OptText = None
    city: OptText = None
    country: OptText = None


class TimeWindowOut(VendorModel):
    start_time: OptText = None
    end_time: OptText = None


class StopOut(VendorModel):
    id: OptText = None
    status: OptText = None  # free string, e.g. "PLANNED"
    activity_label: OptText = None
    reference_number: OptText = None
    date: OptDate = None
    location: LocationOut | None = None
    time_window: TimeWindowOut | None = None
    start_timestamp: OptDatetime = None
    end_timestamp: OptDatetime = None


class GoodOut(VendorModel):
    id: OptText = None
    quantity: OptInt = None
    total_weight_kg: OptDecimal = None
    total_volume_m3: OptDecimal = None
    adr_type: OptText = None
    product: Product | None = None


class ConsignmentOut(VendorModel):
    id: OptText = None
    consignment_reference_number: OptText = None
    pickup_stop: StopOut | None = None
    delivery_stop: StopOut | None = None
    goods: list[GoodOut] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _null_goods(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("goods") is None:
            return {**data, "goods": []}
        return data


class Company(VendorModel):
    id: OptText = None
    name: OptText = None
    code: OptText = None
    currency: OptText = None
    vat_number: OptText = None
    accounting_code: OptText = None


class OrderWithStatus(VendorModel):
    """``GET /v1/orders/order/{id}/status`` (also fits ``GET /v1/orders/order/{id}``)."""

    id: Text
    order_identifier: OptText = None
    customer_reference_number: OptText = None
    status: lenient(OrderStatus) | None = None  # type: ignore[valid-type]
    customer: Company | None = None
    created_timestamp: OptDatetime = None
    stops: list[StopOut] = Field(default_factory=list)
    consignments: list[ConsignmentOut] = Field(default_factory=list)
    first_pickup_stop: StopOut | None = None
    last_delivery_stop: StopOut | None = None

    @model_validator(mode="before")
    @classmethod
    def _null_lists(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {**data, **{k: [] for k in ("stops", "consignments") if data.get(k) is None}}
        return data


class Charge(VendorModel):
    """``ChargeWithApproval`` of the 2025-09 spec: amounts are decimal strings in ``currency``."""

    id: OptText = None
    code: OptText = None
    name: OptText = None
    currency: OptText = None
    amount_excl_tax: OptDecimal = None
    amount_tax: OptDecimal = None
    amount_incl_tax: OptDecimal = None
    status: lenient(ChargeStatus) | None = None  # type: ignore[valid-type]
    approval_status: lenient(ChargeApprovalStatus) | None = None  # type: ignore[valid-type]

    @property
    def total(self) -> Money | None:
        """Amount including tax as exact minor units, when amount and currency are both known."""
        amount = self.amount_incl_tax if self.amount_incl_tax is not None else self.amount_excl_tax
        if amount is None or not self.currency:
            return None
        return Money.from_decimal(amount, self.currency)


class OrderCharges(VendorModel):
    charges: list[Charge] | None = None


class Document(VendorModel):
    """An order document (``GET /v1/orders/order/{id}/documents``)."""

    id: Text
    name: OptText = None
    type: OptText = None
    subject_type: OptText = None
    content_type: OptText = None
    download_url: OptText = None


class AvailableTask(VendorModel):
    """An accounting sync task. Read-only for us: marking it done belongs to the accounting integration."""

    id: Text
    task_type: OptText = None
    status: lenient(TaskStatus) | None = None  # type: ignore[valid-type]
    invoice_id: OptText = None


class AvailableTasks(VendorModel):
    tasks: list[AvailableTask] = Field(default_factory=list)


class TaskDetail(AvailableTask):
    payload: dict[str, Any] | None = None
    execution_metadata: dict[str, Any] | None = None


_RESOURCE_KINDS = ("driver", "tractor", "truck", "van", "trailer", "full_trailer", "chassis", "container")


class Resource(VendorModel):
    """One item of ``ListResourceOutput``; ``kind`` is the name of the type-specific property block."""

    row_id: Text
    name: OptText = None
    code: OptText = None
    external_id: OptText = None
    is_active: bool | None = None
    timestamp_updated: OptDatetime = None
    kind: str = "unknown"

    @model_validator(mode="before")
    @classmethod
    def _kind(cls, data: Any) -> Any:
        if isinstance(data, dict) and "kind" not in data:
            kind = next((k for k in _RESOURCE_KINDS if data.get(k) is not None), "unknown")
            return {**data, "kind": kind}
        return data


class ResourceList(VendorModel):
    items: list[Resource] = Field(default_factory=list)
    next_cursor: OptText = None


class Unavailability(VendorModel):
    id: Text
    reason: OptText = None  # e.g. DRIVER_HOLIDAY, VEHICLE_MAINTENANCE
    start_time: FlexibleDatetime
    end_time: OptDatetime = None
    external_id: OptText = None
    description: OptText = None


class UnavailabilityList(VendorModel):
    items: list[Unavailability] = Field(default_factory=list)
    next_cursor: OptText = None


class ErrorDetail(VendorModel):
    message: OptText = None
    field: OptText = None
    path: OptText = None


class ErrorBody(VendorModel):
    """Qargo error answers: ``{message, errors[]}`` (ValidationErrorResponse) or ``{detail: ...}``."""

    message: OptText = None
    errors: list[ErrorDetail] = Field(default_factory=list)
    detail: Any = None

    @property
    def summary(self) -> str:
        parts = [self.message] if self.message else []
        parts += [f"{e.field or e.path or '?'}: {e.message}" for e in self.errors]
        if not parts and self.detail:
            parts.append(str(self.detail))
        return "; ".join(p for p in parts if p) or "no details given"
