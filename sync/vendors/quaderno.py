"""Quaderno (seeds/001): lists newest first (`created_before`, lines 64-75); a run stops at the
newest id stored; a periodic full pass catches other changes.

The open set (`quaderno/open_invoices`, every 15 minutes) keeps "a paid invoice leaves outstanding
within one hour" at a small share of the 100 calls per 15 s (line 60). Each run re-reads a SLICE of the
stored open invoices with the documented `state` filter (line 1491): the slice starts at the open
invoice checked longest ago and runs down by id, sized so every open invoice is read about every
48 minutes (`CHECK_WITHIN` / `SPREAD`), or every one that would pass the hour before the next run, never
more than `BUDGET_SHARE` of the hourly budget per run. A row read less than `MIN_AGE` ago, or by a full pass
of `quaderno/invoices` that ended less than `MIN_AGE` ago, is not re-read: a run right after a full read
costs nothing.
When an invoice was last checked is its `synced_at`: every read of it, listed or by id, rewrites it.
A stored open invoice inside a slice that neither state lists any more is read by id; an answer of
410 Gone ("removed from our servers", line 103) or 404 (line 94) records it as removed at the vendor
(`removed_at`, an audit entry): it leaves outstanding (store/statuses.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from services.core import NotFoundError, ValidationError, VendorError
from services.quaderno import resources as quaderno
from services.quaderno.client import RATE_LIMIT_CALLS, RATE_LIMIT_WINDOW
from services.quaderno.models import Invoice
from store import audit
from store.db import iso, utcnow
from store.statuses import QUADERNO_OPEN_STATES, sql_list
from store.store import get_checkpoint
from sync import mappers
from sync.engine import Fetch, SyncResource, SyncState
from sync.fetch import ListBatch, NeedsDb, expired_cursor, paged
from sync.recheck import Recheck

log = logging.getLogger("opsdash.sync")

OPEN_PAGE_SIZE = 100  # the documented cap (seeds/001 line 73): fewest calls for the open set
RUN_EVERY = timedelta(minutes=15)  # the open set's sync interval
CHECK_WITHIN = timedelta(hours=1)  # a paid invoice leaves outstanding within this
SPREAD = 1.25  # read each open invoice 1.25 times per CHECK_WITHIN: a late run still keeps the hour
MIN_AGE = timedelta(minutes=5)  # read this recently (a full pass, the last slice): not read again
BUDGET_SHARE = 0.05  # of Quaderno's hourly calls, at most, per hour of open-set runs
HOURLY_CALLS = RATE_LIMIT_CALLS * 3600 / RATE_LIMIT_WINDOW  # our limiter's pace: 23,225 calls per hour
RUN_CALLS = int(HOURLY_CALLS * BUDGET_SHARE * RUN_EVERY / CHECK_WITHIN)  # 290 per 15-minute run
# A slice of N rows costs about N / 100 listing pages, plus a partial page per state and slice and a read by id
# per invoice that left the open set: the rows a run may take keep RUN_SLACK calls for those.
RUN_SLACK = 20
MAX_ROWS = (RUN_CALLS - RUN_SLACK) * OPEN_PAGE_SIZE  # 27,000 rows per run: 108,000 per hour
SYSTEM_ACTOR = "sync"
RULE = Recheck(RUN_EVERY, CHECK_WITHIN, SPREAD, MIN_AGE, cap=MAX_ROWS, floor=OPEN_PAGE_SIZE)


def _document_id(record: Any) -> str:
    return str(record.id)


@dataclass(frozen=True)
class Removed:
    """A stored invoice Quaderno answered 410 Gone or 404 Not Found for on a re-read."""

    id: int
    status: int
    row: dict[str, Any]  # the stored row, kept as it was
    at: str


def open_invoice_row(record: Invoice | Removed) -> mappers.Row:
    """The open set's rows: an invoice as read (no longer removed, if it was), or the stored row of one
    Quaderno removed, with `removed_at` set."""
    if isinstance(record, Removed):
        return {**record.row, "removed_at": record.at}
    return {**mappers.quaderno_invoice(record), "removed_at": None}


@dataclass(frozen=True)
class OpenRow:
    id: int
    state: str
    checked: str  # synced_at


def stored_open(db: Database) -> list[OpenRow]:
    """Invoices the cache holds as open and not removed (literal states from store.statuses)."""
    sql = (f"SELECT invoice_id, state, synced_at FROM quaderno_invoices WHERE state IN "
           f"{sql_list(QUADERNO_OPEN_STATES)} AND removed_at IS NULL")
    return [OpenRow(int(i), s, c) for i, s, c in db.execute(sql).fetchall() if str(i).isdigit()]


def rows_per_run(open_count: int, overdue: int = 0) -> int:
    """Open invoices one run re-reads: its share of the hour, or every one due to pass the hour before the
    next run (`overdue`) if more, at least one page, at most the budget (sync/recheck.py: the shared rule)."""
    return RULE.per_run(open_count, overdue)


def overdue(rows: list[OpenRow], now: datetime) -> int:
    """Rows that would be older than CHECK_WITHIN at the next run if this one skipped them."""
    return RULE.overdue((r.checked for r in rows), now)


def fresh_after(db: Database, now: datetime) -> str:
    """Rows checked after this time are not re-read: MIN_AGE ago, or, when a full pass of
    `quaderno/invoices` finished less than MIN_AGE ago, before that pass started (the engine stamps its
    rows with the pass's start, and a large pass lasts minutes): never right after a full read."""
    cutoff = RULE.fresh_cutoff(now)
    stored = get_checkpoint(db, "quaderno", "invoices")
    started = json.loads(stored["cursor"]).get("last_full") if stored and stored["cursor"] else None
    if not started:
        return cutoff
    found = db.execute("SELECT max(finished_at) FROM sync_runs WHERE vendor = 'quaderno' AND resource = 'invoices' "
                       "AND started_at = ? AND status = 'ok'", [started]).fetchone()
    if found and found[0] and found[0] >= cutoff:
        return min(cutoff, iso(datetime.fromisoformat(started) - timedelta(microseconds=1000)))
    return cutoff


def slices(rows: list[OpenRow], cutoff: str, wanted: int) -> list[tuple[int, int]]:
    """Id ranges (low, high), oldest-checked first: each starts at the row read longest ago (and at or before
    `cutoff`) and takes the open rows below it by id, until `wanted` rows are covered."""
    by_id = sorted(rows, key=lambda r: -r.id)
    position = {r.id: n for n, r in enumerate(by_id)}
    eligible = sorted((r for r in rows if r.checked <= cutoff), key=lambda r: (r.checked, -r.id))
    covered: set[int] = set()
    found: list[tuple[int, int]] = []
    for start in eligible:
        if wanted <= 0:
            break
        if start.id in covered:
            continue
        window = _window(by_id[position[start.id]:], covered, wanted)
        covered.update(r.id for r in window)
        found.append((window[-1].id, window[0].id))
        wanted -= len(window)
    return found


def _window(below: list[OpenRow], covered: set[int], wanted: int) -> list[OpenRow]:
    """Up to `wanted` rows from the top of `below`, stopping at one an earlier slice covers."""
    window: list[OpenRow] = []
    for row in below:
        if row.id in covered or len(window) == wanted:
            break
        window.append(row)
    return window


@dataclass
class _Run:
    """One run's reads: what the listings returned, and the calls spent."""

    db: Database
    client: Any
    rows: list[OpenRow]
    calls: int = 0
    seen: set[int] = field(default_factory=set)

    def listing(self, low: int, high: int, state: str) -> Iterator[list[Any]]:
        """Pages of `state` from `high` down; stops once a page reaches `low` (or the budget ends). A cursor
        Quaderno no longer pages from (422 naming created_before, seeds/001 lines 107-108: sync/fetch.py
        `expired_cursor`) restarts the listing once from its first page, as the invoice listing does; a
        second one fails the run as Quaderno's doing, never as bad input."""
        try:
            yield from self._pages(low, high + 1, state)
            return
        except ValidationError as exc:
            if not expired_cursor(exc):
                raise
            log.warning("sync: Quaderno expired a page cursor of the open %s invoices; restarting from the first "
                        "page", state)
        try:
            yield from self._pages(low, None, state)
        except ValidationError as exc:
            if not expired_cursor(exc):
                raise
            raise VendorError(f"Quaderno expired the page cursor of the open {state} invoices twice in a row "
                              "(HTTP 422 on created_before): nothing was concluded from the unread pages; the next "
                              "run reads them again", vendor=exc.vendor, status=exc.status) from exc

    def _pages(self, low: int, before: int | None, state: str) -> Iterator[list[Any]]:
        for page in quaderno.invoices(self.client, state=state, limit=OPEN_PAGE_SIZE, created_before=before):
            self.calls += 1
            self.seen.update(r.id for r in page.records)
            yield list(page.records)
            if not page.records or page.records[-1].id <= low or self.calls >= RUN_CALLS:
                return

    def slice(self, low: int, high: int) -> Iterator[list[Any]]:
        for state in sorted(QUADERNO_OPEN_STATES):
            if self.calls >= RUN_CALLS:
                return  # the slice is incomplete: nothing is concluded from what it did not list
            yield from self.listing(low, high, state)
        if self.calls >= RUN_CALLS:
            return
        missing = [r.id for r in self.rows if low <= r.id <= high and r.id not in self.seen]
        yield from self.by_id(missing)

    def by_id(self, ids: list[int]) -> Iterator[list[Any]]:
        """Each invoice read by id: its row says what it is now; 410/404 mark it removed."""
        found: list[Any] = []
        removed: list[Removed] = []
        for invoice_id in sorted(ids, reverse=True):
            if self.calls >= RUN_CALLS:
                break  # the rest keep their old check time: the oldest, a later run starts there
            self.calls += 1
            try:
                found.append(quaderno.get_invoice(self.client, invoice_id))
            except NotFoundError as exc:
                removed.append(Removed(invoice_id, exc.status or 404, self._stored(invoice_id), iso(utcnow())))
        if found:
            yield found
        if removed:
            yield removed  # its own batch: a removed row keeps every stored column
            self._audit(removed)

    def _stored(self, invoice_id: int) -> dict[str, Any]:
        cursor = self.db.execute("SELECT * FROM quaderno_invoices WHERE invoice_id = ?", [str(invoice_id)])
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))

    def _audit(self, removed: list[Removed]) -> None:
        for r in removed:
            words = "410 Gone" if r.status == 410 else f"{r.status} Not Found"
            audit.record(self.db, SYSTEM_ACTOR, "quaderno.invoice_removed",
                         f"invoice {r.row.get('number') or r.id}", {"invoice_id": r.id},
                         f"removed at Quaderno (re-read answered {words}); no longer outstanding",
                         f"GET /invoices/{r.id}")
            log.info("sync: Quaderno answered %s for invoice %s: recorded as removed", r.status, r.id)


