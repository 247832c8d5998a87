"""Shared fixtures: sandboxes on 127.0.0.1 served from a background thread; a migrated temporary database per
test and the sandbox data set synced once (the store, figures, sync, webhooks, jobs, alerts and exports tests)."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlite_utils import Database

from sandbox.context import Limits, SandboxConfig
from sandbox.server import running
from services.settings import get_settings
from store.db import connect
from store.schema import migrate
from tests.synced_data import SyncedTemplate, build

StartSandbox = Callable[..., SandboxConfig]
_DEFAULT_DBS = itertools.count()


@pytest.fixture(scope="session")
def default_db_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("default-db")


@pytest.fixture(autouse=True)
def no_database_in_the_working_directory(default_db_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings made without OPSDASH_DB fall back to `opsdash.db` in the working directory (the checkout):
    give every test that sets none a file of its own instead (with its Qargo token lock beside it), so tests
    neither share a cache, a token or a rate-limit bucket through the checkout nor collide when run in
    parallel. Tests that set OPSDASH_DB (or pass `opsdash_db`) are unaffected."""
    if "OPSDASH_DB" not in os.environ:
        monkeypatch.setenv("OPSDASH_DB", str(default_db_dir / f"test-{next(_DEFAULT_DBS)}.db"))


@pytest.fixture
def start_sandbox() -> Iterator[StartSandbox]:
    """Start sandboxes with any SandboxConfig fields; all stop at teardown.

    `start_sandbox()` has the vendors' documented limits; pass `limits=Limits.relaxed()` for
    tests of other behaviour."""
    with contextlib.ExitStack() as stack:

        def start(**kwargs: Any) -> SandboxConfig:
            return stack.enter_context(running(SandboxConfig(**kwargs)))

        yield start


@pytest.fixture(scope="module")
def relaxed_sandbox() -> Iterator[SandboxConfig]:
    """One sandbox per test module with the rate limits lifted (seed 1, small)."""
    with running(SandboxConfig(limits=Limits.relaxed())) as config:
        yield config


@pytest.fixture
def admin(relaxed_sandbox: SandboxConfig) -> Iterator[httpx.Client]:
    """A client on the relaxed sandbox's admin routes; clears faults and stats after the test."""
    with httpx.Client(base_url=relaxed_sandbox.base_url, timeout=10) as client:
        yield client
        client.delete("/_admin/faults")
        client.post("/_admin/stats/reset")


NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "cache.db"
    db = connect(path)
    migrate(db)
    db.close()
    return path


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    conn = connect(db_path)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def synced_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncedTemplate]:
    """The sandbox's data synced once per session into a file tests copy (tests/synced_data.py)."""
    path = tmp_path_factory.mktemp("synced") / "template.db"
    with pytest.MonkeyPatch.context() as patch, running(SandboxConfig(limits=Limits.relaxed())) as sandbox:
        patch.setenv("OPSDASH_TIMEZONE", "UTC")
        get_settings.cache_clear()
        try:
            template = build(path, sandbox, datetime.now(UTC))
        finally:
            get_settings.cache_clear()
    yield template
