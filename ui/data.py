"""Cached loaders: every rerun reads SQLite through these, never a vendor.

Each loader call opens its own connection (`store.db.session`) and closes it: a sqlite3
connection must not be shared across Streamlit's session threads (store/db.py). Results are kept
by `st.cache_data` for `READ_TTL_S` seconds, keyed by the database path and the arguments, so a
test (or a settings change) pointing at another database never sees stale results.

Write a new loader with the decorator:

    @loader
    def customer_orders(db: Database, customer: str) -> Page: ...

    page = customer_orders("ACME")   # cached; the `db` argument is supplied by the decorator

Arguments and results must be picklable (dataclasses, lists, pandas frames). Call `clear()`
after a write the user should see at once (ui.actions does).

The data loaders below are `versioned(...)` (ui/versioned.py) builders of figures/page_summaries.py instead
of the TTL: their results are stored figures (figures/stored.py, for every viewer and process), refreshed by
the worker after writes (or by the reader when no worker is live); `@loader` stays for views that depend on
the clock (freshness, rate budgets).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

import pandas as pd
import streamlit as st
from sqlite_utils import Database

from figures import freshness as fresh
from figures import kpis
from figures import page_summaries as ps
from jobs import jobs
from services.settings import get_settings
from store import health
from store.db import utcnow
from store.schema import session
from ui.versioned import versioned

READ_TTL_S = 30  # loaders of clock-dependent views (freshness "3 min ago"); data loaders are
# @versioned (ui/versioned.py): recomputed only when the tables they read were written
PAGE_SIZE = ps.PAGE_SIZE

P = ParamSpec("P")
T = TypeVar("T")


def db_path() -> str:
    return str(get_settings().opsdash_db)


def loader(fn: Callable[Concatenate[Database, P], T]) -> Callable[P, T]:
    """Turn `fn(db, *args)` into a cached `fn(*args)` reading the configured database."""

    def cached(path: str, *args: Any, **kwargs: Any) -> T:
        with session(path) as db:
            return fn(db, *args, **kwargs)

    # st.cache_data keys a function by module + qualname: give each loader its own.
    cached.__module__, cached.__qualname__ = fn.__module__, fn.__qualname__
    cached_fn = st.cache_data(ttl=READ_TTL_S, show_spinner=False)(cached)

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        return cached_fn(db_path(), *args, **kwargs)

    return call


def clear() -> None:
    """Drop every cached read (after a write, or between tests)."""
    st.cache_data.clear()


def now() -> datetime:
    """The current instant; datasets turn it into the business date (store/calendar.py)."""
    return utcnow()


# The summaries' builders live below the UI (figures/page_summaries.py), so the standalone worker rebuilds
# them without importing streamlit; here they are only cached per data version for the pages.
dataset_page = versioned(ps.dataset_page)


@loader
def dataset_freshness(db: Database, name: str) -> list[fresh.Freshness]:
    """Freshness of each source behind dataset `name` (not configured / never synced / ...)."""
    return fresh.dataset_freshness(db, name, now(), get_settings())


@loader
def all_freshness(db: Database) -> list[fresh.Freshness]:
    return fresh.freshness(db, now(), get_settings())


def job(job_id: int) -> jobs.Job | None:
    """Uncached on purpose: progress polling must see the worker's latest write."""
    with session(db_path()) as db:
        return jobs.get(db, job_id)


# --- Overview -----------------------------------------------------------------------------------

def overview_kpis(orders: Mapping[str, Any], invoices: Mapping[str, Any]) -> kpis.Overview:
    """`orders` filters the business orders (store/datasets.py BUSINESS_ORDERS), `invoices` both
    outstanding lists; receivables and payables come back apart. Four summaries, each rebuilt only when
    its own tables change: a carrier invoice's webhook does not recount the orders or the stock."""
    by_status, late, expected_late = order_kpis(orders)
    return kpis.Overview(by_status, late, money_kpis(invoices, "receivable"), money_kpis(invoices, "payable"),
                         stock_kpis(), tax_id_kpis(), sum(by_status.values()), expected_late)


def owed_to(invoices: Mapping[str, Any], payee: str) -> kpis.Outstanding:
    """What we owe "carriers" or "suppliers" (figures/kpis.py PAYEES): the payables figure over their sources."""
    return money_kpis(kpis.payee_filters(invoices, payee), "payable")


@loader
def vendor_freshness(db: Database) -> list[fresh.VendorFreshness]:
    """Each vendor's freshness in a few words (the Overview's "Is the data fresh?")."""
    return fresh.by_vendor(db, now(), get_settings())


order_kpis = versioned(ps.order_kpis)
money_kpis = versioned(ps.money_kpis)
stock_kpis = versioned(ps.stock_kpis)
tax_id_kpis = versioned(ps.tax_id_kpis)
orders_over_time = versioned(ps.orders_over_time)
outstanding_aging = versioned(ps.outstanding_aging)


def receivables_aging(invoices: Mapping[str, Any]) -> pd.DataFrame:
    return outstanding_aging(invoices, "receivable")


stock_below = versioned(ps.stock_below)


# --- Stock: reorder levels (ours) -----------------------------------------------------------------

reorder_levels = versioned(ps.reorder_levels)
lead_times = versioned(ps.lead_times)
warehouse_choices = versioned(ps.warehouse_choices)
warehouse_names = versioned(ps.warehouse_names)


# --- Sync & health ------------------------------------------------------------------------------

@loader
def webhook_outcomes(db: Database) -> list[dict[str, object]]:
    return health.webhook_outcomes(db, now())


@loader
def rate_budgets(db: Database) -> list[health.RateBudget]:
    return health.rate_budgets(db, now())


def jobs_in_flight(limit: int = 20) -> list[jobs.Job]:
    """Queued and running jobs, plus the latest finished ones; uncached (polled for progress)."""
    with session(db_path()) as db:
        return jobs.recent(db, limit=limit)
