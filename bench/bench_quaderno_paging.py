"""Page N Quaderno invoices (default 25,000 = 250 pages of 100) through the client against a sandbox
with Quaderno's documented limit (100 calls per 15 s, seeds/001 line 60), and compare with the bound.

Run: `python bench/bench_quaderno_paging.py [N]`. Scale "large" has 100,000 invoices.

The bound. The vendor counts calls per 15 s window, so the fastest any client can go is: spend
100 calls, wait for the window to end, spend 100 more... With C = ceil(N / 100) calls, the last
call can start no earlier than (ceil(C / 100) - 1) * 15 s after the first (250 calls: 2 full
windows = 30 s), plus the time the vendor needs to answer the calls of the last window (measured
here as the median page time times those calls, the "tiny" term). A smooth rate of 100 per 15 s
would take (C - 1) * 0.15 = 37.4 s instead: the client's sliding-log limiter (100 calls per 15.5 s,
services/quaderno/client.py) spends a window's budget at once and so can approach 30 s, paying the
0.5 s jitter margin per window. Prints elapsed, bound, ratio (target <= 1.10) and the sandbox's 429
answers (target 0).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.context import SandboxConfig
from sandbox.server import client_env, running
from services.core import VendorClient
from services.quaderno.client import RATE_LIMIT_WINDOW, make_client
from services.quaderno.resources import MAX_LIMIT, invoices
from services.settings import Settings

TARGET_RATIO = 1.10
CALLS_PER_WINDOW, WINDOW_S = 100, 15.0  # seeds/001 line 60


def settings_for(config: SandboxConfig, db: Path) -> Settings:
    env: dict[str, Any] = {k.lower(): v for k, v in client_env(config).items() if k.startswith("QUADERNO_")}
    return Settings(opsdash_db=db, **env)


def page_through(client: VendorClient, n: int) -> tuple[float, int, list[float]]:
    """Seconds to read `n` invoices, ids seen (checked unique), and each page's own duration."""
    seen: set[int] = set()
    durations: list[float] = []
    started = last = time.perf_counter()
    for page in invoices(client, limit=MAX_LIMIT):
        seen.update(inv.id for inv in page.records)
        durations.append(page.response.elapsed.total_seconds())
        last = time.perf_counter()
        if len(seen) >= n:
            break
    return last - started, len(seen), durations


def bound(calls: int, page_s: float) -> float:
    """Full windows the last call must wait for, plus answering the last window's calls."""
    windows = math.ceil(calls / CALLS_PER_WINDOW - 1)
    last_window_calls = calls - windows * CALLS_PER_WINDOW
    return windows * WINDOW_S + last_window_calls * page_s


def main(n: int) -> int:
    config = SandboxConfig(seed=1, scale="large")  # documented limits: the default Limits()
    calls = math.ceil(n / MAX_LIMIT)
    with (
        running(config),
        tempfile.TemporaryDirectory() as tmp,
        httpx.Client(base_url=config.base_url) as admin,
    ):
        with make_client(settings_for(config, Path(tmp) / "opsdash.db")) as client:
            elapsed, unique, durations = page_through(client, n)
        stats = admin.get("/_admin/stats/quaderno").json()
    page_s = statistics.median(durations)
    ideal = bound(calls, page_s)
    ratio = elapsed / ideal
    print(f"invoices paged        {unique} ({len(durations)} calls of {MAX_LIMIT}; unique ids)")
    print(f"elapsed               {elapsed:.2f} s")
    print(f"median page answer    {page_s * 1000:.1f} ms")
    print(
        f"rate-limit bound      {ideal:.2f} s = {math.ceil(calls / CALLS_PER_WINDOW - 1)} windows x {WINDOW_S:.0f} s"
        f" + last window's calls x median page time"
    )
    print(f"smooth-rate bound     {(calls - 1) * WINDOW_S / CALLS_PER_WINDOW:.2f} s (100 per 15 s, no burst)")
    print(f"client window         {CALLS_PER_WINDOW} calls / {RATE_LIMIT_WINDOW} s (sliding log)")
    print(f"ratio                 {ratio:.3f} (target <= {TARGET_RATIO})")
    print(f"429 answers           {stats['rate_limited']} (target 0); requests {stats['requests']}")
    ok = ratio <= TARGET_RATIO and stats["rate_limited"] == 0 and unique >= n
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", nargs="?", type=int, default=25_000, metavar="N",
                        help="invoices to page, 100 a page (default 25,000)")
    sys.exit(main(parser.parse_args().n))
