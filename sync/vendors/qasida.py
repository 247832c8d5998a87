"""Qasida ERP (seeds/003).

Claims (what a customer owes us, seeds/003 lines 150-173) and liabilities (what we owe, lines 3124-3147)
are read per customer, as the document has them: `customerId` required, open items only (`allClaims` /
`allLiabilities` false), no `since` or date filter (seeds/003 lines 150-155, 3124-3129): a new item or a
settled one shows only in the customer's list, so EVERY customer is re-read. Customers come from
`qasida_customers` (synced before).

How many customers a run (every `RUN_EVERY`, 5 minutes) reads is Quaderno's open-set rule, shared
(sync/recheck.py `Recheck`): every customer's list is read within `CHECK_WITHIN` (3 hours), `SPREAD` 1.25
times per bound, oldest-checked first (a read cut short first, then never checked), or every customer that would
pass the bound before the next run; a customer read less than `MIN_AGE` ago is not re-read, so a run right after
a full read costs nothing. Requests per run per list: at most `client.open_items_budget`
(QASIDA_OPEN_ITEMS_BUDGET) and at most `RUN_CALLS`, this list's half of `BUDGET_SHARE` (5 %) of the hourly
budget. The document gives no rate limit; the hourly budget is our client's courtesy ceiling (20 requests per
second, services/qasida/client.py: 72,000 an hour; docs/vendor-readings.md). At 4,000 customers (the large
sandbox x2) that is 139 customers per list per run, 3,333 requests an hour (4.6 %); above ~4,300 customers
`RUN_CALLS` binds and the bound stretches (bench/bench_resync.py prints the oldest check). Progress is kept per
customer in
`qasida_open_item_checks`: a read cut short by the budget (or a failure) resumes at its next page. Once a
customer's open list has been read completely, every stored item of that customer that was not in it is
settled: `settled_at` is set and the row kept as history (an item that reappears is open again).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlite_utils import Database

from services.core import NotFoundError, PageRequest, ValidationError
from services.qasida import resources as qasida
from services.qasida.client import RATE
from services.qasida.models import OpenItem
from store.changes import note_write
from store.db import iso, transaction, utcnow
from store.rawstore import pack_rows
from sync import mappers
from sync.engine import Fetch, SyncResource, SyncState
from sync.fetch import ListBatch, NeedsDb, expired_cursor, paged, paged_since
from sync.recheck import Recheck

log = logging.getLogger("opsdash.sync")

DEFAULT_OPEN_ITEMS_BUDGET = 250  # services.settings.Settings.qasida_open_items_budget
OPEN_ITEM_TABLES = {"claims": "qasida_claims", "liabilities": "qasida_liabilities"}
_LISTS: dict[str, Callable[..., Iterator[Any]]] = {"claims": qasida.claims, "liabilities": qasida.liabilities}
RUN_EVERY = timedelta(minutes=5)  # the claims' and the liabilities' sync interval
CHECK_WITHIN = timedelta(hours=3)  # every customer's open list is read again within this
SPREAD = 1.25  # read each customer 1.25 times per CHECK_WITHIN: a late run still keeps the bound
MIN_AGE = timedelta(minutes=5)  # read this recently: not read again
BUDGET_SHARE = 0.05  # of the hourly budget, at most, for both lists together
HOURLY_CALLS = int(RATE * 3600)  # no documented limit: our client's courtesy ceiling, 72,000 an hour
RUN_CALLS = int(HOURLY_CALLS * BUDGET_SHARE / len(OPEN_ITEM_TABLES) * (RUN_EVERY / timedelta(hours=1)))  # 150
RULE = Recheck(RUN_EVERY, CHECK_WITHIN, SPREAD, MIN_AGE, cap=RUN_CALLS)


# --- per-customer open items ---------------------------------------------------------------------


def customers_to_check(db: Database, kind: str, now: datetime) -> list[tuple[str, dict[str, Any] | None, list[str]]]:
    """(customer id, page to resume at, invoice ids seen so far) this run reads, in order: a cut-short read
    first, then never checked, then oldest checked; only those checked at least MIN_AGE ago, and only as many
    as the shared rule gives this run (module docstring)."""
    rows = db.execute(
        """SELECT c.customer_id, k.resume, k.seen, k.checked_at FROM qasida_customers c
           LEFT JOIN qasida_open_item_checks k ON k.kind = ? AND k.customer_id = c.customer_id
           ORDER BY k.resume IS NULL, k.checked_at IS NOT NULL, k.checked_at,
                    length(c.customer_id), c.customer_id""",
        [kind],
    ).fetchall()
    cutoff = RULE.fresh_cutoff(now)
    due = [r for r in rows if r[1] or r[3] is None or r[3] <= cutoff]
    wanted = RULE.per_run(len(rows), RULE.overdue((r[3] for r in rows), now))
    return [(cid, json.loads(resume) if resume else None, json.loads(seen) if resume and seen else [])
            for cid, resume, seen, _ in due[:wanted]]


def _save_progress(db: Database, kind: str, customer: str, resume: dict[str, Any] | None, seen: list[str]) -> None:
    with transaction(db):
        note_write(db, "qasida_open_item_checks")
        db.execute(
            """INSERT INTO qasida_open_item_checks (kind, customer_id, resume, seen) VALUES (?, ?, ?, ?)
               ON CONFLICT (kind, customer_id) DO UPDATE SET resume = excluded.resume, seen = excluded.seen""",
            [kind, customer, json.dumps(resume) if resume else None, json.dumps(seen)],
        )


def settle_unseen(db: Database, kind: str, customer: str, seen: list[str], now: str) -> int:
    """After a complete read of `customer`'s open list: items no longer in it are settled. Returns how many."""
    table = OPEN_ITEM_TABLES[kind]  # a literal from the dict above, never input
    with transaction(db):
        note_write(db, table, "qasida_open_item_checks")
        cursor = db.execute(
            f"""UPDATE {table} SET settled_at = ? WHERE customer_id = ? AND settled_at IS NULL
                AND invoice_id NOT IN (SELECT value FROM json_each(?))""",
            [now, customer, json.dumps(seen)],
        )
        db.execute(
            """INSERT INTO qasida_open_item_checks (kind, customer_id, checked_at, resume, seen)
               VALUES (?, ?, ?, NULL, '[]') ON CONFLICT (kind, customer_id) DO UPDATE
               SET checked_at = excluded.checked_at, resume = NULL, seen = '[]'""",
            [kind, customer, now],
        )
    return cursor.rowcount


