"""Quaderno (seeds/001): lists newest first (`created_before`, lines 64-75); a run stops at the
newest id stored; a periodic full pass catches state changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cache.sync import mappers
from cache.sync.engine import SyncResource
from cache.sync.fetch import paged
from services.quaderno import resources as quaderno


def _document_id(record: Any) -> str:
    return str(record.id)


def declarations() -> tuple[SyncResource, ...]:
    hourly, daily = timedelta(hours=1), timedelta(hours=24)
    return (
        SyncResource("quaderno", "invoices", "quaderno_invoices", "invoice_id", paged(quaderno.invoices),
                     mappers.quaderno_invoice, mode="newest_first", record_id=_document_id),
        SyncResource("quaderno", "credits", "quaderno_credits", "credit_id", paged(quaderno.credits),
                     mappers.quaderno_credit, mode="newest_first", interval=hourly, record_id=_document_id),
        # Newest first too (not a full read every run): 2,000 contacts are 20 of the 100 calls per
        # 15 s (seeds/001 line 60) each time; edits to older contacts arrive with the daily full pass.
        SyncResource("quaderno", "contacts", "quaderno_contacts", "contact_id", paged(quaderno.contacts),
                     mappers.quaderno_contact, mode="newest_first", interval=hourly, full_every=daily,
                     record_id=_document_id),
    )
