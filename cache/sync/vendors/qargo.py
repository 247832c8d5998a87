"""Qargo (seeds/000): no order list; orders arrive by webhook or upload, and per-order polls read
the orders the cache knows that can still change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlite_utils import Database

from cache.sync import mappers
from cache.sync.engine import Fetch, SyncResource, SyncState
from cache.sync.fetch import ListBatch, NeedsDb, drop_unseen, per_id
from services.qargo import resources as qargo

ORDER_BATCH = 50  # orders per batch (one checkpoint per batch) in the per-order polls

# Qargo statuses after which an order no longer changes for us. COMPLETED is not one: a completed
# order still moves to INVOICE_READY / INVOICED, which finance follows (charges, documents, POD).
QARGO_TERMINAL = frozenset({"CANCELLED", "REJECTED", "DONT_INVOICE", "INVOICED", "INVOICE_POSTED"})


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


def declarations() -> tuple[SyncResource, ...]:
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
