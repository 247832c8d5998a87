"""Issue 20's proof on one machine: a team's processes on one PostgreSQL, nine figures with their pass lines.

    python bench/bench_cluster.py [--only N [N ...]] [--deliveries 10000] [--sessions 50]

The team (bench/cluster_env.py): the vendor sandbox at its documented limits (`opsdash sandbox`, large x0.05),
3 dashboard servers (`opsdash serve`) behind a sticky HAProxy frontend, 2 workers (`opsdash worker`), 2 webhook
receivers (`opsdash webhooks`) behind a second frontend, the CLI (`opsdash sync`), one throwaway PostgreSQL
(tests/pgcluster.py). Every process binds 127.0.0.1; all are stopped by PID at the end. The existing benches do
the measuring where one exists (bench_chaos, bench_webhooks, bench_concurrency + st_client, bench_sync).

1. vendor budgets held in sum: 0 x 429; Qargo <= 3 accepted requests in any second, Quaderno <= 100 in any 15 s,
   with both workers, the CLI and dashboard views running at once (the sandbox's /_admin/stats: answers per
   status and the time of every accepted request);
2. one Qargo token for all processes: 1 at start + 1 per forced expiry (the sandbox's business clock moved past
   the token's hour, then every process syncs Qargo again);
3. no job run twice or lost: 500 queued actions (tax-ID batches) and scheduled syncs, a worker killed -9 twice;
4. bench_chaos's deliveries through the receivers' balancer, receiver A killed -9 once and PostgreSQL restarted
   once: 0 lost, 0 duplicated, 0 wrong; every refusal a 503 with Retry-After;
5. webhook deliveries/s (bench_webhooks' events) with receiver A alone and with both (>= 300/s each);
6. N websocket sessions (st_client) over the 3 replicas: p95 to the first KPI <= 2 s, server CPU per view <= 0.1 s;
7. a webhook through receiver A shows on replica C (its Overview's "Overdue payables") within 15 s, equal to a
   recount (figures.kpis over the database);
8. the SQLite path unchanged: bench_webhooks and bench_pages at 0.5x (A, B alternating) within 10 %, A = main
   before PostgreSQL was merged (`--sqlite-a`), in this run;
9. `bench_sync --vendors qasida` on PostgreSQL >= 5,000 records/s (run as a subprocess, --db URL).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cluster_ab import SQLITE_A, figure_8, figure_9
from cluster_env import Cluster, cluster
from cluster_figures import figure_1, figure_2, figure_3, figure_4, figure_5, figure_6, figure_7

RESULTS: list[tuple[int, str, bool]] = []  # (figure, text, passed)


def verdict(figure: int, text: str, passed: bool) -> None:
    text += f" [load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores]"
    RESULTS.append((figure, text, passed))
    print(f"[{figure}] {'PASS' if passed else 'MISS'}  {text}", flush=True)


# each figure returns its verdict line and whether it passed; figures 8 and 9 need no team (c is None)
FIGURES: dict[int, Callable[..., tuple[str, bool]]] = {1: figure_1, 2: figure_2, 3: figure_3, 4: figure_4,
                                                        5: figure_5, 6: figure_6, 7: figure_7, 8: figure_8,
                                                        9: figure_9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", type=int, nargs="+", choices=range(1, 10), metavar="N",
                        help="run only these figures (1-9); default all")
    parser.add_argument("--deliveries", type=int, default=10_000, help="figure 4's chaos deliveries (default 10,000)")
    parser.add_argument("--sessions", type=int, default=50, help="figure 6's websocket sessions (default 50)")
    parser.add_argument("--events", type=int, default=2_000, help="figure 5's events per run (default 2,000)")
    parser.add_argument("--scale", choices=("small", "large"), default="large",
                        help="the sandbox's data set (default large)")
    parser.add_argument("--factor", type=float, default=0.05,
                        help="times the scale's counts (default 0.05: Quaderno's 50 invoice pages per sync, so the "
                             "CLI's and a worker's syncs together pass its 100 calls per 15 s)")
    parser.add_argument("--sqlite-a", default=SQLITE_A,
                        help=f"figure 8's A commit (default {SQLITE_A}: main before PostgreSQL was merged)")
    args = parser.parse_args()
    wanted = sorted(set(args.only or range(1, 10)))
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"bench_cluster {started}: figures {wanted}", flush=True)
    needs_cluster = [n for n in wanted if n in FIGURES and n not in (8, 9)]
    if needs_cluster:
        with cluster(args.scale, args.factor) as c:
            print(f"cluster up: PostgreSQL {c.db_url}, sandbox {c.sandbox_url}, dashboards {c.dash_url} "
                  f"({len(c.servers)} replicas), receivers {c.hooks_url} ({len(c.receivers)})", flush=True)
            for n in needs_cluster:
                run_figure(n, FIGURES[n], c, args)
    for n in wanted:
        if n not in needs_cluster and n in FIGURES:
            run_figure(n, FIGURES[n], None, args)
    print("\nsummary")
    for n, text, passed in sorted(RESULTS):
        print(f"  {n}. {'PASS' if passed else 'MISS'}  {text}")
    sys.exit(0 if all(p for _, _, p in RESULTS) else 1)


def run_figure(n: int, fn: Callable[..., tuple[str, bool]], c: Cluster | None, args: argparse.Namespace) -> None:
    began = time.monotonic()
    try:
        verdict(n, *(fn(c, args) if fn.__code__.co_argcount == 2 else fn(c)))
    except Exception as exc:  # noqa: BLE001 - one figure's failure is reported, the others still run
        verdict(n, f"not measured: {type(exc).__name__}: {exc}", False)
    print(f"    (figure {n}: {time.monotonic() - began:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
