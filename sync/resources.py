"""Every synced vendor resource, declared as data for the one loop in sync/engine.py.

Names are `figures.freshness.SOURCES`' (vendor, resource). Modes:
- Quaderno invoices and credits list newest first (`created_before`, seeds/001 lines 64-75): a run
  stops at the newest id stored; every `full_every` a full pass catches state changes (paid, late).
- Qasida filters by change time (`since`, seeds/003 line 196): a run asks from the server's time of
  the last successful run; warehouses (a handful) are read whole.
- Cargobase (seeds/004) has no change filter and drops finished invoices after 24 h: every run
  reads the whole list, stamps `last_seen_at`, and stamps `gone_from_vendor_at` on rows it no
  longer saw (kept as history), only after a read whose footer `count` held and matched what it saw
  (sync/vendors/cargobase.py: a list that shrank while paged is read again).
- Qargo has no order list: orders arrive by webhook or upload, and a status poll reads the orders
  the cache knows that are still moving (`qargo_orders`), as do charges and documents.

A declaration whose fetch reads the cache (`NeedsDb`) is bound to a connection by `resources_for`.
Every fetch resumes from `state.resume` (a `PageRequest` checkpoint, or `{"after": id}` for the
lists we walk ourselves).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from services.clients import PULL_VENDORS, make_clients
from services.settings import Settings
from sync.engine import SyncResource, with_fetch
from sync.fetch import NeedsDb
from sync.vendors import cargobase, qargo, qasida, quaderno

# Re-exported for callers that name them here.
QARGO_TERMINAL = qargo.QARGO_TERMINAL
moving_orders = qargo.moving_orders


# Order matters: customers before liabilities (names), resources before unavailabilities, and
# every Qargo per-order poll reads the orders the cache knows.
RESOURCES: tuple[SyncResource, ...] = (
    *quaderno.declarations(), *qasida.declarations(), *cargobase.declarations(), *qargo.declarations(),
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
