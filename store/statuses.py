"""What each vendor status means to us: one table per vendor, read by the sync and the datasets.

Every value a vendor document lists has a meaning here; tests/contracts fail when a documented value
is missing. A value no document lists is data, not an error: it gets the cautious meaning (an order
still open, an invoice still owed) so that nothing silently drops out of a figure.
"""

from __future__ import annotations

from enum import StrEnum


class OrderPhase(StrEnum):
    OPEN = "open"            # not yet delivered: can be late
    DELIVERED = "delivered"  # transport done; finance still moves it (charges, invoicing)
    CLOSED = "closed"        # nothing will change any more


# Qargo's visibility vocabulary, VisibilityOrderStatus in the vendor OpenAPI
# (../shared/vendor-specs/qargo/qargo-tms-openapi-v1.2.0-2026.yml) and vendor-specs/README.md.
QARGO_ORDER_PHASE: dict[str, OrderPhase] = {
    "DRAFT": OrderPhase.OPEN,
    "QUOTE": OrderPhase.OPEN,
    "ACCEPTED": OrderPhase.OPEN,
    "TO_PLAN": OrderPhase.OPEN,
    "PLANNED": OrderPhase.OPEN,
    "DEPARTED": OrderPhase.OPEN,
    "IN_TRANSIT": OrderPhase.OPEN,
    "COMPLETED": OrderPhase.DELIVERED,
    "INVOICE_READY": OrderPhase.DELIVERED,
    "INVOICE_CREATED": OrderPhase.DELIVERED,
    "INVOICED": OrderPhase.DELIVERED,
    "INVOICE_POSTED": OrderPhase.CLOSED,
    "DONT_INVOICE": OrderPhase.CLOSED,
    "REJECTED": OrderPhase.CLOSED,
    "CANCELLED": OrderPhase.CLOSED,
}


def qargo_phase(status: str | None) -> OrderPhase:
    """An unknown or missing status is open: it may be late, and it is still polled."""
    return QARGO_ORDER_PHASE.get((status or "").upper(), OrderPhase.OPEN)


# No longer late-able: the journey ended (delivered, or closed without delivery).
QARGO_JOURNEY_ENDED = frozenset(s for s, p in QARGO_ORDER_PHASE.items() if p is not OrderPhase.OPEN)
# No longer changing: status polling stops here.
QARGO_FINAL = frozenset(s for s, p in QARGO_ORDER_PHASE.items() if p is OrderPhase.CLOSED)


def sql_list(values: frozenset[str]) -> str:
    """A SQL literal list of upper-case status names (constants from this module only)."""
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


class InvoiceMeaning(StrEnum):
    OUTSTANDING = "outstanding"  # still owed (or, for Cargobase, still ours to audit): counts in the figures
    SETTLED = "settled"          # done with: paid, refunded, approved out of the audit queue
    VOID = "void"                # never or no longer owed: cancelled, removed, declined, draft, written off


# Cargobase invoice statuses (seeds/004 lines 32-40 and 62-72, list values). Only "awaiting audit"
# is work for us: an invoice submitted to us that we have not approved or declined yet.
CARGOBASE_AWAITING = "awaiting_audit"
CARGOBASE_MEANING: dict[str, InvoiceMeaning] = {
    "awaiting_audit": InvoiceMeaning.OUTSTANDING,  # "submitted, but is awaiting audit approval"
    "approved": InvoiceMeaning.SETTLED,            # out of our audit queue (payment happens elsewhere)
    "declined": InvoiceMeaning.VOID,               # "can be resubmitted by the provider": a new submission
    "removed": InvoiceMeaning.VOID,                # "will not be submitted"
    "canceled": InvoiceMeaning.VOID,               # "retracted by the provider"
    "unsubmitted": InvoiceMeaning.VOID,            # "visible to providers only": not ours yet
}
CARGOBASE_STATUSES = tuple(CARGOBASE_MEANING)


def cargobase_status(value: str | None) -> str:
    """"Awaiting audit" (the list's label) and "awaiting_audit" (the filter value) are one status;
    the British "cancelled" is the document's "canceled"."""
    key = (value or "").strip().lower().replace(" ", "_").replace("-", "_")
    return "canceled" if key == "cancelled" else key


