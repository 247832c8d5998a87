"""Every synced vendor resource, declared as data for the one loop in cache/sync/engine.py.

Names are `cache.freshness.SOURCES`' (vendor, resource). Modes:
- Quaderno invoices and credits list newest first (`created_before`, seeds/001 lines 64-75): a run
  stops at the newest id stored; every `full_every` a full pass catches state changes (paid, late).
- Qasida filters by change time (`since`, seeds/003 line 196): a run asks from the server's time of
  the last successful run; warehouses (a handful) are read whole.
- Cargobase (seeds/004) has no change filter and drops finished invoices after 24 h: every run
  reads the whole list, stamps `last_seen_at`, and stamps `gone_from_vendor_at` on rows it no
  longer saw (kept as history).
- Qargo has no order list: orders arrive by webhook or upload, and a status poll reads the orders
  the cache knows that are still moving (`qargo_orders`), as do charges and documents.

A declaration whose fetch reads the cache (`NeedsDb`) is bound to a connection by `resources_for`.
Every fetch resumes from `state.resume` (a `PageRequest` checkpoint, or `{"after": id}` for the
lists we walk ourselves).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from cache.db import transaction
from cache.store import mark_gone
from cache.sync import mappers
from cache.sync.engine import Batch, Fetch, SyncResource, SyncState, with_fetch
from services.cargobase import resources as cargobase
from services.clients import PULL_VENDORS, make_clients
from services.core import NotFoundError, PageRequest, ValidationError
from services.qargo import resources as qargo
from services.qasida import resources as qasida
from services.qasida.resources import PagingExpired
from services.quaderno import resources as quaderno
from services.settings import Settings

log = logging.getLogger("opsdash.sync")

ORDER_BATCH = 50  # orders per batch (one checkpoint per batch) in the Qargo per-order polls

# Qargo statuses after which an order no longer changes for us. COMPLETED is not one: a completed
# order still moves to INVOICE_READY / INVOICED, which finance follows (charges, documents, POD).
QARGO_TERMINAL = frozenset({"CANCELLED", "REJECTED", "DONT_INVOICE", "INVOICED", "INVOICE_POSTED"})


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


# --- fetch helpers -------------------------------------------------------------------------------


def _start(state: SyncState) -> PageRequest | None:
    return PageRequest.from_checkpoint(state.resume) if state.resume else None


def _since(state: SyncState) -> datetime | None:
    if state.full or not state.since:
        return None
    return datetime.fromisoformat(state.since)


def _expired_cursor(exc: ValidationError) -> bool:
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
        if not _expired_cursor(exc):
            raise
        log.warning("sync: %s expired a page cursor; restarting the listing from the first page", exc.vendor)
    yield from pages(None)


def paged(pages: Callable[..., Iterator[Any]], **fixed: Any) -> Fetch:
    """A vendor resource function yielding `Page`s, resumed at the checkpoint."""
    def fetch(client: Any, state: SyncState) -> Iterator[Any]:
        return restarting(lambda start: pages(client, start=start, **fixed), _start(state))
    return fetch


def paged_since(pages: Callable[..., Iterator[Any]]) -> Fetch:
    """As `paged`, asking only for what changed since the last run unless this run is full.
    A resumed page carries its `since` in its own parameters."""
    def fetch(client: Any, state: SyncState) -> Iterator[Any]:
        since = _since(state)
        return restarting(lambda start: pages(client, since=since, start=start), _start(state))
    return fetch


def _chunks(ids: list[str], state: SyncState, size: int) -> Iterator[tuple[list[str], dict[str, Any] | None]]:
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
            for chunk, following in _chunks(sorted(ids(db)), state, size):
                yield ListBatch([r for i in chunk for r in _one_or_none(one, client, i)], following)
        return fetch
    return NeedsDb(factory)


def _one_or_none(one: Callable[[Any, str], list[Any]], client: Any, key: str) -> list[Any]:
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
    return after


# --- Qargo (seeds/000) ---------------------------------------------------------------------------


def moving_orders(db: Database) -> list[str]:
    marks = ", ".join("?" for _ in QARGO_TERMINAL)
    sql = f"SELECT order_id FROM qargo_orders WHERE upper(coalesce(status, '')) NOT IN ({marks})"
    return [row[0] for row in db.execute(sql, sorted(QARGO_TERMINAL)).fetchall()]


def _resources(db: Database) -> list[str]:
    return [row[0] for row in db.execute("SELECT resource_id FROM qargo_resources").fetchall()]


def _resource_type(db: Database) -> dict[str, str]:
    return dict(db.execute("SELECT resource_id, resource_type FROM qargo_resources").fetchall())


def _order_status(client: Any, order_id: str) -> list[Any]:
    return [qargo.order_status(client, order_id)]


def _charges(client: Any, order_id: str) -> list[Any]:
    return [mappers.Owned(order_id, c) for c in qargo.order_charges(client, order_id)]


def _documents(client: Any, order_id: str) -> list[Any]:
    return [mappers.Owned(order_id, d) for d in qargo.order_documents(client, order_id)]


def _unavailabilities(db: Database) -> Fetch:
    kinds = _resource_type(db)

    def one(client: Any, resource_id: str) -> list[Any]:
        owner = kinds.get(resource_id)
        return [mappers.Owned(resource_id, u, owner) for u in qargo.unavailabilities(client, resource_id)]
    return per_id(_resources, one, ORDER_BATCH).factory(db)


def _qargo_resources(client: Any, state: SyncState) -> Iterator[Any]:
    return qargo.resources(client, start=state.resume)  # restarts by itself on an expired cursor


def _sync_tasks(client: Any, state: SyncState) -> Iterator[ListBatch]:
    # One answer without paging (the spec's AvailableTasks): one batch, nothing to resume.
    yield ListBatch(list(qargo.sync_tasks(client)), None)


def _qargo_declarations() -> tuple[SyncResource, ...]:
    hourly = timedelta(hours=1)
    return (
        SyncResource("qargo", "orders", "qargo_orders", "order_id",
                     per_id(moving_orders, _order_status, ORDER_BATCH), mappers.qargo_order),
        SyncResource("qargo", "charges", "qargo_charges", "charge_id",
                     per_id(moving_orders, _charges, ORDER_BATCH), mappers.qargo_charge, interval=hourly),
        SyncResource("qargo", "documents", "qargo_documents", "document_id",
                     per_id(moving_orders, _documents, ORDER_BATCH), mappers.qargo_document, interval=hourly),
        SyncResource("qargo", "resources", "qargo_resources", "resource_id", _qargo_resources,
                     mappers.qargo_resource, interval=hourly, after_full_pass=drop_unseen("qargo_resources")),
        SyncResource("qargo", "unavailabilities", "qargo_unavailabilities", "unavailability_id",
                     NeedsDb(_unavailabilities), mappers.qargo_unavailability, interval=hourly,
                     after_full_pass=drop_unseen("qargo_unavailabilities")),
        SyncResource("qargo", "sync_tasks", "qargo_sync_tasks", "task_id", _sync_tasks, mappers.qargo_sync_task,
                     interval=hourly, after_full_pass=drop_unseen("qargo_sync_tasks")),
    )


# --- Quaderno (seeds/001), Qasida (seeds/003), Cargobase (seeds/004) -------------------------------


def _document_id(record: Any) -> str:
    return str(record.id)


def _quaderno_declarations() -> tuple[SyncResource, ...]:
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


def _customer_names(db: Database) -> dict[str, str]:
    return dict(db.execute("SELECT customer_id, name FROM qasida_customers").fetchall())


def _liabilities(db: Database) -> Fetch:
    """Liabilities name only the customer id: the name comes from the customers synced before."""
    plain = paged_since(qasida.liabilities)

    def fetch(client: Any, state: SyncState) -> Iterator[Any]:
        names = _customer_names(db)
        for page in plain(client, state):
            named = [mappers.Named(r, names.get(str(r.customer_id))) for r in page.records]
            yield ListPage(named, page)
    return fetch


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


def _qasida_declarations() -> tuple[SyncResource, ...]:
    daily = timedelta(hours=24)
    return (
        SyncResource("qasida", "warehouses", "qasida_warehouses", "warehouse_id", paged(qasida.warehouses),
                     mappers.qasida_warehouse, interval=daily),
        SyncResource("qasida", "products", "qasida_products", "product_id", paged_since(qasida.products),
                     mappers.qasida_product, mode="since", interval=timedelta(hours=1), full_every=daily),
        SyncResource("qasida", "customers", "qasida_customers", "customer_id", paged_since(qasida.customers),
                     mappers.qasida_customer, mode="since", interval=timedelta(hours=1), full_every=daily),
        SyncResource("qasida", "stock_cards", "qasida_stock_cards", "stock_card_id",
                     paged_since(qasida.stock_cards), mappers.qasida_stock_card, mode="since", full_every=daily),
        SyncResource("qasida", "customer_orders", "qasida_customer_orders", "order_id",
                     paged_since(qasida.customer_orders), mappers.qasida_customer_order, mode="since",
                     full_every=daily),
        # Settled liabilities stay listed with 0 to pay, so `since` sees payments; days_delayed grows
        # daily without a change stamp, hence a daily full pass.
        SyncResource("qasida", "liabilities", "qasida_liabilities", "liability_id", NeedsDb(_liabilities),
                     mappers.qasida_liability, mode="since", interval=timedelta(hours=1), full_every=daily),
    )


def _cargobase_gone(db: Database, run_start: str) -> None:
    mark_gone(db, "cargobase_invoices", not_seen_since=run_start)


def _cargobase_declarations() -> tuple[SyncResource, ...]:
    # Finished invoices leave the list 24 h after their last change: run well within that window.
    return (
        SyncResource("cargobase", "invoices", "cargobase_invoices", ("shipment_reference", "provider_invoice_number"),
                     paged(cargobase.invoices), mappers.cargobase_invoice, insert_only=("first_seen_at",),
                     stamp=("first_seen_at", "last_seen_at"), after_full_pass=_cargobase_gone),
    )


# Order matters: customers before liabilities (names), resources before unavailabilities, and
# every Qargo per-order poll reads the orders the cache knows.
RESOURCES: tuple[SyncResource, ...] = (
    *_quaderno_declarations(), *_qasida_declarations(), *_cargobase_declarations(), *_qargo_declarations(),
)


def resources_for(db: Database, vendors: Iterable[str] | None = None) -> tuple[SyncResource, ...]:
    """The declarations of `vendors` (all when None), in order, with cache-reading fetches bound to `db`."""
    wanted = set(vendors) if vendors is not None else None
    return tuple(_bound(r, db) for r in RESOURCES if wanted is None or r.vendor in wanted)


def _bound(res: SyncResource, db: Database) -> SyncResource:
    return with_fetch(res, res.fetch.factory(db)) if isinstance(res.fetch, NeedsDb) else res


def clients_for(settings: Settings, vendors: Iterable[str] | None = None) -> dict[str, Any]:
    """A client per configured vendor among `vendors` (all when None); close them when done.
    A vendor without a base URL is left out: "not configured" is not a failure."""
    return make_clients(settings, PULL_VENDORS if vendors is None else vendors)
