"""Typed shapes of the Cargobase invoice list (seeds/004).

The doc lists the status twice: as display names in the results ("Awaiting audit", seeds/004 lines 35-40) and
as filter values (``awaiting_audit``, lines 65-70). Both normalise to one :class:`InvoiceStatus`; a status the
doc does not list is kept as its snake_case text rather than rejected.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AliasChoices, BeforeValidator, Field

from services.types import OptDateOrTime, OptDatetime, OptInt, OptText, VendorModel


class InvoiceStatus(StrEnum):
    """The filter values of seeds/004 lines 64-70."""

    AWAITING_AUDIT = "awaiting_audit"
    APPROVED = "approved"
    DECLINED = "declined"
    REMOVED = "removed"
    CANCELED = "canceled"
    UNSUBMITTED = "unsubmitted"


# British spelling seen in the wild for the same state; the doc spells it "Canceled".
_SYNONYMS = {"cancelled": "canceled"}


def normalize_status(value: Any) -> Any:
    """``"Awaiting audit"``, ``"awaiting_audit"``, ``"AWAITING-AUDIT"`` -> ``"awaiting_audit"``."""
    if not isinstance(value, str):
        return value
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    key = _SYNONYMS.get(key, key)
    try:
        return InvoiceStatus(key)
    except ValueError:
        return key


StatusValue = Annotated[
    InvoiceStatus | str, Field(union_mode="left_to_right"), BeforeValidator(normalize_status)
]


class Invoice(VendorModel):
    """One row of ``GET /api/1/invoices/``: exactly the documented fields (seeds/004 lines 22-30)."""

    shipment_reference: OptText = None
    invoice_reference: OptText = None
    invoice_status: StatusValue | None = None
    provider_name: OptText = None
    provider_invoice_number: OptText = None
    freight_mode: OptText = None
    primary_tracking_number: OptText = None
    # "The initial date the invoice was submitted" (seeds/004 line 29), format not given: a bare date stays a
    # date; a timestamp keeps its time, and the cache stores its business date (sync/mappers.py `day`).
    submit_date: OptDateOrTime = None
    modified: OptDatetime = None  # "Date and Time in UTC" (seeds/004 line 30)


class InvoicePage(VendorModel):
    """One page of the list plus its "footer" (seeds/004 lines 44-50): page/page_size paging, newest first."""

    results: list[Invoice] = Field(default_factory=list, validation_alias=AliasChoices("results", "invoices"))
    count: OptInt = None
    page: OptInt = None
    record_start: OptInt = None
    record_end: OptInt = None
    next: OptText = None
    previous: OptText = None
