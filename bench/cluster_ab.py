"""Figures 8 and 9 of bench/bench_cluster.py, which need no team: the SQLite path A/B (bench_webhooks and
bench_pages, A = a commit before PostgreSQL) and bench_sync on a PostgreSQL of its own.

Each figure returns its verdict line and whether it passed; bench_cluster.py prints and tallies them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cluster_env import Cluster

# --- 8: the SQLite path, A/B ------------------------------------------------------------------------------

SQLITE_A = "22df1b7^1"  # main just before PostgreSQL (issue 20) was merged
BENCH_DB = Path("/work/benchdb/dbs/large_x0.5.db")  # filled once; copied, never written


def bench_out(tree: Path, script: str, *args: str, timeout: float = 1800) -> str:
    done = subprocess.run([sys.executable, f"bench/{script}", *args], check=False, cwd=tree, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": str(tree)})
    if done.returncode != 0:
        raise RuntimeError(f"{tree}: {script} {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
    return done.stdout


def page_times(out: str) -> tuple[float, float]:
    """bench_pages' output: the sums over pages of the uncached run and the warm p50."""
    import re

    rows = re.findall(r"uncached\s+([\d.]+) s .*warm p50\s+([\d.]+) s", out)
    return sum(float(u) for u, _ in rows), sum(float(w) for _, w in rows)


def figure_8(c: Cluster | None, args: argparse.Namespace) -> tuple[str, bool]:
    """bench_webhooks (2,000 events), A, B, A, B, and bench_pages at 0.5x (3 repeats, a fresh copy of the filled
    database each run), A, B three times; A = `--sqlite-a` exported with git archive, B = this tree. Pages compare
    the median over runs of each run's sum over pages: a page's uncached run is 10-90 ms, and one run's sum moves by
    20-30 % between runs of the same tree (the better of two runs per side gave B/A from 0.79 to 1.19 on one day,
    while the page scripts' CPU per run, profiled, was equal)."""
    import re
    import shutil
    import statistics
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-cluster-ab-") as tmp:
        a_tree = Path(tmp) / "a"
        a_tree.mkdir()
        archive = subprocess.run(["git", "archive", args.sqlite_a], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(a_tree)], input=archive.stdout, check=True)
        trees = {"A": a_tree, "B": ROOT}
        print(f"    A = {args.sqlite_a} (git archive), B = {ROOT}; per side: python bench/bench_webhooks.py; "
              f"python bench/bench_pages.py --factors 0.5 --repeats 3 --db-dir COPY (of {BENCH_DB})", flush=True)
        rates: dict[str, list[float]] = {"A": [], "B": []}
        for side in ("A", "B", "A", "B"):
            out = bench_out(trees[side], "bench_webhooks.py")
            rates[side].append(float(re.search(r"= (\d+) events/s", out).group(1)))  # type: ignore[union-attr]
        runs: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
        for n, side in enumerate(("A", "B") * 3):
            copy = Path(tmp) / f"pages-{n}"
            copy.mkdir()
            shutil.copy(BENCH_DB, copy / BENCH_DB.name)
            runs[side].append(page_times(bench_out(trees[side], "bench_pages.py", "--factors", "0.5", "--repeats",
                                                   "3", "--db-dir", str(copy))))
            shutil.rmtree(copy)
    pages = {side: (statistics.median(r[0] for r in got), statistics.median(r[1] for r in got))
             for side, got in runs.items()}
    hook = statistics.median(rates["B"]) / statistics.median(rates["A"])
    uncached, warm = pages["B"][0] / pages["A"][0], pages["B"][1] / pages["A"][1]
    ok = hook >= 0.9 and uncached <= 1.1 and warm <= 1.1
    return (f"SQLite, A = {args.sqlite_a} (before PostgreSQL) vs B = now: bench_webhooks {rates['A']} vs "
            f"{rates['B']} events/s (B/A {hook:.2f}, bound >= 0.90); bench_pages 0.5x (A, B x3; the median run "
            f"of each side) sum over pages uncached {pages['A'][0]:.2f} vs {pages['B'][0]:.2f} s (B/A "
            f"{uncached:.2f}), warm p50 {pages['A'][1]:.2f} vs {pages['B'][1]:.2f} s (B/A {warm:.2f}) "
            f"(bound <= 1.10)"), ok


# --- 9: bench_sync --vendors qasida on PostgreSQL ----------------------------------------------------------

def figure_9(c: Cluster | None, args: argparse.Namespace) -> tuple[str, bool]:
    """bench_sync as it is (large x1, documented limits, in-process sandbox), into an empty PostgreSQL database
    of a throwaway cluster of its own (figure 9 needs no team)."""
    import re

    from tests import pgcluster

    with pgcluster.cluster() as admin:
        pgcluster.admin_execute(admin, "CREATE DATABASE sync")
        out = bench_out(ROOT, "bench_sync.py", "--vendors", "qasida", "--db", pgcluster.database_url(admin, "sync"))
    found = re.search(r"([\d,]+) records in ([\d.]+) s: ([\d,]+) records/s", out)
    if found is None:
        raise RuntimeError(f"bench_sync printed no rate: {out[-400:]}")
    rate = int(found.group(3).replace(",", ""))
    return (f"bench_sync --vendors qasida on PostgreSQL: {found.group(1)} records in {found.group(2)} s = "
            f"{rate:,} records/s (bound >= 5,000)"), rate >= 5_000
