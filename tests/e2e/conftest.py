"""Browser tests: `opsdash demo` in a subprocess, driven by Debian's chromium through Playwright.

We never run `playwright install` (it downloads a browser): Playwright launches /usr/bin/chromium.
Without chromium the tests skip locally, and fail in CI (CI=true), where `.ci/run` installs it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.server import free_port
from store.db import connect
from tests.conftest import NewOpsdashDb

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class Demo:
    url: str
    sandbox_url: str
    process: subprocess.Popen[bytes]
    db: str  # OPSDASH_DB: a file, or with --db=postgresql a database of the session's cluster
    folder: Path


_NEW_DB: list[NewOpsdashDb] = [str]  # the session's `new_opsdash_db`, set below


@pytest.fixture(scope="session", autouse=True)
def demo_databases(new_opsdash_db: NewOpsdashDb) -> None:
    """`start_demo` gives each demo what `new_opsdash_db` gives (a PostgreSQL database with --db=postgresql)."""
    _NEW_DB[0] = new_opsdash_db


def rows(db: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """A query's rows from a demo's database, whichever database it is."""
    conn = connect(db)
    try:
        return [tuple(row) for row in conn.execute(sql, list(params)).fetchall()]
    finally:
        conn.close()


def wait_for(url: str, deadline_s: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {deadline_s} s")


def start_demo(tmp: Path, env: dict[str, str] | None = None) -> Demo:
    """`env`: extra environment for the demo (e.g. OPSDASH_LOCAL_ROLE=viewer)."""
    port, sandbox_port = free_port(), free_port()
    db = _NEW_DB[0](tmp / "demo.db")
    # the saved world of a demo on PostgreSQL lives in the per-user data folder (cli.py): this test's folder
    env = {**os.environ, "OPSDASH_DB": db, "XDG_DATA_HOME": str(tmp / "data-home"), **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "demo", "--port", str(port), "--sandbox-port", str(sandbox_port)],
        # to a file: a pipe nobody reads fills up, and then every process writing to it stops
        cwd=ROOT, env=env, start_new_session=True, stdout=(tmp / "demo.log").open("wb"), stderr=subprocess.STDOUT,
    )
    demo = Demo(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sandbox_port}", process, db, tmp)
    wait_for(f"{demo.url}/_stcore/health", 90, process)
    wait_for(f"{demo.sandbox_url}/_admin/health", 30, process)
    return demo


def stop_demo(demo: Demo) -> None:
    if demo.process.poll() is None:
        demo.process.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process
        try:
            demo.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(demo.process.pid, signal.SIGKILL)
            demo.process.wait()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    running = start_demo(tmp_path_factory.mktemp("demo"))
    try:
        yield running
    finally:
        stop_demo(running)


@pytest.fixture(scope="module")  # not session: Playwright's sync API keeps an event loop running meanwhile
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run should have installed Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()
