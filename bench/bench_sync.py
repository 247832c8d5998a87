"""Initial full sync against the sandbox's `large` data set with the vendors' DOCUMENTED limits.

Run: `python bench/bench_sync.py [--quaderno-pages N] [--vendors quaderno qasida cargobase]`.
- Quaderno is rate-limit bound: 100 calls per 15 s (seeds/001 line 60), so N pages cannot take less
  than N/100 x 15 s; printed: elapsed, that bound, ratio (target <= 1.2). The full large set is
  1,000 invoice pages (~150 s at the limit): `--quaderno-pages` bounds the run (default 300).
- Qasida and Cargobase document no limit: printed records/s (Qasida target >= 5,000/s).

`--db-size [--factor F]`: database size per 100k invoices (issue 12). One relaxed-limit sync of the large
set with raw JSON stored plain (the previous figure), then the same file with its raw JSON compressed
(store/rawstore.py) and VACUUMed; printed side by side with the ratio (target <= 0.5), and every dataset
read from both files compared row by row (exports read these columns, so they must be identical).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx

from sandbox.context import Limits, SandboxConfig
from sandbox.server import client_env, running
from services.settings import Settings
from store.db import connect
from store.schema import migrate
from sync.engine import SyncResource, SyncState, run_all, with_fetch
from sync.resources import clients_for, resources_for

QUADERNO_CALLS, QUADERNO_WINDOW = 100, 15.0  # seeds/001 line 60
QASIDA_TARGET = 5_000  # records/s
RATIO_TARGET = 1.2


@dataclass
class Env:
    config: SandboxConfig
    settings: Settings
    db_path: Path | str  # a file, or a `postgresql://` URL (--db)


@contextlib.contextmanager
def sandbox_env(scale: str, limits: Limits, factor: float = 1.0, target: str | None = None) -> Iterator[Env]:
    """A sandbox at `scale` (times `factor`) with `limits`, and settings on a fresh cache file (or on the empty
    database `target`, e.g. a `postgresql://` URL)."""
    config_ = SandboxConfig(scale=scale, limits=limits, factor=factor)  # type: ignore[arg-type]
    with running(config_) as config, tempfile.TemporaryDirectory() as tmp:
        db_path: Path | str = target or Path(tmp) / "bench.db"
        db = connect(db_path)
        migrate(db)
        db.close()
        env = {k.lower(): v for k, v in client_env(config).items()}
        yield Env(config, Settings(**env, opsdash_db=db_path), db_path)


def bounded(res: SyncResource, pages: int) -> SyncResource:
    """The same resource, stopped after `pages` pages (a bench bound, not a sync mode)."""
    def fetch(client: Any, state: SyncState) -> Iterator[Any]:
        return itertools.islice(res.fetch(client, state), pages)
    return with_fetch(res, fetch)


def requests(env: Env, vendor: str) -> int:
    return int(httpx.get(f"{env.config.base_url}/_admin/stats/{vendor}", timeout=10).json()["requests"])


@dataclass
class Clocks:
    """Wall, this process's CPU (the in-process sandbox included) and the syncing thread's own CPU."""

    wall: float = 0.0
    process_cpu: float = 0.0
    sync_cpu: float = 0.0

    @classmethod
    def now(cls) -> Clocks:
        return cls(time.perf_counter(), time.process_time(), time.thread_time())

    def __sub__(self, other: Clocks) -> Clocks:
        return Clocks(self.wall - other.wall, self.process_cpu - other.process_cpu, self.sync_cpu - other.sync_cpu)

    def text(self) -> str:
        return f"wall {self.wall:.1f} s, process CPU {self.process_cpu:.1f} s, sync thread CPU {self.sync_cpu:.1f} s"


LAST_CLOCKS = Clocks()


def sync(env: Env, vendor: str, quaderno_pages: int | None = None, detail: bool = False) -> tuple[float, int, int]:
    """(elapsed s, records stored, pages) of one pass over the vendor's resources; its clocks in LAST_CLOCKS."""
    global LAST_CLOCKS
    db = connect(env.db_path)
    resources = list(resources_for(db, (vendor,)))
    if quaderno_pages is not None:
        resources = [bounded(r, quaderno_pages) if r.name == "invoices" else r for r in resources
                     if r.name == "invoices"]
    clients = clients_for(env.settings, (vendor,))
    started = Clocks.now()
    results = []
    for res in resources:  # run_all's loop, one resource at a time so each can be timed
        before = Clocks.now()
        results.extend(run_all(db, clients, [res]))
        if detail:
            print(f"  {res.name:<16} {results[-1].inserted + results[-1].updated:>8,} records, "
                  f"{results[-1].pages:>5} pages: {(Clocks.now() - before).text()}")
    LAST_CLOCKS = Clocks.now() - started
    for client in clients.values():
        client.close()
    db.close()
    failed = [r.summary() for r in results if not r.ok]
    if failed:
        raise SystemExit(f"sync failed: {failed}")
    return LAST_CLOCKS.wall, sum(r.inserted + r.updated for r in results), sum(r.pages for r in results)


