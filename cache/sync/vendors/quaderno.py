"""Quaderno (seeds/001): lists newest first (`created_before`, lines 64-75); a run stops at the
newest id stored; a periodic full pass catches other changes. The open invoices are re-read every
run with the documented `state` filter (line 1491), so a paid invoice leaves outstanding within one
sync interval, not at the next full pass."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from sqlite_utils import Database

from cache.statuses import QUADERNO_OPEN_STATES, sql_list
from cache.sync import mappers
from cache.sync.engine import Fetch, SyncResource, SyncState
from cache.sync.fetch import ListBatch, NeedsDb, one_or_none, paged
from services.quaderno import resources as quaderno

OPEN_PAGE_SIZE = 100  # the documented cap (seeds/001 line 73): fewest calls for the open set
REFRESH_BATCH = 50  # stored open invoices re-read one by one, per batch


def _document_id(record: Any) -> str:
    return str(record.id)


def stored_open_ids(db: Database) -> list[str]:
    """Invoices the cache holds as open (literal states from cache.statuses)."""
    sql = f"SELECT invoice_id FROM quaderno_invoices WHERE state IN {sql_list(QUADERNO_OPEN_STATES)}"
    return sorted((row[0] for row in db.execute(sql).fetchall()), key=lambda i: (len(i), i))


def _open_records(client: Any, seen: set[str]) -> Iterator[list[Any]]:
    """Every invoice Quaderno lists as outstanding or late, a page at a time."""
    for state in sorted(QUADERNO_OPEN_STATES):
        for page in quaderno.invoices(client, state=state, limit=OPEN_PAGE_SIZE):
            seen.update(_document_id(r) for r in page.records)
            yield list(page.records)


def _missing_records(db: Database, client: Any, seen: set[str]) -> Iterator[list[Any]]:
    """Stored open invoices the open set no longer lists: paid, uncollectible, refunded... Each is
    read by id so its row says what it is now (an id Quaderno no longer knows is skipped)."""
    missing = [i for i in stored_open_ids(db) if i not in seen]
    for start in range(0, len(missing), REFRESH_BATCH):
        chunk = missing[start:start + REFRESH_BATCH]
        yield [r for i in chunk for r in one_or_none(lambda c, k: [quaderno.get_invoice(c, int(k))], client, i)]


def _last_marked(batches: Iterable[list[Any]]) -> Iterator[ListBatch]:
    """The engine stops at a batch without a checkpoint: only the last one has none. A resumed run
    starts the open set again (it is small), so the checkpoint is only a marker."""
    previous: list[Any] | None = None
    step = 0
    for records in batches:
        if previous is not None:
            step += 1
            yield ListBatch(previous, {"step": step})
        previous = records
    yield ListBatch(previous or [], None)


def _open_invoices(db: Database) -> Fetch:
    def fetch(client: Any, state: SyncState) -> Iterator[ListBatch]:
        seen: set[str] = set()

        def batches() -> Iterator[list[Any]]:
            yield from _open_records(client, seen)
            yield from _missing_records(db, client, seen)  # runs after the listing: `seen` is complete
        return _last_marked(batches())
    return fetch


def declarations() -> tuple[SyncResource, ...]:
    hourly, daily = timedelta(hours=1), timedelta(hours=24)
    return (
        SyncResource("quaderno", "invoices", "quaderno_invoices", "invoice_id", paged(quaderno.invoices),
                     mappers.quaderno_invoice, mode="newest_first", record_id=_document_id),
        # Every run (15 min): the open set by `state`, plus any stored open invoice it no longer lists.
        SyncResource("quaderno", "open_invoices", "quaderno_invoices", "invoice_id", NeedsDb(_open_invoices),
                     mappers.quaderno_invoice, mode="full"),
        SyncResource("quaderno", "credits", "quaderno_credits", "credit_id", paged(quaderno.credits),
                     mappers.quaderno_credit, mode="newest_first", interval=hourly, record_id=_document_id),
        # Newest first too (not a full read every run): 2,000 contacts are 20 of the 100 calls per
        # 15 s (seeds/001 line 60) each time; edits to older contacts arrive with the daily full pass.
        SyncResource("quaderno", "contacts", "quaderno_contacts", "contact_id", paged(quaderno.contacts),
                     mappers.quaderno_contact, mode="newest_first", interval=hourly, full_every=daily,
                     record_id=_document_id),
    )
