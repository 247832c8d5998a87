"""Batch tax-ID validation against the sandbox with Quaderno's DOCUMENTED limit (100 calls per 15 s).

Run: `python bench/bench_taxids.py [COUNT] [MALFORMED_SHARE]` (default 500 numbers, 20 % malformed).
Prints the elapsed time against the rate-limit bound (vendor calls / 100 x 15 s, seeds/001 line 60), their
ratio (target <= 1.1), and how many vendor calls the offline check saved. The numbers are distinct, so the
in-batch deduplication saves nothing here: every well-formed number costs exactly one call.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx

from actions.taxids import KIND, TaxIdRow, run_batch
from jobs import jobs
from sandbox.context import SandboxConfig
from sandbox.server import client_env, running
from sandbox.world import World
from services.settings import Settings
from store.db import connect
from store.schema import migrate

CALLS, WINDOW, TARGET_RATIO = 100, 15.0, 1.1


def make_rows(count: int, malformed_share: float) -> list[TaxIdRow]:
    """Distinct numbers from the sandbox world; every k-th gets a broken last digit (the offline check's job)."""
    numbers = [c for c in World(1, "large").customers if c.vat_number and c.vat_valid]
    every = max(1, round(1 / malformed_share)) if malformed_share > 0 else 0
    rows = []
    for i, customer in enumerate(numbers[:count]):
        number = str(customer.vat_number)
        if every and i % every == 0:
            number = number[:-1] + str((int(number[-1]) + 1) % 10) if number[-1].isdigit() else number + "9"
        rows.append(TaxIdRow(customer.country if customer.country != "GR" else "EL", number, customer.name))
    return rows


def main(count: int = 500, malformed_share: float = 0.2) -> None:
    rows = make_rows(count, malformed_share)
    with running(SandboxConfig(scale="large")) as config, tempfile.TemporaryDirectory() as tmp:
        env = {k.lower(): v for k, v in client_env(config).items()}
        settings = Settings(opsdash_db=Path(tmp) / "bench.db", **env)
        db = connect(settings.opsdash_db)
        migrate(db)
        job_id = jobs.enqueue(db, KIND, {"rows": [r.__dict__ for r in rows]}, "bench")
        job = jobs.claim_next(db, "bench")
        assert job is not None and job.job_id == job_id
        started = time.monotonic()
        result = run_batch(db, settings, job)
        elapsed = time.monotonic() - started
        served = httpx.get(f"{config.base_url}/_admin/stats/quaderno").json()
        db.close()
    report(result, elapsed, served)


def report(result: dict[str, int], elapsed: float, served: dict[str, int]) -> None:
    calls = result["vendor_calls"]
    # The first window's 100 calls go at once; each further (partial) window waits the full 15 s.
    bound = max(0, math.ceil(calls / CALLS) - 1) * WINDOW
    nominal = calls / CALLS * WINDOW
    ratio = elapsed / nominal if nominal else 0.0
    print(f"tax IDs: {result['total']} ({result['valid']} valid, {result['invalid']} invalid, "
          f"{result['unavailable']} unavailable)")
    print(f"vendor calls: {calls} (sandbox served {served['requests']}, {served['rate_limited']} answered 429)")
    print(f"calls saved by the offline check: {result['malformed']}")
    print(f"elapsed {elapsed:.1f} s; rate-limit bound calls/100 x 15 s = {nominal:.1f} s "
          f"(window-aligned minimum {bound:.1f} s)")
    verdict = "OK" if ratio <= TARGET_RATIO else "SLOW"
    print(f"ratio elapsed / bound = {ratio:.2f} (target <= {TARGET_RATIO}) {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", nargs="?", type=int, default=500, help="tax IDs in the batch (default 500)")
    parser.add_argument("malformed_share", nargs="?", type=float, default=0.2,
                        help="share of malformed numbers (default 0.2)")
    args = parser.parse_args()
    main(args.count, args.malformed_share)