def report_quaderno(env: Env, pages: int) -> None:
    elapsed, records, done = sync(env, "quaderno", quaderno_pages=pages)
    bound = done / QUADERNO_CALLS * QUADERNO_WINDOW
    print(f"quaderno  {done} pages, {records} invoices in {elapsed:.1f} s; bound {bound:.1f} s "
          f"(pages/100 x 15 s); ratio {elapsed / bound:.2f} (target <= {RATIO_TARGET}); "
          f"{records / elapsed:,.0f} records/s; sandbox saw {requests(env, 'quaderno')} requests")


def report_rate(env: Env, vendor: str, target: int | None, detail: bool = False) -> None:
    elapsed, records, pages = sync(env, vendor, detail=detail)
    rate = records / elapsed
    goal = f"; ratio to target {rate / target:.2f} (target >= {target:,}/s)" if target else " (no documented limit)"
    print(f"{vendor:<9} {pages} pages, {records:,} records in {elapsed:.1f} s: {rate:,.0f} records/s{goal}")
    print(f"          {LAST_CLOCKS.text()}; {LAST_CLOCKS.sync_cpu / records * 1e6:.0f} us sync CPU per record")


INVOICE_TABLES = ("quaderno_invoices", "quaderno_credits", "qasida_liabilities", "qasida_claims",
                  "cargobase_invoices", "carrier_invoices")


def _size(path: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.close()
    return path.stat().st_size


def _digests(path: Path) -> dict[str, str]:
    """A digest of every dataset's rows at one fixed moment (what an export would write)."""
    import hashlib
    import json
    from datetime import UTC, datetime

    from store.datasets import DATASETS
    from store.queries import iter_dataset

    moment, out = datetime(2026, 11, 29, 12, 0, tzinfo=UTC), {}
    db = connect(path)
    for name in sorted(DATASETS):
        digest = hashlib.sha256()
        for row in iter_dataset(db, name, now=moment):
            digest.update(json.dumps(row, sort_keys=True, default=str).encode())
        out[name] = digest.hexdigest()
    db.close()
    return out


def report_db_size(factor: float, fresh: bool = False) -> None:
    import shutil

    from bench_pages import fill  # the same relaxed-limit fill as the page benchmark

    from store import rawstore

    with tempfile.TemporaryDirectory() as tmp:
        plain, packed = Path(tmp) / "plain.db", Path(tmp) / "packed.db"
        rawstore.ENABLED = False
        try:
            fill(plain, factor)
        finally:
            rawstore.ENABLED = True
        before = _size(plain)
        shutil.copy(plain, packed)
        db = connect(packed)
        started = time.perf_counter()
        compressed = rawstore.compress_existing(db)
        compress_s = time.perf_counter() - started
        invoices = sum(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in INVOICE_TABLES
                       if t in db.table_names())
        db.close()
        after = _size(packed)
        same = _digests(plain) == _digests(packed)
        fresh_size = None
        if fresh:  # what a new installation gets: compressed as it syncs
            fresh_db = Path(tmp) / "fresh.db"
            fill(fresh_db, factor)
            fresh_size = _size(fresh_db)
    per = 100_000 / max(1, invoices)
    print(f"db size, large x{factor}: {invoices:,} invoices; {sum(compressed.values()):,} raw records compressed "
          f"in {compress_s:.0f} s")
    print(f"  whole file: plain raw {before / 1e6:,.0f} MB -> compressed {after / 1e6:,.0f} MB; "
          f"ratio {after / before:.2f} (target <= 0.5)")
    print(f"  per 100k invoices: {before * per / 1e6:,.0f} MB (previous) -> {after * per / 1e6:,.0f} MB")
    print(f"  every dataset read back identical: {same}")
    if fresh_size is not None:
        print(f"  a fresh sync with compression on: {fresh_size / 1e6:,.0f} MB; ratio to plain "
              f"{fresh_size / before:.2f} (target <= 0.5); per 100k invoices {fresh_size * per / 1e6:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quaderno-pages", type=int, default=300)
    parser.add_argument("--vendors", nargs="*", default=["quaderno", "qasida", "cargobase"])
    parser.add_argument("--db-size", action="store_true", help="database size per 100k invoices, then exit")
    parser.add_argument("--factor", type=float, default=1.0, help="the large set times F (e.g. 0.01 for a quick run)")
    parser.add_argument("--fresh", action="store_true", help="with --db-size: also a fresh sync, compressed as it goes")
    parser.add_argument("--detail", action="store_true", help="per resource: records, wall and CPU")
    parser.add_argument("--db", default=None, metavar="TARGET",
                        help="sync into this empty database (e.g. a postgresql:// URL) instead of a temp SQLite file")
    args = parser.parse_args()
    if args.db_size:
        report_db_size(args.factor, args.fresh)
        return
    with sandbox_env("large", Limits(), args.factor, args.db) as env:
        print(f"sandbox large x{args.factor}, documented limits, at {env.config.base_url}")
        if "quaderno" in args.vendors:
            report_quaderno(env, args.quaderno_pages)
        if "qasida" in args.vendors:
            report_rate(env, "qasida", QASIDA_TARGET, args.detail)
        if "cargobase" in args.vendors:
            report_rate(env, "cargobase", None, args.detail)


if __name__ == "__main__":
    main()
