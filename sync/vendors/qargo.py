"""Qargo (seeds/000): no order list; orders arrive by webhook (the primary source of status) or
upload, and per-order polls read the orders the cache knows whose status can still change, the
longest unheard-of first, within `QARGO_POLL_SHARE` of the 2 requests/s budget."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from sqlite_utils import Database

from services.qargo import resources as qargo
from services.qargo.client import RATE_PER_SECOND
from services.settings import get_settings
from store.statuses import QARGO_FINAL, sql_list
from sync import mappers
from sync.engine import Fetch, SyncResource, SyncState
from sync.fetch import ListBatch, NeedsDb, drop_unseen, one_or_none, per_id

ORDER_BATCH = 50  # orders per batch (one checkpoint per batch) in the per-order polls
POLLS = 3  # per-order polls sharing the budget: status, charges, documents

# Polled only while the status can still change (store/statuses.py, from the OpenAPI's
# VisibilityOrderStatus): COMPLETED and INVOICED still move (finance: charges, invoicing, POD).
QARGO_TERMINAL = QARGO_FINAL  # the name callers used before store/statuses.py


def poll_budget(interval: timedelta, share: float | None = None) -> int:
    """Orders one per-order poll may read per run: its third of `QARGO_POLL_SHARE` of Qargo's
    2 requests/s (seeds/000 line 142) over the poll's interval. Webhooks are the primary source of
    status; polling is the fallback and must leave the rest of the budget to uploads and actions."""
    share = get_settings().qargo_poll_share if share is None else share
    return max(1, int(RATE_PER_SECOND * share * interval.total_seconds() / POLLS))


def moving_orders(db: Database, limit: int | None = None) -> list[str]:
    """Orders whose status can still change, the longest unheard-of first (the later of the last
    webhook event and the last poll; compared as times, since webhook versions carry microseconds and
    our stamps milliseconds), at most `limit`."""
    sql = (f"SELECT order_id FROM qargo_orders WHERE upper(coalesce(status, '')) NOT IN {sql_list(QARGO_FINAL)} "
           "ORDER BY max(coalesce(julianday(last_event_at), 0), coalesce(julianday(synced_at), 0)), order_id")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [row[0] for row in db.execute(sql).fetchall()]


def polled(one: Callable[[Any, str], list[Any]], interval: timedelta,
           finish: Callable[[Database, list[Any]], list[Any]] | None = None) -> NeedsDb:
    """`one(client, order_id)` for the moving orders, oldest-heard first, within the poll budget; `finish`
    completes a batch's records from the cache. A resumed run re-reads the list (polled orders moved to its
    end) and polls what is left of the budget."""
    def factory(db: Database) -> Fetch:
        def fetch(client: Any, state: SyncState) -> Iterator[ListBatch]:
            done = int((state.resume or {}).get("polled", 0))
            todo = moving_orders(db, max(0, poll_budget(interval) - done))
            for start in range(0, len(todo), ORDER_BATCH):
                chunk = todo[start:start + ORDER_BATCH]
                done += len(chunk)
                more = start + ORDER_BATCH < len(todo)
                records = [r for i in chunk for r in one_or_none(one, client, i)]
                yield ListBatch(finish(db, records) if finish else records, {"polled": done} if more else None)
        return fetch
    return NeedsDb(factory)


def _resources(db: Database) -> list[str]:
    return [row[0] for row in db.execute("SELECT resource_id FROM qargo_resources").fetchall()]


def _resource_type(db: Database, resource_id: str) -> str | None:
    row = db.execute("SELECT resource_type FROM qargo_resources WHERE resource_id = ?", [resource_id]).fetchone()
    return row[0] if row else None


def _order_status(client: Any, order_id: str) -> list[Any]:
    return [qargo.order_status(client, order_id)]


def _known_references(db: Database, orders: list[Any]) -> list[mappers.Polled]:
    """Each polled order with the reference the cache holds: the status endpoint's
    `customer_reference_number` is nullable, and a null must not erase the ERP number (issue 18 point 2)."""
    ids = [o.id for o in orders if not o.customer_reference_number]
    known = dict(db.execute("SELECT order_id, reference FROM qargo_orders WHERE order_id IN "
                            "(SELECT value FROM json_each(?))", [json.dumps(ids)]).fetchall()) if ids else {}
    return [mappers.Polled(o, known.get(o.id)) for o in orders]


def _charges(client: Any, order_id: str) -> list[Any]:
    return [mappers.Owned(order_id, c) for c in qargo.order_charges(client, order_id)]


def _documents(client: Any, order_id: str) -> list[Any]:
    return [mappers.Owned(order_id, d) for d in qargo.order_documents(client, order_id)]


def _unavailabilities(db: Database) -> Fetch:
    def one(client: Any, resource_id: str) -> list[Any]:
        # Read at fetch time, not when the resource list was bound: on the first sync the resources pass
        # (declared before this one) has only just stored the types (issue 22).
        owner = _resource_type(db, resource_id)
        return [mappers.Owned(resource_id, u, owner) for u in qargo.unavailabilities(client, resource_id)]
    return per_id(_resources, one, ORDER_BATCH).factory(db)


def _qargo_resources(client: Any, state: SyncState) -> Iterator[Any]:
    return qargo.resources(client, start=state.resume)  # restarts by itself on an expired cursor


def _sync_tasks(client: Any, state: SyncState) -> Iterator[ListBatch]:
    # One answer without paging (the spec's AvailableTasks): one batch, nothing to resume.
    yield ListBatch(list(qargo.sync_tasks(client)), None)


def declarations() -> tuple[SyncResource, ...]:
    hourly, every = timedelta(hours=1), timedelta(minutes=15)
    return (
        SyncResource("qargo", "orders", "qargo_orders", "order_id",
                     polled(_order_status, every, _known_references), mappers.qargo_polled_order, interval=every),
        SyncResource("qargo", "charges", "qargo_charges", "charge_id",
                     polled(_charges, hourly), mappers.qargo_charge, interval=hourly),
        SyncResource("qargo", "documents", "qargo_documents", "document_id",
                     polled(_documents, hourly), mappers.qargo_document, interval=hourly),
        SyncResource("qargo", "resources", "qargo_resources", "resource_id", _qargo_resources,
                     mappers.qargo_resource, interval=hourly, after_full_pass=drop_unseen("qargo_resources")),
        SyncResource("qargo", "unavailabilities", "qargo_unavailabilities", "unavailability_id",
                     NeedsDb(_unavailabilities), mappers.qargo_unavailability, interval=hourly,
                     after_full_pass=drop_unseen("qargo_unavailabilities")),
        SyncResource("qargo", "sync_tasks", "qargo_sync_tasks", "task_id", _sync_tasks, mappers.qargo_sync_task,
                     interval=hourly, after_full_pass=drop_unseen("qargo_sync_tasks")),
    )
