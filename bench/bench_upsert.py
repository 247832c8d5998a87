"""Upsert throughput of `store.store.upsert_records`: prints rows/s and the ratio to the target.

Run: `python bench/bench_upsert.py [ROWS]`. Target: 50,000 rows/s on a first load and on a
re-sync of the same rows (every row an update), each in one transaction, as the sync engine does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from store.db import connect
from store.schema import migrate
from store.store import upsert_records

TARGET_ROWS_PER_S = 50_000


def make_rows(n: int, version: int) -> list[dict[str, object]]:
    return [
        {"invoice_id": f"inv-{i:07d}", "number": f"Q-{i}", "contact_id": f"c-{i % 997}",
         "contact_name": f"Customer {i % 997}", "currency": "EUR", "total": 10_000 + i,
         "amount_due": 5_000 + i + version, "state": "outstanding", "issue_date": "2025-01-02",
         "due_date": "2025-02-01", "raw": {"id": i, "version": version},
         "synced_at": "2025-03-01T00:00:00.000Z"}
        for i in range(n)
    ]


def measure(label: str, rows: list[dict[str, object]], db_path: Path) -> float:
    db = connect(db_path)
    started = time.perf_counter()
    result = upsert_records(db, "quaderno_invoices", rows, "invoice_id")
    elapsed = time.perf_counter() - started
    db.close()
    rate = len(rows) / elapsed
    print(f"{label:>8}: {len(rows):,} rows in {elapsed:.3f} s = {rate:,.0f} rows/s "
          f"(inserted {result.inserted:,}, updated {result.updated:,}); "
          f"ratio to {TARGET_ROWS_PER_S:,}/s target: {rate / TARGET_ROWS_PER_S:.2f}")
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rows", nargs="?", type=int, default=100_000, help="rows per load (default 100,000)")
    n = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        db = connect(path)
        migrate(db)
        db.close()
        rates = [measure("insert", make_rows(n, 0), path), measure("update", make_rows(n, 1), path)]
    return 0 if min(rates) >= TARGET_ROWS_PER_S else 1


if __name__ == "__main__":
    sys.exit(main())
