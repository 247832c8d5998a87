"""Page cost against data size (issue 12): every page's script run at 0.5x, 1x and 2x the large data set.

    python bench/bench_pages.py                          # factors 0.5 1 2, databases filled in a temp dir
    python bench/bench_pages.py --db-dir /tmp/pages      # reuse (or create) large_x{F}.db there
    python bench/bench_pages.py --factors 1 --repeats 9
    python bench/bench_pages.py --factors 2 --db-dir /tmp/pages --after-sync   # first views after a sync

For each factor, per page (AppTest, in this process):
- first view: the very first run on a fresh database builds the page's figures (figures/stored.py);
  in production the worker rebuilds them after each sync, so a viewer does not pay this;
- uncached: Streamlit's read cache and figure cache emptied, summaries current (a new server process,
  or the first rerun after new data once the worker has refreshed), median of 3: target <= 0.3 s at 2x;
- warm: median of reruns with no new data: target <= 0.1 s;
and the 2x / 0.5x ratio of uncached and warm runs (target <= 1.3: flat in data size).
Then a Streamlit server on the database (production flags): seconds from ready to the Overview's first KPI
card over the websocket (target <= 1.5 s), and from process start.
The fill uses relaxed vendor limits: it only fills the cache.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PAGES = ["pages/overview.py", "pages/orders.py", "pages/invoices.py", "pages/tax.py", "pages/stock.py",
         "pages/sync.py"]
UNCACHED_TARGET, WARM_TARGET, FLAT_TARGET, FIRST_KPI_TARGET = 0.3, 0.1, 1.3, 1.5


def fill(db: Path, factor: float = 1.0) -> None:
    from sandbox.context import Limits, SandboxConfig
    from sandbox.server import client_env, running
    from services.settings import Settings
    from store.schema import session
    from sync.engine import run_all
    from sync.resources import clients_for, resources_for

    with running(SandboxConfig(scale="large", factor=factor, limits=Limits.relaxed())) as config:
        env = {k.lower(): v for k, v in client_env(config).items()}
        settings = Settings(opsdash_db=db, **env)
        vendors = ["qasida", "quaderno", "cargobase"]
        with session(db) as conn:
            started = time.perf_counter()
            results = run_all(conn, clients_for(settings, vendors), resources_for(conn, vendors))
            for r in results:
                print(f"  {r.summary()}")
            print(f"filled {db} in {time.perf_counter() - started:.0f} s", flush=True)


def counts(db: Path) -> dict[str, int]:
    from store.schema import session

    with session(db) as conn:
        return {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                for name in ("orders", "invoices_outstanding", "stock_levels")}


def script_runs(db: Path, repeats: int) -> dict[str, tuple[float, float, float]]:
    """page -> (first view, uncached, warm median) in seconds."""
    from streamlit.testing.v1 import AppTest

    os.environ["OPSDASH_DB"] = str(db)
    os.environ["OPSDASH_INPROCESS_WORKER"] = "false"
    from services.settings import get_settings

    get_settings.cache_clear()
    out = {}
    for page in PAGES:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
        first = _timed(at)  # the default page (the Overview)
        if page != PAGES[0]:
            at.switch_page(page)
            first = _timed(at)
        uncached = statistics.median(_uncached(at) for _ in range(3))
        warm = statistics.median(_timed(at) for _ in range(repeats))
        assert not at.exception, f"{page}: {at.exception}"
        out[page] = (first, uncached, warm)
    return out


def _uncached(at: object) -> float:
    """A run with Streamlit's memory caches (read cache, figures) empty, as in a new server process."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    return _timed(at)


def _timed(at: object) -> float:
    started = time.perf_counter()
    at.run()  # type: ignore[attr-defined]
    return time.perf_counter() - started


