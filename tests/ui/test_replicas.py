"""Replicas stay fresh (issue 20): two dashboard replicas (ui/versioned.py's reading path, tests/ui/replica.py, each
a process of its own), a worker (`opsdash worker`) and a webhook receiver (`opsdash webhooks`) on one database. A
delivery to the receiver shows on each replica within the figures' staleness bound (15 s), equal to a recount.

No LISTEN/NOTIFY: every rerun asks the shared database for the stored figure's stamp (its row in `figures` and the
`data_versions` counters) and Streamlit's memory holds values under that stamp, so a replica never shows an older
figure than the shared row; the worker's refresher (any worker) rewrites the row within its pass. On SQLite the
same path runs over one file (replicas on one host); with --db=postgresql over one PostgreSQL database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from figures import kpis
from sandbox.server import free_port
from store.db import utcnow
from store.schema import session
from tests.webhooks.test_webhooks import AUTH, post, upwell_event

ROOT = Path(__file__).resolve().parents[2]
STALENESS_S = 15.0  # figures/stored.py LIVE_WITHIN; docs/performance.md "Staleness"
START_S = 60.0  # four Python processes importing and migrating, on a loaded 2-core machine


def _env(db_path: Path | str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QARGO_", "QUADERNO_", "QASIDA_", "CARGOBASE_",
                                                                      "UPWELL_", "OPSDASH_"))}
    return {**env, "OPSDASH_DB": str(db_path), "OPSDASH_TIMEZONE": "UTC", "OPSDASH_INPROCESS_WORKER": "false",
            "OPSDASH_WEBHOOK_USER": AUTH[0], "OPSDASH_WEBHOOK_PASSWORD": AUTH[1], "PYTHONPATH": str(ROOT)}


@pytest.fixture
def cluster(db_path: Path | str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Replicas A and B, one worker, one receiver; each process killed by its pid at the end."""
    env, port = _env(db_path), free_port()
    commands = {"worker": ["-m", "cli", "worker"], "receiver": ["-m", "cli", "webhooks", "--port", str(port)],
                "A": ["-m", "tests.ui.replica", str(tmp_path / "A.json")],
                "B": ["-m", "tests.ui.replica", str(tmp_path / "B.json")]}
    started = {name: subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                      stderr=open(tmp_path / f"{name}.log", "wb"))  # noqa: SIM115 - closed below
               for name, args in commands.items()}
    try:
        yield {"url": f"http://127.0.0.1:{port}", "dir": tmp_path, "db": db_path, "processes": started}
    finally:
        for proc in started.values():
            proc.kill()
            proc.wait(timeout=10)
            if proc.stderr:
                proc.stderr.close()


def wait_for(check: Any, timeout: float, what: str, processes: dict[str, subprocess.Popen[bytes]]) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        dead = [name for name, proc in processes.items() if proc.poll() is not None]
        if dead or time.monotonic() > deadline:
            raise AssertionError(f"waiting for {what}: " + (f"{dead} exited" if dead else f"{timeout:.0f} s passed"))
        time.sleep(0.05)


def shown(folder: Path, replica: str) -> dict[str, Any] | None:
    try:
        return dict(json.loads((folder / f"{replica}.json").read_text()))
    except FileNotFoundError:
        return None


def worker_live(db_path: Path | str) -> bool:
    try:
        with session(db_path) as db:
            row = db.execute("SELECT beat_at FROM figure_worker WHERE id = 1").fetchone()
    except Exception:  # noqa: BLE001 - not migrated yet by the processes starting
        return False
    return row is not None


def recount(db_path: Path | str) -> dict[str, str]:
    """The payables outstanding counted now from the rows (the figure's one SQL, figures/kpis.py), not stored."""
    with session(db_path) as db:
        return {c: str(a) for c, a in kpis.outstanding(db, utcnow(), "payable", {}).outstanding.items()}


def delivered_then_shown(cluster: dict[str, Any], replica: str, event: dict[str, Any],
                         expected: dict[str, str]) -> float:
    """Seconds from the receiver's 200 until `replica` shows `expected` (failing after STALENESS_S)."""
    answer = post(cluster["url"], "upwell", event)
    assert answer.status_code == 200 and answer.json() == {"outcome": "accepted"}, answer.text
    stored_at = time.monotonic()
    wait_for(lambda: (shown(cluster["dir"], replica) or {}).get("outstanding") == expected, STALENESS_S,
             f"replica {replica} to show {expected}", cluster["processes"])
    return time.monotonic() - stored_at


def test_a_webhook_through_the_receiver_shows_on_the_other_replicas_within_the_bound(cluster) -> None:
    folder, procs = cluster["dir"], cluster["processes"]
    wait_for(lambda: all((shown(folder, r) or {}).get("outstanding") == {} for r in "AB"), START_S,
             "both replicas showing no payables", procs)
    wait_for(lambda: worker_live(cluster["db"]), START_S, "the worker's first beat", procs)
    wait_for(lambda: _up(cluster), START_S, "the receiver", procs)

    # one carrier invoice of 2,507.41 EUR (balance 250741 minor units), then paid down to 1,000.00 EUR
    first = delivered_then_shown(cluster, "B", upwell_event("e-1"), {"EUR": "2507.41"})
    assert recount(cluster["db"]) == {"EUR": "2507.41"}
    second = delivered_then_shown(cluster, "A", upwell_event("e-2", op="UPDATE", updated="2026-11-20T12:00:00",
                                                             balance=100000), {"EUR": "1000.00"})
    assert recount(cluster["db"]) == {"EUR": "1000.00"}
    wait_for(lambda: (shown(folder, "B") or {}).get("outstanding") == {"EUR": "1000.00"}, STALENESS_S,
             "replica B to show the payment too", procs)
    assert Decimal(shown(folder, "B")["outstanding"]["EUR"]) == Decimal("1000.00")  # type: ignore[index]
    print(f"lag through the receiver: {first:.2f} s (replica B), {second:.2f} s (replica A); "
          f"a warm rerun's check {shown(folder, 'B')['rerun_ms']} ms")  # type: ignore[index]


def _up(cluster: dict[str, Any]) -> bool:
    try:
        httpx.get(cluster["url"] + "/webhooks/upwell", timeout=1)
    except httpx.TransportError:
        return False
    return True