def cargobase_meaning(value: str | None) -> InvoiceMeaning:
    """An unknown status is outstanding: a new audit state must not silently drop out of the queue."""
    return CARGOBASE_MEANING.get(cargobase_status(value), InvoiceMeaning.OUTSTANDING)


def cargobase_outstanding_sql(prefix: str = "") -> str:
    """`cargobase_meaning(status) is OUTSTANDING` over cargobase_invoices.invoice_status (the mapper
    stores the normalised value); a row gone from Cargobase's list is not outstanding."""
    settled = frozenset(s for s, m in CARGOBASE_MEANING.items() if m is not InvoiceMeaning.OUTSTANDING)
    return (f"{prefix}gone_from_vendor_at IS NULL AND "
            f"lower(coalesce({prefix}invoice_status, '')) NOT IN {sql_list(settled)}")


# Quaderno document states (seeds/001 line 1491). Open = something may still be due.
QUADERNO_MEANING: dict[str, InvoiceMeaning] = {
    "outstanding": InvoiceMeaning.OUTSTANDING,
    "late": InvoiceMeaning.OUTSTANDING,
    "paid": InvoiceMeaning.SETTLED,
    "refunded": InvoiceMeaning.SETTLED,
    "uncollectible": InvoiceMeaning.VOID,  # written off: no longer expected
    "archived": InvoiceMeaning.VOID,
}
QUADERNO_OPEN_STATES = frozenset(s for s, m in QUADERNO_MEANING.items() if m is InvoiceMeaning.OUTSTANDING)
QUADERNO_STATES = tuple(QUADERNO_MEANING)


def quaderno_outstanding(state: str | None, amount_due: int | None, removed_at: str | None = None) -> bool:
    """Outstanding = an open state (outstanding, late) AND something still due (issue 9 point 6) AND not
    removed at the vendor: a re-read answering 410 Gone or 404 (seeds/001 lines 94, 103) sets `removed_at`."""
    return removed_at is None and (state or "").lower() in QUADERNO_OPEN_STATES and (amount_due or 0) > 0


def quaderno_outstanding_sql(prefix: str = "") -> str:
    """The same rule over quaderno_invoices (`amount_due` is the exact remaining due in cents)."""
    return (f"{prefix}state IN {sql_list(QUADERNO_OPEN_STATES)} AND coalesce({prefix}amount_due, 0) > 0 "
            f"AND {prefix}removed_at IS NULL")


# Upwell carrier invoice statuses (seeds/002). The document shows only RECEIVED (line 15) and the
# event's own PENDING (line 10, the delivery's status, not the invoice's); `status` is a free string.
# Our reading, written down in docs/vendor-readings.md: these names end an invoice, so it is never
# outstanding whatever its `balance`; any other status (RECEIVED, APPROVED, DISPUTED, PARTIALLY_PAID,
# or one no document lists) with a balance above zero stays outstanding. Compared upper-case.
UPWELL_ENDED = frozenset({
    "PAID", "VOIDED", "VOID", "CANCELLED", "CANCELED", "REJECTED", "DELETED", "WRITTEN_OFF", "ARCHIVED",
})


def upwell_ended(status: str | None) -> bool:
    """A status after which nothing is owed on the invoice (case-insensitive)."""
    return (status or "").strip().upper() in UPWELL_ENDED


def upwell_outstanding(status: str | None, balance: int | None, deleted_at: str | None) -> bool:
    """The one rule for a carrier invoice we still owe: not deleted, not ended, a balance above zero.
    SQL form for the datasets: `upwell_outstanding_sql()`."""
    return deleted_at is None and not upwell_ended(status) and (balance or 0) > 0


def upwell_outstanding_sql(prefix: str = "") -> str:
    """The same rule as a SQL condition over carrier_invoices' columns (`prefix` e.g. "c.")."""
    return (f"{prefix}deleted_at IS NULL AND coalesce({prefix}balance, 0) > 0 "
            f"AND upper(coalesce({prefix}status, '')) NOT IN {sql_list(UPWELL_ENDED)}")
