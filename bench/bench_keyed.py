"""After one write, what it costs to show the figures again and how long they lag it (issue 19, "one way to
keep a figure"): stored figures (figures/stored.py) against a recount of the rows, at 0.5x, 1x and 2x the large
data set.

    python bench/bench_keyed.py --db-dir /tmp/pages          # the databases bench_pages.py fills
    python bench/bench_keyed.py --db-dir /tmp/pages --factors 0.5 2 --repeats 7

For each factor: the figures the Invoices, Stock and Overview pages read (money per direction and currency,
aging, the 15 largest counterparties, stock per warehouse, orders per status and day, late orders, the pagers'
pages and counts) are stored once; then one write of each kind a webhook or a small sync makes (an invoice's
amount, a carrier invoice, a stock card, an ERP order's status), alone and then all together, noted as the
writers note them (store/changes.py), and
- read: the figures read while the worker is live (the stored ones, with their "as of"), what a viewer pays;
- refresh: the worker bringing the figures the write made out of date up to date (jobs/worker.py
  `refresh_figures`); a figure lags a write by at most max(REFRESH_EVERY_S, this) plus this (the staleness
  bound: a pass starts every REFRESH_EVERY_S, at once when the last one took longer);
- recount: the same figures from the rows, what a reader pays without a live worker;
medians in seconds, and the 2x / 0.5x ratio of each (target <= 1.3 for read: flat).
With --live: the lag itself, with a worker running (jobs/worker.py, its refresher thread): after a committed
write of each kind (a no-op update, noted: the rows stay as filled), the seconds until every stored figure that
read the table is current again (target <= 15 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlite_utils import Database

from figures import page_summaries as ps
from figures import stored
from jobs.worker import REFRESH_EVERY_S
from store.changes import note_write
from store.db import transaction
from store.schema import session

# (what writes it, the write): Quaderno invoices and stock cards only come from the worker's syncs, which fold
# right after the job; carrier invoices (Upwell) and orders also come from the webhook receiver, which does not.
WRITES = (
    ("invoice (sync)", "quaderno_invoices", ("UPDATE quaderno_invoices SET amount_due = amount_due + 1 WHERE rowid = "
                        "(SELECT rowid FROM quaderno_invoices WHERE amount_due > 0 LIMIT 1 OFFSET :n)")),
    ("carrier invoice (webhook)", "carrier_invoices",
     "UPDATE carrier_invoices SET balance = balance + 1 WHERE rowid = (SELECT rowid FROM carrier_invoices LIMIT 1 OFFSET :n)"),
    ("stock card (sync)", "qasida_stock_cards", ("UPDATE qasida_stock_cards SET quantity = quantity + 1 WHERE rowid = "
                           "(SELECT rowid FROM qasida_stock_cards LIMIT 1 OFFSET :n)")),
    ("ERP order (sync)", "qasida_customer_orders", ("UPDATE qasida_customer_orders SET status = CASE status WHEN 'bench' THEN 'bench2' "
                          "ELSE 'bench' END WHERE rowid = (SELECT rowid FROM qasida_customer_orders LIMIT 1 OFFSET :n)")),
)


MONTH = {"order_date__gte": "2025-11-01", "order_date__lt": "2025-12-01"}
# (builder of figures/page_summaries.py, arguments): what the Invoices, Stock and Overview pages read
FIGURES: tuple[tuple[Callable[..., object], tuple[object, ...]], ...] = (
    *((ps.money_kpis, ({}, d)) for d in ("receivable", "payable")),
    *((ps.outstanding_aging, ({}, d)) for d in ("receivable", "payable")),
    *((ps.aging, ({"direction": d},)) for d in ("receivable", "payable")),
    *((ps.counterparty_totals, ({"direction": d}, 15)) for d in ("receivable", "payable")),
    *((ps.counterparty_count, ({"direction": d},)) for d in ("receivable", "payable")),
    *((ps.dataset_page, (f"{d}s_outstanding", {})) for d in ("receivable", "payable")),
    (ps.order_kpis, (MONTH,)), (ps.orders_over_time, (MONTH,)), (ps.dataset_page, ("business_orders", MONTH)),
    (ps.warehouse_totals, ({},)), (ps.stock_below, ()), (ps.dataset_page, ("stock_levels", {})),
)


# The filters the pages offer, on first use (nothing stored for them yet; the pages' unfiltered figures above are,
# as after a view of the page or the worker's pass): what a reader pays to build them.
FILTERS: dict[str, tuple[tuple[Callable[..., object], tuple[object, ...]], ...]] = {
    "overdue only": ((ps.dataset_page, ("receivables_outstanding", {"days_overdue__gt": 0})),
                     (ps.counterparty_totals, ({"direction": "receivable", "days_overdue__gt": 0}, 15)),
                     (ps.aging, ({"direction": "receivable", "days_overdue__gt": 0},))),
    "counterparty contains": ((ps.dataset_page, ("receivables_outstanding", {"counterparty__contains": "gmbh"})),
                              (ps.counterparty_totals, ({"direction": "receivable", "counterparty__contains": "gmbh"}, 15))),
    "product contains": ((ps.dataset_page, ("stock_levels", {"product__contains": "bolt"})),
                         (ps.warehouse_totals, ({"product__contains": "bolt"},))),
    "runs out": ((ps.dataset_page, ("stock_levels", {"runs_out_before_next_delivery": 1})),
                 (ps.warehouse_totals, ({"runs_out_before_next_delivery": 1},))),
}


def figures(db: Database, today: str) -> None:
    """Read every page figure as a viewer does (stored, or rebuilt when it may not be served)."""
    for fn, args in FIGURES:
        stored.read(db, ps.name_of(fn), fn, args, today=today)


def recount(db: Database) -> None:
    """The same figures from the rows."""
    for fn, args in FIGURES:
        fn(db, *args)


def bound(refresh_s: float) -> float:
    """The longest a figure lags a write: the next pass starts within max(REFRESH_EVERY_S, a pass), and takes one."""
    return max(REFRESH_EVERY_S, refresh_s) + refresh_s


CPU: dict[str, list[float]] = {}  # label -> this process's CPU seconds of each timed run (the machine's load aside)


def timed(fn: Callable[[], object], label: str = "") -> float:
    started, cpu = time.perf_counter(), time.process_time()
    fn()
    CPU.setdefault(label, []).append(time.process_time() - cpu)
    return time.perf_counter() - started


# Upwell pushes carrier invoices by webhook; the sandbox fill (bench_pages.py) only syncs, so its databases
# have none. They get CARRIER_INVOICES x factor here, as the receiver stores them (webhooks/ingest.py), rolled back.
CARRIER_INVOICES = 40_000
CARRIERS = 300
_CARRIER_FILL = f"""
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
    INSERT INTO carrier_invoices (invoice_id, invoice_number, carrier_id, carrier, currency, total_amount,
                                  paid_amount, balance, status, issue_date, due_date, last_event_updated_at, synced_at)
    SELECT 'bench-' || i, 'CI-' || i, 'carrier-' || (i % {CARRIERS}), 'Carrier ' || (i % {CARRIERS}),
           CASE i % 3 WHEN 0 THEN 'EUR' WHEN 1 THEN 'GBP' ELSE 'PLN' END, 10000 + i % 5000,
           CASE WHEN i % 4 = 0 THEN 10000 + i % 5000 ELSE 0 END, CASE WHEN i % 4 = 0 THEN 0 ELSE 10000 + i % 5000 END,
           CASE WHEN i % 4 = 0 THEN 'PAID' ELSE 'RECEIVED' END,
           date('2025-01-01', '+' || (i % 600) || ' days'), date('2025-01-31', '+' || (i % 600) || ' days'),
           '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'
    FROM n"""


def measure(path: Path, factor: float, repeats: int) -> dict[str, float]:
    today = stored.business_today()
    with session(path) as db:
        db.conn.execute("BEGIN IMMEDIATE")  # every write below is rolled back: the data set stays as filled
        try:
            if not db.execute("SELECT 1 FROM carrier_invoices LIMIT 1").fetchone():
                db.execute(_CARRIER_FILL, {"count": round(CARRIER_INVOICES * factor)})
                note_write(db, "carrier_invoices")
            figures(db, today)  # stored once (a viewer's first read, or the worker after the fill)
            first_use = {label: _first_use(db, pairs) for label, pairs in FILTERS.items()}
            return {**_rounds(db, today, repeats), **{f"filter: {k}": v for k, v in first_use.items()}}
        finally:
            db.conn.execute("ROLLBACK")


def _first_use(db: Database, pairs: tuple[tuple[Callable[..., object], tuple[object, ...]], ...]) -> float:
    """A reader's first use of a filter; what it stored meanwhile (a pass its figures are folded from) is rolled
    back, so the refreshes below rebuild the same figures whatever the builders keep."""
    db.conn.execute("SAVEPOINT first_use")
    try:
        return timed(lambda: [fn(db, *args) for fn, args in pairs], "first use")
    finally:
        db.conn.execute("ROLLBACK TO first_use")
        db.conn.execute("RELEASE first_use")


def _rounds(db: Database, today: str, repeats: int) -> dict[str, float]:
    reads, refreshes, recounts = [], [], []
    alone: dict[str, list[float]] = {label: [] for label, _, _ in WRITES}
    for n in range(repeats):
        for label, table, sql in WRITES:  # each kind of write alone, then the worker's refresh
            with transaction(db):
                note_write(db, table)
                db.execute(sql, {"n": n * 37 + 11})
            stored.beat(db)
            reads.append(timed(lambda: figures(db, today)))
            alone[label].append(timed(lambda: stored.refresh(db, today), label))
        with transaction(db):
            for _, table, sql in WRITES:
                note_write(db, table)
                db.execute(sql, {"n": n * 37})
        refreshes.append(timed(lambda: stored.refresh(db, today), "refresh"))
        recounts.append(timed(lambda: recount(db)))
    return {"read": statistics.median(reads), "refresh": statistics.median(refreshes),
            "recount": statistics.median(recounts),
            **{label: statistics.median(times) for label, times in alone.items()}}


def live_lag(path: Path, repeats: int) -> dict[str, float]:
    """Per kind of write: the median seconds from its commit until the figures reading its table are current."""
    import threading

    from jobs.worker import Worker
    from services.settings import Settings
    from store.db import connect

    db = connect(path)
    today = stored.business_today()
    figures(db, today)  # stored and read now: the worker keeps them up to date
    stop = threading.Event()
    worker = threading.Thread(target=Worker(Settings(opsdash_db=path)).run, args=(stop,),
                              kwargs={"schedule_every": 3600.0}, daemon=True)  # no syncs: the refresher only
    worker.start()
    lags: dict[str, list[float]] = {label: [] for label, _, _ in WRITES}
    try:
        settled = time.monotonic() + 600  # the worker's first passes rebuild what an earlier deploy or write left
        while any(_stale(db, table, today) for _, table, _ in WRITES) and time.monotonic() < settled:
            stop.wait(0.2)
        for n in range(repeats):
            for label, table, _ in WRITES:
                stop.wait(1.3 * (n + 1))  # writes land at different points of the refresher's period
                with transaction(db):
                    note_write(db, table)
                    db.execute(f"UPDATE {table} SET synced_at = synced_at WHERE rowid = "
                               f"(SELECT rowid FROM {table} LIMIT 1 OFFSET :n)", {"n": n * 37 + 11})
                written = time.monotonic()
                while _stale(db, table, today) and time.monotonic() < written + 300:
                    stop.wait(0.05)
                lags[label].append(time.monotonic() - written)
    finally:
        stop.set()
        worker.join(timeout=300)
        db.close()
    return {label: statistics.median(times) for label, times in lags.items()}


def _stale(db: Database, table: str, today: str) -> bool:
    rows = db.execute("SELECT key, name, inputs FROM figures WHERE inputs LIKE ?", [f'%"{table}"%']).fetchall()
    return any(stored.servable(db, key, today, fresh=True) is None for key, name, _ in rows if name in stored.BUILDERS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-dir", type=Path, required=True, help="where bench_pages.py keeps large_x{F}.db")
    parser.add_argument("--factors", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--live", action="store_true", help="also the lag itself, with a worker running")
    args = parser.parse_args()
    results = {}
    for factor in args.factors:
        path = args.db_dir / f"large_x{factor}.db"
        if not path.exists():
            sys.exit(f"{path} does not exist: run bench/bench_pages.py --db-dir {args.db_dir} first")
        r = results[factor] = measure(path, factor, args.repeats)
        print(f"large x{factor}: after a write, figures read with a live worker {r['read']:.3f} s; after one write "
              f"of each kind, the worker's refresh {r['refresh']:.3f} s (staleness bound max({REFRESH_EVERY_S:.0f} s, "
              f"{r['refresh']:.1f} s) + {r['refresh']:.1f} s = {bound(r['refresh']):.1f} s); recount from the rows "
              f"{r['recount']:.3f} s", flush=True)
        print("  refresh after one write alone: " + ", ".join(f"{label} {r[label]:.3f} s" for label, _, _ in WRITES),
              flush=True)
        print("  CPU of this process, median: refresh after one write of each kind "
              f"{statistics.median(CPU['refresh']):.2f} s; after one write alone " + ", ".join(
                  f"{label} {statistics.median(CPU[label]):.2f} s" for label, _, _ in WRITES) + "; first use "
              + ", ".join(f"{k} {v:.2f} s" for k, v in zip(FILTERS, CPU["first use"], strict=True)), flush=True)
        CPU.clear()
        print("  first use of a filter (built by the reader): " + ", ".join(
            f"{k.removeprefix('filter: ')} {v:.2f} s" for k, v in r.items() if k.startswith("filter: ")), flush=True)
        if args.live:
            lags = live_lag(path, args.repeats)
            print("  lag with a worker running, median (target <= 15 s): " + ", ".join(
                f"{label} {lag:.1f} s" for label, lag in lags.items()), flush=True)
    low, high = min(results), max(results)
    if low != high:
        print(f"flatness x{high} / x{low} (target <= 1.3): " + "   ".join(
            f"{k} {results[high][k] / results[low][k]:.2f}"
            for k in ("read", "refresh", "recount", *(label for label, _, _ in WRITES))))


if __name__ == "__main__":
    main()
