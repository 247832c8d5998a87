"""Qasida ERP (seeds/003)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlite_utils import Database

from cache.sync import mappers
from cache.sync.engine import Fetch, SyncResource, SyncState
from cache.sync.fetch import ListPage, NeedsDb, paged, paged_since
from services.qasida import resources as qasida


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


def declarations() -> tuple[SyncResource, ...]:
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
