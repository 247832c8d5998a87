"""Cargobase (seeds/004): no change filter; finished invoices leave the list after 24 h, so every
run reads the whole list and stamps the rows it no longer saw."""

from __future__ import annotations

from sqlite_utils import Database

from cache.store import mark_gone
from cache.sync import mappers
from cache.sync.engine import SyncResource
from cache.sync.fetch import paged
from services.cargobase import resources as cargobase


def _cargobase_gone(db: Database, run_start: str) -> None:
    mark_gone(db, "cargobase_invoices", not_seen_since=run_start)


def declarations() -> tuple[SyncResource, ...]:
    # Finished invoices leave the list 24 h after their last change: run well within that window.
    return (
        SyncResource("cargobase", "invoices", "cargobase_invoices", ("shipment_reference", "provider_invoice_number"),
                     paged(cargobase.invoices), mappers.cargobase_invoice, insert_only=("first_seen_at",),
                     stamp=("first_seen_at", "last_seen_at"), after_full_pass=_cargobase_gone),
    )