def _batches(run: _Run, now: datetime) -> Iterator[list[Any]]:
    wanted = rows_per_run(len(run.rows), overdue(run.rows, now))
    for low, high in slices(run.rows, fresh_after(run.db, now), wanted):
        if run.calls >= RUN_CALLS:
            return
        yield from run.slice(low, high)


def _marked(batches: Iterator[list[Any]]) -> Iterator[ListBatch]:
    """The engine stops at a batch without a checkpoint: only the last one has none. A resumed run
    picks its slices again from the stored check times, so the checkpoint is only a marker."""
    previous: list[Any] | None = None
    step = 0
    for records in batches:
        if previous is not None:
            step += 1
            yield ListBatch(previous, {"step": step})
        previous = records
    yield ListBatch(previous or [], None)


def open_invoices_fetch(db: Database, clock: Any = utcnow) -> Fetch:
    def fetch(client: Any, state: SyncState) -> Iterator[ListBatch]:
        return _marked(_batches(_Run(db, client, stored_open(db)), clock()))
    return fetch


def _open_invoices(db: Database) -> Fetch:
    return open_invoices_fetch(db)


def declarations() -> tuple[SyncResource, ...]:
    hourly, daily = timedelta(hours=1), timedelta(hours=24)
    return (
        SyncResource("quaderno", "invoices", "quaderno_invoices", "invoice_id", paged(quaderno.invoices),
                     mappers.quaderno_invoice, mode="newest_first", record_id=_document_id),
        # Every run (15 min): a slice of the stored open invoices, oldest-checked first (module docstring).
        SyncResource("quaderno", "open_invoices", "quaderno_invoices", "invoice_id", NeedsDb(_open_invoices),
                     open_invoice_row, mode="full", interval=RUN_EVERY),
        SyncResource("quaderno", "credits", "quaderno_credits", "credit_id", paged(quaderno.credits),
                     mappers.quaderno_credit, mode="newest_first", interval=hourly, record_id=_document_id),
        # Newest first too (not a full read every run): 2,000 contacts are 20 of the 100 calls per
        # 15 s (seeds/001 line 60) each time; edits to older contacts arrive with the daily full pass.
        SyncResource("quaderno", "contacts", "quaderno_contacts", "contact_id", paged(quaderno.contacts),
                     mappers.quaderno_contact, mode="newest_first", interval=hourly, full_every=daily,
                     record_id=_document_id),
    )