def _readable(kind: str, customer: str, records: list[OpenItem]) -> list[mappers.Owned]:
    """Rows the mapper can store; a row without id, amount or currency is skipped with a warning
    (one bad row must not stop the other customers), but its id still counts as seen."""
    good = []
    for record in records:
        if record.key is None or record.remains_to_be_paid is None or not record.currency:
            log.warning("sync: Qasida %s of customer %s: skipped a row without invoiceId, remainsToBePaid or "
                        "currency (document %r)", kind, customer, record.document_number)
            continue
        good.append(mappers.Owned(customer, record, kind))
    return good


def _pages(client: Any, kind: str, customer: str, start: dict[str, Any] | None) -> Iterator[Any]:
    """The customer's pages from `start`; an expired paging context restarts the list once from page 1."""
    read = _LISTS[kind]
    try:
        yield from read(client, customer, start=PageRequest.from_checkpoint(start) if start else None)
        return
    except ValidationError as exc:
        if not expired_cursor(exc):
            raise
    yield from read(client, customer)


def open_item_batches(db: Database, client: Any, kind: str, clock: Callable[[], datetime] = utcnow,
                      ) -> Iterator[ListBatch]:
    """One batch per page read. The engine stores a batch before this generator resumes, so a customer's
    items are settled (or its progress saved) only once its page is in the cache; the run ends when this
    run's customers or its requests (the setting, at most RUN_CALLS) run out."""
    left = min(int(getattr(client, "open_items_budget", DEFAULT_OPEN_ITEMS_BUDGET)), RUN_CALLS)
    for customer, resume, seen in customers_to_check(db, kind, clock()):
        if left <= 0:
            return
        try:
            for page in _pages(client, kind, customer, resume):
                left -= 1
                seen = [*seen, *(r.key for r in page.records if r.key is not None)]
                yield ListBatch(_readable(kind, customer, page.records), {"customer": customer})
                if page.next is None:
                    settle_unseen(db, kind, customer, seen, iso(clock()))
                    break
                _save_progress(db, kind, customer, page.next.checkpoint(), seen)
                if left <= 0:
                    return
        except (NotFoundError, ValidationError) as exc:  # this customer's list only: go on with the others
            left -= 1
            log.warning("sync: Qasida refused the %s of customer %s (%s); skipped until its next turn",
                        kind, customer, exc)
            _mark_skipped(db, kind, customer, iso(clock()))


