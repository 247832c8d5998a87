"""Refresh the status of N Qargo orders through the client against a sandbox with Qargo's documented
limits (2 requests/s sustained, bursts of 3: seeds/000 line 142), and compare with the bound.

Run: `python bench/bench_qargo_status.py [N]` (N = 200 by default). The orders are the sandbox's
pre-existing TMS orders (scale "large" has 2,000; ids from `sandbox.qargo.common.stable_uuid`), i.e.
orders the TMS already holds, as in a real status refresh. The token is fetched before the timer
starts (the auth endpoint is outside the rate limit). Prints the elapsed time, the rate-limit bound
N / 2 s, their ratio (target <= 1.10) and the 429 answers the sandbox gave (target 0).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.context import SandboxConfig
from sandbox.qargo.common import stable_uuid
from sandbox.server import client_env, running
from services.core import VendorClient
from services.qargo.client import RATE_PER_SECOND, make_client
from services.qargo.resources import order_status
from services.settings import Settings

TARGET_RATIO = 1.10


def settings_for(config: SandboxConfig, db: Path) -> Settings:
    env = {k.lower(): v for k, v in client_env(config).items() if k.startswith("QARGO_")}
    return Settings(opsdash_db=db, **env)


def refresh(client: VendorClient, order_ids: list[str]) -> tuple[float, dict[str, int]]:
    """Seconds to read every order's status, and how many orders per status."""
    counts: dict[str, int] = {}
    started = time.perf_counter()
    for order_id in order_ids:
        status = str(order_status(client, order_id).status)
        counts[status] = counts.get(status, 0) + 1
    return time.perf_counter() - started, counts


def main(n: int) -> int:
    config = SandboxConfig(seed=1, scale="large")  # documented limits: the default Limits()
    order_ids = [stable_uuid(config.seed, "order", i) for i in range(1, n + 1)]
    with (
        running(config),
        tempfile.TemporaryDirectory() as tmp,
        httpx.Client(base_url=config.base_url) as admin,
    ):
        with make_client(settings_for(config, Path(tmp) / "opsdash.db")) as client:
            order_status(client, order_ids[0])  # fetch the token outside the timer
            time.sleep(1 / RATE_PER_SECOND)  # let the bucket refill, so the run starts like a fresh one
            admin.post("/_admin/stats/reset").raise_for_status()
            elapsed, counts = refresh(client, order_ids)
        stats = admin.get("/_admin/stats/qargo").json()
    bound = n / RATE_PER_SECOND
    ratio = elapsed / bound
    print(f"orders refreshed      {n} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")
    print(f"elapsed               {elapsed:.2f} s")
    print(f"rate-limit bound      {bound:.2f} s (N / {RATE_PER_SECOND:g} per s)")
    print(f"ratio elapsed/bound   {ratio:.3f} (target <= {TARGET_RATIO})")
    print(f"429 answers           {stats['rate_limited']} (target 0)")
    print(f"max accepted in 1 s   {stats['max_accepted_per_second']} (vendor allows 3)")
    return 0 if ratio <= TARGET_RATIO and stats["rate_limited"] == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", nargs="?", type=int, default=200, metavar="N", help="orders to refresh (default 200)")
    sys.exit(main(parser.parse_args().n))
