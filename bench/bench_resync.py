"""Requests of a re-sync when nothing changed, against those of the full initial sync (target <= 5 %); and
for Quaderno, what "a paid invoice leaves outstanding within one hour" costs per hour (target <= 5 % of its
hourly call budget).

Run: `python bench/bench_resync.py [--scale large|small] [--factor F] [--vendors quaderno qasida cargobase]
[--open-hours H]`.
The sandbox runs with relaxed limits; our clients keep their own limiters, so a large Quaderno
full sync still takes ~165 s (1,070 pages at 100 per 15.5 s). Cargobase has no change filter
(seeds/004): every run reads its live list whole, so its ratio is 100 % by design; it is printed
apart and left out of the total.

Quaderno's open set (`quaderno/open_invoices`, sync/vendors/quaderno.py) is then run as the worker
would for `--open-hours` hours (default 2): before each 15-minute run the cache's check times and the
sandbox's business clock move on 15 minutes (customers pay meanwhile). Printed per hour: requests, their
share of the hourly budget (100 calls per 15 s, seeds/001 line 60: 24,000; our limiter's 100 per 15.5 s:
23,225), and the oldest check of any open invoice after each run (target <= 60 minutes).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from bench_sync import Env, requests, sandbox_env, sync

from sandbox.context import Limits
from store.db import connect, utcnow
from sync.engine import run_all
from sync.resources import clients_for, resources_for
from sync.vendors import quaderno as qopen

TARGET = 0.05
DOCUMENTED_HOURLY = 100 * 3600 // 15  # seeds/001 line 60
RUNS_PER_HOUR = int(qopen.CHECK_WITHIN / qopen.RUN_EVERY)
AGE_SQL = ("UPDATE quaderno_invoices SET synced_at = strftime('%Y-%m-%dT%H:%M:%fZ', synced_at, ?)")
OLDEST_SQL = ("SELECT count(*), min(synced_at) FROM quaderno_invoices WHERE state IN ('outstanding', 'late') "
              "AND removed_at IS NULL")


def measure(env: Env, vendor: str) -> tuple[int, int]:
    """(requests of the full sync, requests of an idle re-sync)."""
    counts = []
    for _ in range(2):
        httpx.post(f"{env.config.base_url}/_admin/stats/reset", timeout=10)
        sync(env, vendor)
        counts.append(requests(env, vendor))
    return counts[0], counts[1]


def open_run(env: Env) -> tuple[int, int, float]:
    """Age the cache and the sandbox 15 minutes, run the open set once: (requests, open invoices, oldest
    check in minutes after the run)."""
    minutes = qopen.RUN_EVERY.total_seconds() / 60
    db = connect(env.db_path)
    db.execute(AGE_SQL, [f"-{minutes:.0f} minutes"])
    db.conn.commit()
    httpx.post(f"{env.config.base_url}/_admin/clock", json={"advance_seconds": minutes * 60}, timeout=10)
    httpx.post(f"{env.config.base_url}/_admin/stats/reset", timeout=10)
    clients = clients_for(env.settings, ("quaderno",))
    [res] = [r for r in resources_for(db, ("quaderno",)) if r.name == "open_invoices"]
    [result] = run_all(db, clients, [res])
    for client in clients.values():
        client.close()
    if not result.ok:
        raise SystemExit(f"open set run failed: {result.error}")
    count, oldest = db.execute(OLDEST_SQL).fetchone()
    db.close()
    age = (utcnow() - _parse(oldest)) / timedelta(minutes=1) if oldest else 0.0
    return requests(env, "quaderno"), count, age


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def report_open_hours(env: Env, hours: int) -> None:
    print(f"quaderno open set, {RUNS_PER_HOUR} runs per hour ({qopen.RUN_EVERY.total_seconds() / 60:.0f} min), "
          f"cache and sandbox clock aged before each:")
    for hour in range(1, hours + 1):
        runs = [open_run(env) for _ in range(RUNS_PER_HOUR)]
        calls = sum(r[0] for r in runs)
        worst = max(r[2] for r in runs)
        verdict = "OK" if calls <= TARGET * qopen.HOURLY_CALLS and worst <= 60 else "ABOVE TARGET"
        print(f"  hour {hour}: {runs[-1][1]:,} open invoices; requests per run {[r[0] for r in runs]} = {calls} "
              f"per hour = {calls / DOCUMENTED_HOURLY:.2%} of {DOCUMENTED_HOURLY:,} (documented), "
              f"{calls / qopen.HOURLY_CALLS:.2%} of {qopen.HOURLY_CALLS:,.0f} (our limiter), target <= {TARGET:.0%}; "
              f"oldest open check after a run {worst:.0f} min (target <= 60) {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=("small", "large"), default="large")
    parser.add_argument("--factor", type=float, default=1.0, help="the scale's counts times F (e.g. 2)")
    parser.add_argument("--vendors", nargs="*", default=["quaderno", "qasida", "cargobase"])
    parser.add_argument("--open-hours", type=int, default=2, help="hours of Quaderno open-set runs (0: none)")
    args = parser.parse_args()
    totals = [0, 0]
    with sandbox_env(args.scale, Limits.relaxed(), args.factor) as env:
        print(f"sandbox {args.scale} x{args.factor:g}, relaxed limits")
        for vendor in args.vendors:
            full, idle = measure(env, vendor)
            note = "  (no change filter: read whole by design)" if vendor == "cargobase" else ""
            print(f"{vendor:<9} full sync {full:>5} requests, idle re-sync {idle:>4}: {idle / full:6.1%}{note}")
            if vendor != "cargobase":
                totals = [totals[0] + full, totals[1] + idle]
            if vendor == "quaderno" and args.open_hours:
                report_open_hours(env, args.open_hours)
    if totals[0]:
        ratio = totals[1] / totals[0]
        verdict = "OK" if ratio <= TARGET else "ABOVE TARGET"
        print(f"incremental vendors: {totals[1]} / {totals[0]} requests = {ratio:.2%} (target <= {TARGET:.0%}) {verdict}")


if __name__ == "__main__":
    main()
