"""A team opening the Overview at once (issue 12): N websocket sessions against one server on the large set.

    python bench/bench_concurrency.py --db /tmp/pages/large_x1.0.db [--sessions 10] [--rounds 3]

Sessions are headless websocket clients (bench/st_client.py), so no browser competes for the CPU being
measured. Per round, all sessions connect together and run the Overview; printed: the server's CPU time
(user + system, all threads, from /proc) per view (target <= 0.1 s) and the p95 seconds from connecting to
the first KPI card (target <= 2 s). Round 1 is the first burst after the server started (empty memory
caches; summaries current in SQLite); later rounds are reruns with no new data.
The database is filled like bench_pages does when it does not exist.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CPU_TARGET, P95_TARGET = 0.1, 2.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process, all threads (clock ticks from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    from bench_pages import fill, wait_ready
    from st_client import open_pages

    from sandbox.server import free_port
    from serve import PRODUCTION_FLAGS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--factor", type=float, default=1.0,
                        help="when --db does not exist: fill it with the large set times F (default 1)")
    args = parser.parse_args()
    if not args.db.exists():
        fill(args.db, args.factor)
    port = free_port()
    env = {**os.environ, "OPSDASH_DB": str(args.db), "OPSDASH_INPROCESS_WORKER": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port",
                             str(port), "--server.address", "127.0.0.1", *PRODUCTION_FLAGS],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        time.sleep(1.0)  # let the server's start-up work settle so it is not counted as page CPU
        print(f"{args.sessions} sessions open the Overview together, {args.rounds} rounds, db {args.db}")
        for n in range(1, args.rounds + 1):
            before, started = cpu_seconds(proc.pid), time.perf_counter()
            views = open_pages(url, args.sessions)
            wall = time.perf_counter() - started
            cpu = cpu_seconds(proc.pid) - before
            errors = [v.exception for v in views if v.exception]
            firsts = [v.first_element_s for v in views if v.first_element_s is not None]
            print(f"round {n}: server CPU {cpu:.2f} s = {cpu / len(views):.3f} s per view "
                  f"(ratio to {CPU_TARGET}: {cpu / len(views) / CPU_TARGET:.2f}); first KPI p50 "
                  f"{statistics.median(firsts):.2f} s, p95 {p95(firsts):.2f} s (ratio to {P95_TARGET}: "
                  f"{p95(firsts) / P95_TARGET:.2f}); all {len(views)} runs done in {wall:.2f} s"
                  + (f"; {len(errors)} errors: {errors[0]}" if errors else ""), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
