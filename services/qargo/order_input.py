"""The order upload body we SEND to Qargo: schema ``OrderInput`` of ``POST /v1/orders/order/upload``.

The spec calls the *answer* of that call ``OrderImport`` (see services.qargo.models); the order is ``OrderInput``.
Shapes follow the guide's examples (seeds/000 "Create/Update/Cancel an order", "Container orders", ADR at
line 1514). Physical measures are floats because the schema types them as JSON numbers; they are not money.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import Field

from services.types import VendorModel


class Operation(StrEnum):
    """Upload operation; the order is identified by ``order_identifier`` (seeds/000 "Update an order")."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"  # cancels the order, idempotently (seeds/000 "Cancel an order")


class Entity(VendorModel):
    """A reference by name or code (customer, transport service)."""

    name: str | None = None
    code: str | None = None


class Location(VendorModel):
    name: str | None = None
    address: str | None = None
    address_second_line: str | None = None
    postal_code: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    external_id: str | None = None


class TimeWindow(VendorModel):
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    name: str | None = None
    code: str | None = None
    is_enforced: bool | None = None


class StopInput(VendorModel):
    location: Location
    date: dt.date | None = None
    time_window: TimeWindow | None = None
    reference_number: str | None = None
    note: str | None = None
    activity_label: str | None = None
    planning_instructions: str | None = None
    email: str | None = None
    phone_number: str | None = None
    mobile_number: str | None = None


class PackagingType(VendorModel):
    code: str | None = None
    name: str | None = None


class ADRInput(VendorModel):
    """Dangerous-goods data of a packaged item (seeds/000 line 1514 example)."""

    un_number: str | None = None
    adr_class: str | None = None
    packing_group: str | None = None
    classification_code: str | None = None
    packaging_type: str | None = None
    emergency_phone_number: str | None = None
    technical_name_by_locale: dict[str, str] | None = None


class PackagedItemInput(VendorModel):
    quantity: int | None = None
    adr: ADRInput | None = None
    packaging_type: PackagingType | None = None
    total_weight_kg: float | None = None
    total_volume_l: float | None = None


class Product(VendorModel):
    name: str | None = None
    code: str | None = None


class GoodInput(VendorModel):
    quantity: int | None = None
    product: Product | None = None
    packaging_type: PackagingType | None = None
    total_weight_kg: float | None = None
    total_volume_m3: float | None = None
    total_loading_meters: float | None = None
    total_pallet_spaces: float | None = None
    stackable: bool | None = None
    adr_type: str | None = None  # "ADR" or "LIMITED_QUANTITY"
    packaged_items: list[PackagedItemInput] | None = None


class ConsignmentInput(VendorModel):
    pickup_stop: StopInput
    delivery_stop: StopInput
    goods: list[GoodInput] | None = None
    consignment_reference_number: str | None = None


class ContainerType(VendorModel):
    code: str | None = None
    name: str | None = None


class ContainerInput(VendorModel):
    """Container options (seeds/000 "Container orders"): IMPORT/EXPORT scenario, number, ISO type."""

    container_scenario: str | None = None  # "IMPORT" or "EXPORT"
    container_number: str | None = None
    container_type: ContainerType | None = None
    seal_number: str | None = None


class OrderInput(VendorModel):
    """The upload body. ``order_identifier`` is our idempotency key: the same id updates, never duplicates."""

    operation: Operation
    order_identifier: str = Field(min_length=1)
    customer: Entity
    consignments: list[ConsignmentInput]
    customer_reference_number: str | None = None
    transport_service: Entity | None = None
    planning_instructions: str | None = None
    contact_emails: list[str] | None = None
    container: ContainerInput | None = None
    setup_stops: list[StopInput] | None = None
    teardown_stops: list[StopInput] | None = None

    def payload(self) -> dict[str, Any]:
        """The JSON body to POST (vendor field names, no nulls)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
