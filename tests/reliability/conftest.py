"""Reliability suite: the sandbox on loopback, real HTTP, real processes where a crash is the point.

Bounded: every wait polls with a deadline, every loop has a count, the whole suite runs in well under
three minutes on two cores. Helpers shared by the modules live here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.context import SandboxConfig
from sandbox.server import client_env
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[2]



# Columns that record when we read a row, not what the vendor said: two equal syncs differ in them.
VOLATILE = frozenset({"synced_at", "first_seen_at", "last_seen_at", "gone_from_vendor_at", "raw", "checked_at",
                      "last_checked_at", "not_fulfilled_seen_at"})

def settings_for(config: SandboxConfig, db_path: Path | str, **extra: Any) -> Settings:
    env = {k.lower(): v for k, v in client_env(config).items()}
    return Settings(**env, opsdash_db=db_path, **extra)


def env_for(config: SandboxConfig | None, db_path: Path | str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QARGO_", "QUADERNO_", "QASIDA_", "CARGOBASE_",
                                                                      "OPSDASH_"))}
    return {**env, **(client_env(config) if config else {}), "OPSDASH_DB": str(db_path),
            "OPSDASH_INPROCESS_WORKER": "false", "PYTHONPATH": str(ROOT), **extra}


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@pytest.fixture
def processes() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start Python processes (`-c CODE` or `-m MODULE ...`); each is killed by its pid at teardown."""
    started: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
