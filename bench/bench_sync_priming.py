"""A relaxed-limit full sync of the large set at factor F into a new database, per mode (issue 19):

    python bench/bench_sync_priming.py 1 none gated refresher

- none: no refresher thread;
- gated: the worker's refresher (jobs/worker.py `refresh_figures` every 5 s) with a sync job queued meanwhile,
  as in the worker: the pages' default views are primed once the sync's jobs are over;
- refresher: the refresher with no job queued: the default views are primed between the sync's writes.
Printed: the sync's seconds, the refresher's passes, figures built and their seconds, and a pass after the sync.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobs import jobs
from jobs.worker import refresh_figures
from sandbox.context import Limits, SandboxConfig
from sandbox.server import client_env, running
from services.settings import Settings
from store.db import connect
from store.schema import session
from sync.engine import run_all
from sync.resources import clients_for, resources_for

VENDORS = ["qasida", "quaderno", "cargobase"]


def refresher(db: Path, stop: threading.Event, passes: list[tuple[int, float]]) -> None:
    conn = connect(db)
    try:
        while not stop.is_set():
            started = time.perf_counter()
            passes.append((refresh_figures(conn), time.perf_counter() - started))
            stop.wait(max(0.0, 5 - (time.perf_counter() - started)))
    finally:
        conn.close()


def measure(factor: float, mode: str) -> None:
    db = Path(tempfile.mkdtemp()) / "sync.db"
    with running(SandboxConfig(scale="large", factor=factor, limits=Limits.relaxed())) as config:
        values: dict[str, Any] = {k.lower(): v for k, v in client_env(config).items()}
        settings = Settings(opsdash_db=db, **values)
        with session(db) as conn:
            stop, passes = threading.Event(), list[tuple[int, float]]()
            thread = threading.Thread(target=refresher, args=(db, stop, passes), daemon=True)
            queued = jobs.enqueue(conn, "sync", {"vendor": "all"}, "bench") if mode == "gated" else None
            if mode != "none":
                thread.start()
            started = time.perf_counter()
            results = run_all(conn, clients_for(settings, VENDORS), resources_for(conn, VENDORS))
            took = time.perf_counter() - started
            if queued is not None:
                jobs.cancel(conn, queued)  # the sync's jobs are over: the next pass primes
                time.sleep(6)
            stop.set()
            if mode != "none":
                thread.join()
            assert all(r.ok for r in results), [r.error for r in results if not r.ok]
            print(f"x{factor} {mode}: sync {took:.1f} s; refresher passes {len(passes)}, built "
                  f"{sum(n for n, _ in passes)}, {sum(s for _, s in passes):.1f} s", flush=True)
            started = time.perf_counter()
            built = refresh_figures(conn)
            print(f"  pass after the sync: built {built} in {time.perf_counter() - started:.1f} s", flush=True)
    db.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("factor", type=float, help="the large set times this (1 = the large set)")
    parser.add_argument("modes", nargs="+", choices=("none", "gated", "refresher"), help="what runs beside the sync")
    args = parser.parse_args()
    for chosen in args.modes:
        measure(args.factor, chosen)


if __name__ == "__main__":
    main()
