"""Export time and peak memory per format for `invoices_outstanding`, against the targets.

Run: `python bench/bench_export.py [ROWS]` (default 200,000 outstanding Quaderno invoices).
Targets: XLSX within 30 s; peak memory of any export at most 2x the data's size in memory
(the rows as the query layer returns them, all held at once).

Each format is run twice: once untraced for the time (tracemalloc slows Python down several
times), once under tracemalloc for the peak of Python allocations. Arrow buffers live outside
Python's allocator, so Parquet also reports the Arrow memory pool's high-water mark.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyarrow as pa
from sqlite_utils import Database

from exports.export import FORMATS, export
from store.db import connect
from store.queries import iter_dataset
from store.schema import migrate

DATASET = "invoices_outstanding"
NOW = datetime(2025, 3, 10, tzinfo=UTC)
XLSX_TARGET_S = 30.0
MEMORY_TARGET_RATIO = 2.0
MB = 1024 * 1024


def invoices(n: int) -> Iterator[tuple[object, ...]]:
    currencies = ("EUR", "EUR", "USD", "GBP", "JPY")
    for i in range(n):
        yield (f"inv-{i:07d}", f"Q-{i:07d}", f"Customer {i % 997}", currencies[i % 5],
               1_000 + i * 7, "outstanding", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
               "2025-03-01T00:00:00.000Z")


def seed(db: Database, n: int) -> None:
    with db.conn:
        db.conn.execute("BEGIN")
        db.conn.executemany(
            "INSERT INTO quaderno_invoices (invoice_id, number, contact_name, currency, amount_due,"
            " state, due_date, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", invoices(n))


def data_size(db: Database) -> int:
    """Bytes the whole dataset takes as row dicts: the baseline the memory target is relative to."""
    tracemalloc.start()
    rows = list(iter_dataset(db, DATASET, now=NOW))
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del rows
    return size


def timed(db: Database, fmt: str, out: Path) -> tuple[int, float]:
    started = time.perf_counter()
    count = export(db, DATASET, fmt, out, now=NOW)
    return count, time.perf_counter() - started


def peak(db: Database, fmt: str, out: Path) -> int:
    """Peak Python allocations during one export, plus Arrow's pool high-water mark."""
    pool = pa.default_memory_pool()
    arrow_before = pool.max_memory() or 0
    tracemalloc.start()
    export(db, DATASET, fmt, out, now=NOW)
    python_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return python_peak + max(0, (pool.max_memory() or 0) - arrow_before)


def main(n: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "bench.db")
        migrate(db)
        seed(db, n)
        baseline = data_size(db)
        print(f"{n:,} rows of {DATASET}; data in memory {baseline / MB:.1f} MB; "
              f"memory target {MEMORY_TARGET_RATIO:g}x = {MEMORY_TARGET_RATIO * baseline / MB:.1f} MB")
        # every format is reported, also after one missed its target (a generator in all() stopped there)
        results = [report(db, fmt, Path(tmp) / f"out.{fmt}", baseline) for fmt in FORMATS]
        ok = all(results)
        db.close()
    return 0 if ok else 1


def report(db: Database, fmt: str, out: Path, baseline: int) -> bool:
    count, seconds = timed(db, fmt, out)
    size = out.stat().st_size
    memory = peak(db, fmt, out)
    ratio = memory / baseline
    time_ok = fmt != "xlsx" or seconds <= XLSX_TARGET_S
    print(f"{fmt:8} {count:,} rows in {seconds:6.2f} s ({count / seconds:,.0f} rows/s), file {size / MB:6.1f} MB, "
          f"peak memory {memory / MB:6.1f} MB = {ratio:.2f}x data"
          + (f", time {seconds / XLSX_TARGET_S:.2f}x of the 30 s target" if fmt == "xlsx" else "")
          + ("" if time_ok and ratio <= MEMORY_TARGET_RATIO else "  <-- MISSES TARGET"), flush=True)
    return time_ok and ratio <= MEMORY_TARGET_RATIO


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rows", nargs="?", type=int, default=200_000, help="outstanding invoices (default 200,000)")
    sys.exit(main(parser.parse_args().rows))
