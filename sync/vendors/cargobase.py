"""Cargobase (seeds/004): no change filter; finished invoices leave the list after 24 h, so every
run reads the whole list and stamps the rows it no longer saw -- only after a read it can vouch for.

The list is paged by page number, newest first (seeds/004 line 74). When invoices leave it between two
page requests, the ones after them slide to pages already read and a pass never sees them (issue 18
point 4: 391 invoices awaiting audit became 386). A read is *verified* when it started at page 1, every
page's footer gave the same `count` (seeds/004 line 47) and it saw exactly `count` distinct invoices: then
nothing moved while it was read, and what it did not see is gone. An unverified read is read again from
page 1, up to `READS` times in one pass; if none verifies, the pass marks nothing gone (it kept every
invoice it saw) and says so in the log. docs/vendor-readings.md "Cargobase".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from services.cargobase import resources as cargobase
from store.store import mark_gone
from sync import mappers
from sync.engine import Fetch, SyncResource, SyncState
from sync.fetch import start_at

log = logging.getLogger("opsdash.sync")

READS = 3  # whole reads of the list per pass at most, before a pass gives up marking anything gone
Key = tuple[str, str]


@dataclass
class _Read:
    """One read of the list: the footer counts and the distinct invoices it saw."""

    whole: bool  # started at page 1 (a read resumed mid-list cannot vouch for the pages before)
    counts: set[int | None] = field(default_factory=set)
    seen: set[Key] = field(default_factory=set)

    def add(self, page: cargobase.InvoiceListPage) -> None:
        self.counts.add(page.count)
        self.seen.update((r.shipment_reference or "", r.provider_invoice_number or "") for r in page.records)

    def verified(self) -> bool:
        if not self.whole or len(self.counts) != 1:
            return False
        count = next(iter(self.counts))
        return count is not None and count == len(self.seen)


@dataclass
class ReadPage:
    """A page of one read. The last page of an unverified read (not the pass's last) resumes at page 1,
    so the engine reads on; `verified` is set on a read's last page only."""

    page: cargobase.InvoiceListPage
    restart: dict[str, Any] | None = None
    verified: bool | None = None
    records: list[Any] = field(init=False)

    def __post_init__(self) -> None:
        self.records = self.page.records

    @property
    def response(self) -> Any:
        return self.page.response

    def checkpoint(self) -> dict[str, Any] | None:
        return self.page.checkpoint() if self.page.next is not None else self.restart


def verified_reads(page_size: int = cargobase.DEFAULT_PAGE_SIZE, reads: int = READS) -> Fetch:
    """The invoice list, read again from page 1 until one read is verified (see the module docstring)."""
    first = cargobase.first_page(page_size).checkpoint()

    def fetch(client: Any, state: SyncState) -> Iterator[ReadPage]:
        start = start_at(state)
        for number in range(1, reads + 1):
            read = _Read(whole=start is None or not cargobase.is_later_page(start))
            for page in cargobase.invoices(client, page_size=page_size, start=start):
                if not cargobase.is_later_page(page.request) and read.counts:
                    read = _Read(whole=True)  # the listing restarted at page 1 (a page had gone: 404)
                read.add(page)
                if page.next is not None:
                    yield ReadPage(page)
                    continue
                ok = read.verified()
                if not ok:
                    log.warning("Cargobase: the invoice list changed while read %d of %d was paged (counts %s, "
                                "%d distinct seen)%s", number, reads, sorted(read.counts, key=str), len(read.seen),
                                "; reading it again" if number < reads else "; nothing marked gone this pass")
                yield ReadPage(page, restart=None if ok or number == reads else first, verified=ok)
            if read.verified() or not read.counts:
                return
            start = None

    return fetch


def _cargobase_gone(db: Database, run_start: str) -> None:
    mark_gone(db, "cargobase_invoices", not_seen_since=run_start)


def declarations() -> tuple[SyncResource, ...]:
    # Finished invoices leave the list 24 h after their last change: run well within that window.
    return (
        SyncResource("cargobase", "invoices", "cargobase_invoices", ("shipment_reference", "provider_invoice_number"),
                     verified_reads(), mappers.cargobase_invoice, insert_only=("first_seen_at",),
                     stamp=("first_seen_at", "last_seen_at"), after_full_pass=_cargobase_gone),
    )
