"""Page speed with the sandbox's `large` data set synced: AppTest script-run medians, first browser paint, memory.

    python bench/bench_pages.py                 # sync a large sandbox into a temp db (a few minutes), then measure
    python bench/bench_pages.py --db big.db     # reuse (or create) a synced database

Targets (issue "Dashboard"): every page's script run <= 0.5 s median, the overview's first paint <= 3 s,
peak memory of the dashboard process <= 1 GiB. The sync here uses relaxed limits: it only fills the cache.
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

PAGES = ["pages/overview.py", "pages/orders.py", "pages/invoices.py", "pages/tax.py", "pages/stock.py",
         "pages/sync.py"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def fill(db: Path) -> None:
    from cache.schema import session
    from cache.sync.engine import run_all
    from cache.sync.resources import clients_for, resources_for
    from sandbox.context import Limits, SandboxConfig
    from sandbox.server import client_env, running
    from services.settings import Settings

    with running(SandboxConfig(scale="large", limits=Limits.relaxed())) as config:
        env = {k.lower(): v for k, v in client_env(config).items()}
        settings = Settings(opsdash_db=db, **env)
        vendors = ["qasida", "quaderno", "cargobase"]
        with session(db) as conn:
            started = time.perf_counter()
            results = run_all(conn, clients_for(settings, vendors), resources_for(conn, vendors))
            for r in results:
                print(f"  {r.summary()}")
            print(f"filled {db} in {time.perf_counter() - started:.0f} s")


def counts(db: Path) -> dict[str, int]:
    from cache.schema import session

    with session(db) as conn:
        return {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                for name in ("orders", "invoices_outstanding", "stock_levels")}


def script_runs(db: Path, repeats: int) -> dict[str, tuple[float, float]]:
    from streamlit.testing.v1 import AppTest

    os.environ["OPSDASH_DB"] = str(db)
    os.environ["OPSDASH_INPROCESS_WORKER"] = "false"
    medians = {}
    for page in PAGES:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
        at.run()
        at.switch_page(page)
        times = []
        ui_data_clear()
        for _ in range(repeats):
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
        assert not at.exception, f"{page}: {at.exception}"
        medians[page] = (times[0], statistics.median(times))
    return medians


def ui_data_clear() -> None:
    """Start each page cold: the first run pays for every query, later runs hit the TTL cache."""
    import streamlit as st

    st.cache_data.clear()


def first_paint_and_memory(db: Path) -> tuple[float, float, float]:
    from playwright.sync_api import sync_playwright

    from sandbox.server import free_port

    port = free_port()
    env = {**os.environ, "OPSDASH_DB": str(db), "OPSDASH_INPROCESS_WORKER": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port",
                             str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(f"http://127.0.0.1:{port}/_stcore/health")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            started = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("heading", name="Overview").wait_for(timeout=60_000)
            title = time.perf_counter() - started
            page.locator("[data-testid='stMetric']").first.wait_for(timeout=60_000)
            paint = time.perf_counter() - started
            for name in PAGES[1:]:  # visit every page so the memory figure covers them all
                page.goto(f"http://127.0.0.1:{port}/{Path(name).stem}")
                page.wait_for_timeout(3000)
            browser.close()
        return title, paint, _peak_rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wait(url: str) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    db = args.db or Path(tempfile.mkdtemp()) / "large.db"
    if not db.exists():
        fill(db)
    print("rows:", counts(db))
    for page, (cold, median) in script_runs(db, args.repeats).items():
        print(f"{page:22s} script run median {median:.3f} s  ratio to 0.5 s: {median / 0.5:.2f}  "
              f"(first, uncached run {cold:.3f} s)")
    title, paint, peak = first_paint_and_memory(db)
    print(f"overview first paint (title) {title:.2f} s  ratio to 3 s: {title / 3:.2f}")
    print(f"overview first KPI card {paint:.2f} s  ratio to 3 s: {paint / 3:.2f}  (cold caches)")
    print(f"dashboard peak memory {peak:.0f} MiB  ratio to 1024 MiB: {peak / 1024:.2f}")


if __name__ == "__main__":
    main()