def _mark_skipped(db: Database, kind: str, customer: str, now: str) -> None:
    """Its turn is over (it goes to the back of the rotation), nothing is settled."""
    with transaction(db):
        note_write(db, "qasida_open_item_checks")
        db.execute(
            """INSERT INTO qasida_open_item_checks (kind, customer_id, checked_at) VALUES (?, ?, ?)
               ON CONFLICT (kind, customer_id) DO UPDATE SET checked_at = excluded.checked_at, resume = NULL,
               seen = '[]'""",
            [kind, customer, now],
        )


def open_items_fetch(db: Database, kind: str, clock: Callable[[], datetime] = utcnow) -> Fetch:
    def fetch(client: Any, state: SyncState) -> Iterator[ListBatch]:
        return open_item_batches(db, client, kind, clock)
    return fetch


def _open_items(kind: str) -> NeedsDb:
    return NeedsDb(partial(open_items_fetch, kind=kind))


# --- customer orders and their lines --------------------------------------------------------------


def _products(db: Database) -> dict[str, tuple[str | None, str | None]]:
    return {pid: (code, unit) for pid, code, unit in db.execute("SELECT product_id, code, unit FROM qasida_products")}


def store_order_lines(db: Database, orders: list[Any], products: dict[str, tuple[str | None, str | None]]) -> None:
    """Replace the lines of `orders` (a changed order may have lost or reordered items)."""
    now = iso(utcnow())
    rows = [{**row, "synced_at": now} for o in orders for row in mappers.qasida_order_lines(o, products)]
    with transaction(db):
        rows = pack_rows(db, "qasida_customer_order_lines", rows)  # raw JSON compressed (store/rawstore.py)
        note_write(db, "qasida_customer_order_lines")
        db.conn.executemany("DELETE FROM qasida_customer_order_lines WHERE order_id = ?", [[str(o.id)] for o in orders])
        db.conn.executemany(
            """INSERT INTO qasida_customer_order_lines (order_id, line_no, product_id, product_code, quantity,
               unit, raw, synced_at) VALUES (:order_id, :line_no, :product_id, :product_code, :quantity, :unit,
               :raw, :synced_at)""",
            rows,
        )


def orders_with_lines(db: Database, page_size: int = qasida.DEFAULT_PAGE_SIZE) -> Fetch:
    """Customer orders; each page's lines (`customerOrderItems`) are written before the page is yielded."""
    plain = paged_since(partial(qasida.customer_orders, page_size=page_size))

    def fetch(client: Any, state: SyncState) -> Iterator[Any]:
        products = _products(db)
        for page in plain(client, state):
            store_order_lines(db, page.records, products)
            yield page
    return fetch


def fulfilled_unless_listed(db: Database, run_start: str) -> None:
    """After a complete read of the not-fulfilled customer orders (`onlyNotFulfilled=true`, seeds/003 line
    1196): every stored order that read did not list is fulfilled (`not_fulfilled` 0). The document gives no
    field or status value meaning "fulfilled"/"shipped"; its own filter is the one reading (issue 18 point 11)."""
    with transaction(db):
        note_write(db, "qasida_customer_orders")
        db.execute("UPDATE qasida_customer_orders SET not_fulfilled = 0 WHERE coalesce(not_fulfilled, 1) != 0 "
                   "AND (not_fulfilled_seen_at IS NULL OR not_fulfilled_seen_at < ?)", [run_start])


def declarations() -> tuple[SyncResource, ...]:
    daily, open_items_every = timedelta(hours=24), RUN_EVERY
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
                     NeedsDb(orders_with_lines), mappers.qasida_customer_order, mode="since", full_every=daily),
        # Which of them are not fulfilled yet (ERP lateness, store/datasets.py): the vendor's own filter, whole.
        SyncResource("qasida", "not_fulfilled_orders", "qasida_customer_orders", "order_id",
                     paged(qasida.customer_orders, only_not_fulfilled=True), mappers.qasida_not_fulfilled_order,
                     stamp=("not_fulfilled_seen_at",), after_full_pass=fulfilled_unless_listed),
        # Per customer, every customer within CHECK_WITHIN at <= 5 % of the hourly budget (module docstring);
        # after customers, which they read. Every 5 minutes: a run reads at most RUN_CALLS (150) per list.
        SyncResource("qasida", "claims", "qasida_claims", "invoice_id", _open_items("claims"),
                     mappers.qasida_open_item, interval=open_items_every),
        SyncResource("qasida", "liabilities", "qasida_liabilities", "invoice_id", _open_items("liabilities"),
                     mappers.qasida_open_item, interval=open_items_every),
    )
