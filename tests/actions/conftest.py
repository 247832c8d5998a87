"""Fixtures for the action tests: Settings pointed at the module's relaxed sandbox, a fresh cache per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlite_utils import Database

import actions  # noqa: F401  (registers the job handlers)
from actions.orders import Polling
from actions.roles import Actor
from sandbox.context import SandboxConfig
from sandbox.server import client_env
from services.settings import Settings
from store.db import connect
from store.schema import migrate

OPERATOR = Actor("ops@example.com", "operator")
VIEWER = Actor("viewer@example.com", "viewer")


@pytest.fixture
def settings(relaxed_sandbox: SandboxConfig, db_path: Path | str) -> Settings:
    env = {k.lower(): v for k, v in client_env(relaxed_sandbox).items()}
    return Settings(opsdash_db=db_path, **env)  # a migrated file, or with --db=postgresql a database


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    conn = connect(settings.opsdash_db)
    migrate(conn)
    yield conn
    conn.close()


def requests_to(admin: httpx.Client, vendor: str) -> int:
    """How many requests the sandbox answered for `vendor` since the last stats reset (tokens included)."""
    stats = admin.get(f"/_admin/stats/{vendor}").json()
    return int(stats["requests"]) + int(stats["token_requests"])


@pytest.fixture
def fast_polling(admin: httpx.Client) -> Polling:
    """Polling whose `sleep` moves the sandbox's business clock instead of waiting (uploads settle in 3 s)."""

    def advance(_: float) -> None:
        admin.post("/_admin/clock", json={"advance_seconds": 10})

    return Polling(interval=0.0, timeout=30.0, sleep=advance)


CountRequests = Callable[[str], int]


@pytest.fixture
def count_requests(admin: httpx.Client) -> CountRequests:
    admin.post("/_admin/stats/reset")
    return lambda vendor: requests_to(admin, vendor)
