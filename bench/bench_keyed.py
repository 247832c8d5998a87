"""After one write, what it costs to show the figures again (issue 12, "summaries kept at write time"):
per-key summaries (store/keyed.py) against a recount of the rows, at 0.5x, 1x and 2x the large data set.

    python bench/bench_keyed.py --db-dir /tmp/pages          # the databases bench_pages.py fills
    python bench/bench_keyed.py --db-dir /tmp/pages --factors 0.5 2 --repeats 7

For each factor: one write of each kind a webhook or a small sync makes (an invoice's amount, a carrier
invoice, a stock card, an ERP order's status), alone and then all together, then
- read: the figures the Invoices, Stock and Overview pages show from the summaries (money per direction and
  currency, aging, the 15 largest counterparties, stock per warehouse, orders per status and day, late
  orders, the pagers' counts) before the worker
  folds the write in: stored rows for clean keys, the written keys recomputed;
- fold: the worker storing the written keys;
- recount: the same figures from the rows, as every reader or worker paid before (the previous figure);
medians in seconds, the ratio recount / read, and the 2x / 0.5x ratio of each (target <= 1.3: flat).
The stock "runs out before the next delivery" count is not in it: it still recounts its rows once per data
version (docs/performance.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlite_utils import Database

from figures import details, kpis
from store.db import transaction
from store.schema import session

# (what writes it, the write): Quaderno invoices and stock cards only come from the worker's syncs, which fold
# right after the job; carrier invoices (Upwell) and orders also come from the webhook receiver, which does not.
WRITES = (
    ("invoice (sync)", ("UPDATE quaderno_invoices SET amount_due = amount_due + 1 WHERE rowid = "
                        "(SELECT rowid FROM quaderno_invoices WHERE amount_due > 0 LIMIT 1 OFFSET :n)")),
    ("carrier invoice (webhook)",
     "UPDATE carrier_invoices SET balance = balance + 1 WHERE rowid = (SELECT rowid FROM carrier_invoices LIMIT 1 OFFSET :n)"),
    ("stock card (sync)", ("UPDATE qasida_stock_cards SET quantity = quantity + 1 WHERE rowid = "
                           "(SELECT rowid FROM qasida_stock_cards LIMIT 1 OFFSET :n)")),
    ("ERP order (sync)", ("UPDATE qasida_customer_orders SET status = CASE status WHEN 'bench' THEN 'bench2' "
                          "ELSE 'bench' END WHERE rowid = (SELECT rowid FROM qasida_customer_orders LIMIT 1 OFFSET :n)")),
)


def figures(db: Database, now: datetime) -> None:
    """What the pages read (without the "runs out" count: see the module's docstring)."""
    for direction in kpis.DIRECTIONS:
        pinned = {"direction": direction}
        kpis.outstanding(db, now, direction)
        kpis.aging(db, now, None, direction)
        details.aging_buckets(db, pinned, now=now)
        details.totals_by_counterparty(db, pinned, now=now, limit=15)
        details.counterparties(db, pinned, now=now)
        keyed.count(db, f"{direction}s_outstanding", {}, now)
    month = {"order_date__gte": "2025-11-01", "order_date__lt": "2025-12-01"}
    kpis.orders_by_status(db, now, month)
    kpis.late_orders(db, now, month)
    kpis.orders_over_time(db, now, month)
    keyed.count(db, "business_orders", month, now)
    details.warehouse_totals(db, {})
    kpis.stock_below_by_warehouse(db, now)
    keyed.count(db, "stock_levels", {}, now)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
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
    now = datetime.now(UTC)
    with session(path) as db:
        db.conn.execute("BEGIN IMMEDIATE")  # every write below is rolled back: the data set stays as filled
        try:
            if not db.execute("SELECT 1 FROM carrier_invoices LIMIT 1").fetchone():
                db.execute(_CARRIER_FILL, {"count": round(CARRIER_INVOICES * factor)})
            keyed.fold(db, now)
            return _rounds(db, now, repeats)
        finally:
            db.conn.execute("ROLLBACK")


def _rounds(db: Database, now: datetime, repeats: int) -> dict[str, float]:
    reads, folds, recounts = [], [], []
    alone: dict[str, list[float]] = {label: [] for label, _ in WRITES}
    for n in range(repeats):
        for label, sql in WRITES:  # each kind of write alone, then folded
            with transaction(db):
                db.execute(sql, {"n": n * 37 + 11})
            alone[label].append(timed(lambda: figures(db, now)))
            keyed.fold(db, now)
        with transaction(db):
            for _, sql in WRITES:
                db.execute(sql, {"n": n * 37})
        reads.append(timed(lambda: figures(db, now)))
        folds.append(timed(lambda: keyed.fold(db, now)))
        answers = keyed.answers
        keyed.answers = lambda *_: False  # type: ignore[assignment]
        try:
            recounts.append(timed(lambda: figures(db, now)))
        finally:
            keyed.answers = answers  # type: ignore[assignment]
    clean = statistics.median(timed(lambda: figures(db, now)) for _ in range(repeats))
    return {"read": statistics.median(reads), "fold": statistics.median(folds),
            "recount": statistics.median(recounts), "clean": clean,
            **{label: statistics.median(times) for label, times in alone.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-dir", type=Path, required=True, help="where bench_pages.py keeps large_x{F}.db")
    parser.add_argument("--factors", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results = {}
    for factor in args.factors:
        path = args.db_dir / f"large_x{factor}.db"
        if not path.exists():
            sys.exit(f"{path} does not exist: run bench/bench_pages.py --db-dir {args.db_dir} first")
        r = results[factor] = measure(path, factor, args.repeats)
        print(f"large x{factor}: after one write of each kind, figures read {r['read']:.3f} s (clean {r['clean']:.3f} s), "
              f"fold {r['fold']:.3f} s; recount from the rows {r['recount']:.3f} s "
              f"(recount / read {r['recount'] / r['read']:.1f}x)", flush=True)
        print("  after one write alone: " + ", ".join(f"{label} {r[label]:.3f} s" for label, _ in WRITES), flush=True)
    low, high = min(results), max(results)
    if low != high:
        print(f"flatness x{high} / x{low} (target <= 1.3): " + "   ".join(
            f"{k} {results[high][k] / results[low][k]:.2f}"
            for k in ("read", "fold", "clean", "recount", *(label for label, _ in WRITES))))


if __name__ == "__main__":
    main()
