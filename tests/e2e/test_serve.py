"""`opsdash serve` as a real deployment runs it: a separately started sandbox stands in for the vendors,
`opsdash sandbox --print-env` gives the settings, and serve's worker, webhook routes and pages do the rest."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import free_port
from tests.conftest import NewOpsdashDb
from tests.e2e.conftest import ROOT, rows, wait_for

pytestmark = pytest.mark.e2e


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, start_new_session=True,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, new_opsdash_db: NewOpsdashDb) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("serve")
    port, sandbox_port = free_port(), free_port()
    db = new_opsdash_db(tmp / "team.db")
    env = {**os.environ, "OPSDASH_WEBHOOK_USER": "team", "OPSDASH_WEBHOOK_PASSWORD": "e2e-serve-password",
           "OPSDASH_DB": db}
    sandbox_args = ["sandbox", "--port", str(sandbox_port), "--relax-limits", "--tick-seconds", "1",
                    "--upwell-webhook-url", f"http://127.0.0.1:{port}/webhooks/upwell",
                    "--qargo-webhook-url", f"http://127.0.0.1:{port}/webhooks/qargo"]
    printed = subprocess.run([sys.executable, "-m", "cli", *sandbox_args, "--print-env"], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True, timeout=60).stdout
    serve_env = env | dict(line.split("=", 1) for line in printed.splitlines() if "=" in line)
    sandbox = _start(sandbox_args, env, tmp / "sandbox.log")
    server = _start(["serve", "--port", str(port)], serve_env, tmp / "serve.log")
    try:
        wait_for(f"http://127.0.0.1:{sandbox_port}/_admin/health", 30, sandbox)
        wait_for(f"http://127.0.0.1:{port}/_stcore/health", 90, server)
        yield f"http://127.0.0.1:{port}", db
    finally:
        _stop(server)
        _stop(sandbox)


def _counts(db: str) -> dict[str, int]:
    synced = rows(db, "SELECT count(*) FROM sync_runs WHERE status = 'ok'")[0][0]
    orders = rows(db, "SELECT count(*) FROM qargo_orders")[0][0]
    pushed = rows(db, "SELECT count(*) FROM webhook_events WHERE source = 'upwell' AND outcome = 'accepted'")[0][0]
    return {"sync_runs_ok": synced, "qargo_orders": orders, "upwell_events": pushed}


def test_data_arrives_through_the_worker_and_the_webhook_routes(served: tuple[str, str]) -> None:
    _, db = served
    deadline, counts = time.monotonic() + 120, {}
    while time.monotonic() < deadline:
        with contextlib.suppress(sqlite3.OperationalError):  # tables appear with the first migration (a file)
            counts = _counts(db)
            if all(counts.values()):
                break
        time.sleep(0.5)
    assert all(counts.values()), counts


def test_the_overview_renders_its_kpis_from_stored_figures(served: tuple[str, str], page) -> None:  # type: ignore[no-untyped-def]
    url, db = served
    page.goto(url)
    page.locator("[data-testid='stMetric']").first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    # the page's figures were kept for every viewer
    assert rows(db, "SELECT count(*) FROM figures WHERE name LIKE 'figures.page_summaries.%'")[0][0] > 0


def test_the_webhook_routes_answer_on_the_dashboards_port_and_want_credentials(served: tuple[str, str]) -> None:
    import httpx

    url, _ = served
    assert httpx.get(url, timeout=10).status_code == 200
    assert httpx.post(f"{url}/webhooks/upwell", json={}, timeout=10).status_code == 401
