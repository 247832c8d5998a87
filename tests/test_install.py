"""An install that works anywhere (issue 19): the project built as a wheel and installed (not editable) into a
fresh virtualenv, every command run from an unrelated folder. With --db=postgresql (issue 20) every command's
OPSDASH_DB is a PostgreSQL URL (a database of the session's cluster, `new_opsdash_db`), the demo's too.

The new virtualenv gets the third-party dependencies of the running one through a `.pth` line naming its
site-packages (no download; a `.pth` line adds the folder without running the `.pth` files in it, so the
checkout's editable install is not carried over), and the project from a wheel built by `pip wheel` exactly as
`pip install .` builds it (in an isolated build environment: setuptools>=68 comes from the index or pip's
cache, as for the README's own install). The test first proves the checkout is not importable there. Servers listen on
127.0.0.1, are polled with a deadline and stopped by process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bench.st_client import open_page  # a headless Streamlit websocket client
from services.core.postgres import is_url
from store.db import connect
from tests.conftest import NewOpsdashDb

ROOT = Path(__file__).resolve().parents[1]
SETTING_PREFIXES = ("QARGO_", "QUADERNO_", "QASIDA_", "CARGOBASE_", "UPWELL_", "OPSDASH_", "STREAMLIT_")
NOISE = "No runtime found"

pytestmark = pytest.mark.install  # part of the normal suite (about 70 s on 2 cores); `-m "not install"` skips it


@dataclass
class Installed:
    bin: Path  # the new virtualenv's bin/
    site: Path  # its site-packages
    cwd: Path  # an unrelated working folder
    env: dict[str, str]
    outputs: list[str]  # everything the commands printed, checked for noise at the end
    new_db: NewOpsdashDb  # OPSDASH_DB for a command: a file here, or a PostgreSQL database

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(self.bin / "opsdash"), *args], cwd=self.cwd, env=env or self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)
        self.outputs.append(done.stdout + done.stderr)
        return done

    def start(self, *args: str, env: dict[str, str] | None = None, log: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([str(self.bin / "opsdash"), *args], cwd=self.cwd, env=env or self.env,
                                stdout=(self.cwd / log).open("wb"), stderr=subprocess.STDOUT,
                                start_new_session=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_ok(url: str, process: subprocess.Popen[bytes], seconds: float, log: Path) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}:\n{log.read_text()[-3000:]}"
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {seconds} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, new_opsdash_db: NewOpsdashDb) -> Iterator[Installed]:
    tmp = tmp_path_factory.mktemp("install")
    wheels = tmp / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, f"could not build the wheel:\n{built.stdout}\n{built.stderr}"
    (wheel,) = wheels.glob("opsdash-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "deps-of-the-test-runner.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                           "--no-index", str(wheel)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"could not install the wheel:\n{done.stdout}\n{done.stderr}"
    cwd = tmp / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES) and k != "PYTHONPATH"}
    env |= {"HOME": str(tmp / "home"), "XDG_DATA_HOME": str(tmp / "data-home"),
            "OPSDASH_DB": new_opsdash_db(cwd / "ops.db")}
    yield Installed(venv / "bin", site, cwd, env, [], new_opsdash_db)


def test_the_checkout_is_not_what_runs(installed: Installed) -> None:
    rooms = "app, cli, dashboard, serve, ui, pages, actions, jobs, alerts, exports, sync, webhooks, figures, store"
    probe = (f"import {rooms}\n"
             f"for m in ({rooms}): print(m.__file__ or list(m.__path__)[0])")
    done = subprocess.run([str(installed.bin / "python"), "-c", probe], cwd=installed.cwd, env=installed.env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    for path in done.stdout.split():
        assert Path(path).is_relative_to(installed.site), path
    assert (installed.site / "ui" / "streamlit-config.toml").is_file()
    assert not (installed.site / "ui" / "streamlit-config.toml").is_symlink()


def test_help_runs_anywhere(installed: Installed) -> None:
    done = installed.run("--help")
    assert done.returncode == 0, done.stderr
    assert "opsdash" in done.stdout and "ARCHITECTURE.md" not in done.stdout


@pytest.fixture(scope="module")
def sandbox(installed: Installed) -> Iterator[dict[str, str]]:
    """`opsdash sandbox` from the install; its `--print-env` settings merged into the environment. A quarter of
    the small world (still ~20 open invoices): the sync and the worker pass keep the vendors' rate limits, and
    what is proven here is that the commands run from the install, not how much they pull."""
    port = _free_port()
    args = ["sandbox", "--port", str(port), "--relax-limits", "--tick-seconds", "0", "--factor", "0.25"]
    printed = installed.run(*args, "--print-env")
    assert printed.returncode == 0, printed.stderr
    env = installed.env | dict(line.split("=", 1) for line in printed.stdout.splitlines() if "=" in line)
    process = installed.start(*args, log="sandbox.log")
    try:
        _wait_ok(f"http://127.0.0.1:{port}/_admin/health", process, 60, installed.cwd / "sandbox.log")
        yield env
    finally:
        _stop(process)


def test_sync_export_and_a_worker_pass(installed: Installed, sandbox: dict[str, str]) -> None:
    synced = installed.run("sync", "qargo", "quaderno", env=sandbox)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert "resources synced" in synced.stdout
    exported = installed.run("export", "invoices_outstanding", "--format", "csv", "--output", "open.csv",
                             env=sandbox)
    assert exported.returncode == 0, exported.stderr
    lines = (installed.cwd / "open.csv").read_text().splitlines()
    assert len(lines) > 1 and f"{len(lines) - 1} rows of invoices_outstanding exported" in exported.stderr
    worker_env = sandbox | {"OPSDASH_DB": installed.new_db(installed.cwd / "worker.db")}
    worker = installed.run("worker", "--once", env=worker_env)
    assert worker.returncode == 0, worker.stdout + worker.stderr
    ran = re.search(r"opsdash worker: one pass, (\d+) jobs run", worker.stdout)
    assert ran and int(ran[1]) >= 4, worker.stdout  # a sync job per due resource of the four pull vendors
    exported = installed.run("export", "invoices_outstanding", "--format", "csv", "--output", "-", env=worker_env)
    assert exported.returncode == 0 and len(exported.stdout.splitlines()) > 1, exported.stderr


def test_the_webhook_receiver_answers(installed: Installed) -> None:
    port = _free_port()
    env = installed.env | {"OPSDASH_WEBHOOK_USER": "team", "OPSDASH_WEBHOOK_PASSWORD": "install-test-password"}
    process = installed.start("webhooks", "--port", str(port), env=env, log="webhooks.log")
    url = f"http://127.0.0.1:{port}/webhooks/upwell"
    try:
        deadline, answer = time.monotonic() + 60, None
        while answer is None and time.monotonic() < deadline:
            assert process.poll() is None, (installed.cwd / "webhooks.log").read_text()
            with contextlib.suppress(httpx.TransportError):
                answer = httpx.post(url, json={}, auth=("team", "install-test-password"), timeout=5)
            time.sleep(0.1 if answer is None else 0)
        assert answer is not None and answer.status_code == 400 and answer.json()["error"] == "invalid event"
        assert httpx.post(url, json={}, auth=("team", "wrong"), timeout=5).status_code == 401
    finally:
        _stop(process)
    installed.outputs.append((installed.cwd / "webhooks.log").read_text())


def test_serve_and_demo_serve_the_dashboard(installed: Installed, sandbox: dict[str, str]) -> None:
    port = _free_port()
    env = sandbox | {"OPSDASH_WEBHOOK_USER": "team", "OPSDASH_WEBHOOK_PASSWORD": "install-test-password",
                     "OPSDASH_DB": installed.new_db(installed.cwd / "serve.db")}
    server = installed.start("serve", "--port", str(port), env=env, log="serve.log")
    try:
        _wait_ok(f"http://127.0.0.1:{port}/_stcore/health", server, 90, installed.cwd / "serve.log")
        assert "<html" in httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text.lower()
        # the pages run from the install (ui/, pages/ beside app.py), over Streamlit's websocket
        for page in ("", "orders"):
            view = asyncio.run(open_page(f"http://127.0.0.1:{port}", page, timeout=60))
            assert view.exception is None and view.elements > 3, (page, view)
    finally:
        _stop(server)
    installed.outputs.append((installed.cwd / "serve.log").read_text())

    port, sandbox_port = _free_port(), _free_port()
    env = {k: v for k, v in installed.env.items() if k != "OPSDASH_DB"}  # the demo's default database
    if is_url(installed.env["OPSDASH_DB"]):  # on PostgreSQL: a database of its own, named by URL
        env["OPSDASH_DB"] = installed.new_db(installed.cwd / "demo.db")
    demo = installed.start("demo", "--port", str(port), "--sandbox-port", str(sandbox_port), env=env, log="demo.log")
    try:
        _wait_ok(f"http://127.0.0.1:{port}/_stcore/health", demo, 90, installed.cwd / "demo.log")
        _wait_ok(f"http://127.0.0.1:{sandbox_port}/_admin/health", demo, 30, installed.cwd / "demo.log")
    finally:
        _stop(demo)
    log = (installed.cwd / "demo.log").read_text()
    installed.outputs.append(log)
    if "OPSDASH_DB" in env:  # PostgreSQL: the demo's data is there, its saved world in the per-user data folder
        assert f"database {env['OPSDASH_DB']})" in log
        with contextlib.closing(connect(env["OPSDASH_DB"])) as db:
            assert db.execute("SELECT count(*) FROM reorder_levels").fetchone()[0] > 0  # the demo's planning sheet
        world = f"postgresql-127.0.0.1-{env['OPSDASH_DB'].rsplit(':', 1)[1].replace('/', '-')}.sandbox.json"
        assert {p.name for p in (Path(env["XDG_DATA_HOME"]) / "opsdash").iterdir()} <= {world}  # no demo.db
    else:
        database = Path(env["XDG_DATA_HOME"]) / "opsdash" / "demo.db"
        assert database.is_file() and str(database) in log
    assert not list(installed.site.rglob("*.db")), "the demo wrote a database inside site-packages"


def test_no_command_printed_noise_or_a_traceback(installed: Installed) -> None:
    """Runs last in this file: everything the commands above printed."""
    assert len(installed.outputs) >= 8
    printed = "\n".join(installed.outputs)
    assert NOISE not in printed
    assert "Traceback" not in printed
