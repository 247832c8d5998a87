"""Benchmarks that tell the truth (issue 19): every bench answers `--help`, and runs to its end at its smallest
size (seven crashed on `--help`, taking it for a size).

The smallest sizes say nothing about the targets (a bench may exit 1 for a missed target at toy size, which is
its honest answer); what is checked is that each one runs its whole path and prints its figures, without a
traceback, in about 40 s of wall time for all of them on 2 cores (two at a time). Run from another folder, as
the README says (`python bench/bench_x.py`).
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHES = sorted(p.name for p in (ROOT / "bench").glob("bench_*.py"))

# bench -> (its smallest arguments, a line fragment its figures print); {db} is a folder shared in order by
# bench_pages (fills large_x0.01.db), bench_keyed and bench_concurrency (read it)
SMALLEST: dict[str, tuple[list[str], str]] = {
    "bench_alerts.py": (["--invoices", "50"], "first evaluation"),
    "bench_chaos.py": (["100", "2", "--flood-deliveries", "30", "--flooders", "2"], "absorbed: up to"),
    "bench_export.py": (["300"], "parquet"),
    "bench_hostile.py": (["bodies"], "upwell createdAt"),
    "bench_qargo_status.py": (["3"], "429 answers"),
    "bench_quaderno_paging.py": (["100"], "429 answers"),
    "bench_resync.py": (["--scale", "small", "--factor", "0.01", "--open-hours", "0"], "incremental vendors:"),
    "bench_sync.py": (["--quaderno-pages", "1", "--factor", "0.01"], "cargobase"),
    "bench_sync_priming.py": (["0.01", "none"], "x0.01 none: sync"),
    "bench_taxids.py": (["5"], "calls saved by the offline check"),
    "bench_upsert.py": (["500"], "update: 500 rows"),
    "bench_webhooks.py": (["30", "2"], "stored once: 30 accepted events"),
    "bench_pages.py": (["--db-dir", "{db}", "--factors", "0.01", "--repeats", "1"], "overview first KPI"),
    "bench_keyed.py": (["--db-dir", "{db}", "--factors", "0.01", "--repeats", "1"], "refresh after one write alone"),
    "bench_concurrency.py": (["--db", "{db}/large_x0.01.db", "--sessions", "2", "--rounds", "1"], "round 1:"),
}
IN_ORDER = ("bench_pages.py", "bench_keyed.py", "bench_concurrency.py")
# too dear for a run here (a PostgreSQL, HAProxy and nine processes; minutes): `--help` only
HELP_ONLY = ("bench_cluster.py",)


def _run(name: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "bench" / name), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=240, check=False)


def test_every_bench_has_a_smallest_run() -> None:
    missing = sorted(set(BENCHES) - set(SMALLEST) - set(HELP_ONLY))
    assert missing == [], f"a new bench needs argparse (--help) and its smallest arguments in SMALLEST: {missing}"
    assert sorted([*SMALLEST, *HELP_ONLY]) == BENCHES


def test_every_bench_answers_help(tmp_path: Path) -> None:
    with ThreadPoolExecutor(2) as pool:
        answers = dict(zip(BENCHES, pool.map(lambda name: _run(name, ["--help"], tmp_path), BENCHES), strict=True))
    failed = {name: done.stdout + done.stderr for name, done in answers.items()
              if done.returncode != 0 or not done.stdout.startswith("usage:") or "Traceback" in done.stderr}
    assert not failed, failed
    assert all("options:" in done.stdout for done in answers.values())


def test_every_bench_runs_at_its_smallest_size(tmp_path: Path) -> None:
    db = tmp_path / "pages"
    db.mkdir()

    def run(names: tuple[str, ...]) -> list[tuple[str, subprocess.CompletedProcess[str]]]:
        out = []
        for name in names:
            args = [a.replace("{db}", str(db)) for a in SMALLEST[name][0]]
            out.append((name, _run(name, args, tmp_path)))
        return out

    jobs = [IN_ORDER, *((n,) for n in BENCHES if n not in IN_ORDER and n in SMALLEST)]
    with ThreadPoolExecutor(2) as pool:
        results = [r for batch in pool.map(run, jobs) for r in batch]
    failed = []
    for name, done in results:  # a bench missing from SMALLEST fails test_every_bench_has_a_smallest_run
        printed = done.stdout + done.stderr
        # 0, or 1 for a target missed at toy size; an uncaught exception also exits 1, hence the traceback check
        if done.returncode not in (0, 1) or "Traceback" in printed or SMALLEST[name][1] not in printed:
            failed.append(f"{name} (exit {done.returncode}):\n{printed[-2000:]}")
    assert not failed, "\n\n".join(failed)
