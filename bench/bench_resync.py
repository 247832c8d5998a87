"""Requests of a re-sync when nothing changed, against those of the full initial sync (target <= 5 %).

Run: `python bench/bench_resync.py [--scale large|small] [--vendors quaderno qasida cargobase]`.
The sandbox runs with relaxed limits; our clients keep their own limiters, so a large Quaderno
full sync still takes ~165 s (1,070 pages at 100 per 15.5 s). Cargobase has no change filter
(seeds/004): every run reads its live list whole, so its ratio is 100 % by design; it is printed
apart and left out of the total.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from bench_sync import Env, requests, sandbox_env, sync

from sandbox.context import Limits

TARGET = 0.05


def measure(env: Env, vendor: str) -> tuple[int, int]:
    """(requests of the full sync, requests of an idle re-sync)."""
    counts = []
    for _ in range(2):
        httpx.post(f"{env.config.base_url}/_admin/stats/reset", timeout=10)
        sync(env, vendor)
        counts.append(requests(env, vendor))
    return counts[0], counts[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=("small", "large"), default="large")
    parser.add_argument("--vendors", nargs="*", default=["quaderno", "qasida", "cargobase"])
    args = parser.parse_args()
    totals = [0, 0]
    with sandbox_env(args.scale, Limits.relaxed()) as env:
        print(f"sandbox {args.scale}, relaxed limits")
        for vendor in args.vendors:
            full, idle = measure(env, vendor)
            note = "  (no change filter: read whole by design)" if vendor == "cargobase" else ""
            print(f"{vendor:<9} full sync {full:>5} requests, idle re-sync {idle:>4}: {idle / full:6.1%}{note}")
            if vendor != "cargobase":
                totals = [totals[0] + full, totals[1] + idle]
    if totals[0]:
        ratio = totals[1] / totals[0]
        verdict = "OK" if ratio <= TARGET else "ABOVE TARGET"
        print(f"incremental vendors: {totals[1]} / {totals[0]} requests = {ratio:.2%} (target <= {TARGET:.0%}) {verdict}")


if __name__ == "__main__":
    main()