def server_first_kpi(db: Path) -> tuple[float, float, float]:
    """(seconds from process start to ready, from ready to the Overview's first KPI, peak RSS MiB)."""
    from st_client import open_pages

    from sandbox.server import free_port
    from serve import PRODUCTION_FLAGS

    port = free_port()
    env = {**os.environ, "OPSDASH_DB": str(db), "OPSDASH_INPROCESS_WORKER": "false"}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port",
                             str(port), "--server.address", "127.0.0.1", *PRODUCTION_FLAGS],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        ready = time.perf_counter() - started
        view = open_pages(f"http://127.0.0.1:{port}", 1)[0]
        assert view.exception is None, view.exception
        return ready, view.first_element_s or float("nan"), _peak_rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def wait_ready(url: str, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(url)


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(db: Path, factor: float, repeats: int) -> dict[str, tuple[float, float, float]]:
    if not db.exists():
        fill(db, factor)
    print(f"\nlarge x{factor}: rows {counts(db)}", flush=True)
    runs = script_runs(db, repeats)
    for page, (first, uncached, warm) in runs.items():
        print(f"  {page:20s} first view {first:6.3f} s   uncached {uncached:6.3f} s "
              f"(ratio to {UNCACHED_TARGET}: {uncached / UNCACHED_TARGET:.2f})   warm p50 {warm:6.3f} s "
              f"(ratio to {WARM_TARGET}: {warm / WARM_TARGET:.2f})", flush=True)
    ready, kpi, peak = server_first_kpi(db)
    print(f"  server ready {ready:.2f} s after start; overview first KPI {kpi:.2f} s after ready "
          f"(ratio to {FIRST_KPI_TARGET}: {kpi / FIRST_KPI_TARGET:.2f}); peak memory {peak:.0f} MiB", flush=True)
    return runs


AFTER_SYNC_PAGES = ["pages/overview.py", "pages/invoices.py", "pages/stock.py"]


def after_sync(db: Path, factor: float) -> None:
    """`--after-sync`: the first view of a database nobody has viewed yet (a copy of `db` with no stored figure),
    without and then with the worker's pass after a sync (jobs/worker.py `refresh_figures`: it builds the pages'
    default views when nobody read a figure lately, figures/page_summaries.py `default_views`)."""
    import shutil
    import sqlite3

    if not db.exists():
        fill(db, factor)
    print(f"\nlarge x{factor}: rows {counts(db)}", flush=True)
    for primed in (False, True):
        copy = Path(tempfile.mkdtemp()) / db.name
        shutil.copyfile(db, copy)
        with sqlite3.connect(copy) as conn:
            conn.execute("DELETE FROM figures")  # nobody has viewed it yet
            conn.execute("DELETE FROM figure_worker")
        if primed:
            from jobs.worker import refresh_figures
            from store.db import connect

            conn2 = connect(copy)
            started = time.perf_counter()
            built = refresh_figures(conn2)
            conn2.execute("DELETE FROM figure_worker")  # no live worker: served only because they are current
            conn2.close()
            print(f"  worker pass after the sync: {built} figures built in {time.perf_counter() - started:.2f} s")
        first = first_views(copy)
        print(f"  {'after the worker pass' if primed else 'no figure stored    '}: " +
              "   ".join(f"{Path(p).stem} {s:.2f} s" for p, s in first.items()), flush=True)
        shutil.rmtree(copy.parent)


def first_views(db: Path) -> dict[str, float]:
    """page -> seconds of its first run in a new session (Streamlit's memory caches empty)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["OPSDASH_DB"] = str(db)
    os.environ["OPSDASH_INPROCESS_WORKER"] = "false"
    from services.settings import get_settings

    get_settings.cache_clear()
    out = {}
    for page in AFTER_SYNC_PAGES:
        st.cache_data.clear()
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
        at.switch_page(page)
        out[page] = _timed(at)
        assert not at.exception, f"{page}: {at.exception}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factors", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--db-dir", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--after-sync", action="store_true",
                        help="only the first views of the Overview, Invoices and Stock on a database nobody viewed, "
                             "without and with the worker's pass after a sync")
    args = parser.parse_args()
    folder = args.db_dir or Path(tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    if args.after_sync:
        for f in args.factors:
            after_sync(folder / f"large_x{f}.db", f)
        return
    results = {f: measure(folder / f"large_x{f}.db", f, args.repeats) for f in args.factors}
    low, high = min(results), max(results)
    if low != high:
        print(f"\nflatness, x{high} / x{low} (target <= {FLAT_TARGET}):")
        for page in PAGES:
            (_, u_lo, w_lo), (_, u_hi, w_hi) = results[low][page], results[high][page]
            print(f"  {page:20s} uncached {u_hi / u_lo:.2f}   warm {w_hi / w_lo:.2f}")


if __name__ == "__main__":
    main()
