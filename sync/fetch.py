"""Fetch helpers shared by the vendor declarations in sync/vendors/: paging resumed at a
checkpoint, cursor restarts, per-id polls, batches we build ourselves."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from services.core import NotFoundError, PageRequest, ValidationError
from services.qasida.resources import PagingExpired
from store.changes import note_write
from store.db import transaction
from sync.engine import Batch, Fetch, SyncState

log = logging.getLogger("opsdash.sync")


@dataclass
class ListBatch:
    """A batch we build ourselves (per-order and per-resource polls): records and where to resume."""

    records: list[Any]
    next: dict[str, Any] | None

    def checkpoint(self) -> dict[str, Any] | None:
        return self.next


@dataclass(frozen=True)
class NeedsDb:
    """A fetch that reads the cache (which orders to poll): bound by `resources_for(db, ...)`."""

    factory: Callable[[Database], Fetch]

    def __call__(self, client: Any, state: SyncState) -> Iterable[Batch]:
        raise RuntimeError("this resource reads the cache: take it from resources_for(db, vendors)")


def start_at(state: SyncState) -> PageRequest | None:
    return PageRequest.from_checkpoint(state.resume) if state.resume else None


def since_of(state: SyncState) -> datetime | None:
    if state.full or not state.since:
        return None
    return datetime.fromisoformat(state.since)


def expired_cursor(exc: ValidationError) -> bool:
    """A page cursor the vendor no longer serves: Qasida's expired paging context (400), Quaderno's
    `created_before` it cannot page from (422, its "cannot process" code, seeds/001 line 107)."""
    return isinstance(exc, PagingExpired) or (exc.status == 422 and "created_before" in str(exc.body or ""))


def restarting(pages: Callable[[PageRequest | None], Iterator[Any]], start: PageRequest | None) -> Iterator[Any]:
    """`pages(start)`; when the vendor expires the cursor, the listing restarts once from the first
    page (records repeat: upserts are idempotent). Qargo and Cargobase resources do this themselves."""
    try:
        yield from pages(start)
        return
    except ValidationError as exc:
        if not expired_cursor(exc):
            raise
        log.warning("sync: %s expired a page cursor; restarting the listing from the first page", exc.vendor)
    yield from pages(None)


def paged(pages: Callable[..., Iterator[Any]], **fixed: Any) -> Fetch:
    """A vendor resource function yielding `Page`s, resumed at the checkpoint."""
    def fetch(client: Any, state: SyncState) -> Iterator[Any]:
        return restarting(lambda start: pages(client, start=start, **fixed), start_at(state))
    return fetch


def paged_since(pages: Callable[..., Iterator[Any]]) -> Fetch:
    """As `paged`, asking only for what changed since the last run unless this run is full.
    A resumed page carries its `since` in its own parameters."""
    def fetch(client: Any, state: SyncState) -> Iterator[Any]:
        since = since_of(state)
        return restarting(lambda start: pages(client, since=since, start=start), start_at(state))
    return fetch


def chunks(ids: list[str], state: SyncState, size: int) -> Iterator[tuple[list[str], dict[str, Any] | None]]:
    """Ids after the resume point, in chunks, each with the checkpoint after it (None for the last)."""
    after = (state.resume or {}).get("after")
    todo = [i for i in ids if after is None or i > after]
    for start in range(0, len(todo), size):
        chunk = todo[start:start + size]
        yield chunk, ({"after": chunk[-1]} if start + size < len(todo) else None)


def per_id(ids: Callable[[Database], list[str]], one: Callable[[Any, str], list[Any]], size: int) -> NeedsDb:
    """Call `one(client, id)` for every id the cache lists, `size` ids per batch. An id the vendor
    no longer knows (404) is skipped: one deleted order must not stop the others."""
    def factory(db: Database) -> Fetch:
        def fetch(client: Any, state: SyncState) -> Iterator[ListBatch]:
            for chunk, following in chunks(sorted(ids(db)), state, size):
                yield ListBatch([r for i in chunk for r in one_or_none(one, client, i)], following)
        return fetch
    return NeedsDb(factory)


def one_or_none(one: Callable[[Any, str], list[Any]], client: Any, key: str) -> list[Any]:
    try:
        return one(client, key)
    except NotFoundError:
        log.warning("sync: %s no longer knows %s; skipped", getattr(client, "name", "the vendor"), key)
        return []


def drop_unseen(table: str) -> Callable[[Database, str], None]:
    """After a full pass of a mirror (no history kept): delete rows the pass did not return."""
    def after(db: Database, run_start: str) -> None:
        with transaction(db):
            db.execute(f"DELETE FROM {table} WHERE synced_at < ?", [run_start])  # table: a literal below
            note_write(db, table)
    return after


@dataclass
class ListPage:
    """A vendor page whose records were wrapped: keeps the page's checkpoint and response (its Date)."""

    records: list[Any]
    page: Any

    @property
    def response(self) -> Any:
        return self.page.response

    def checkpoint(self) -> dict[str, Any] | None:
        return self.page.checkpoint()
