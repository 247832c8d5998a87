"""Shared fixtures: sandboxes on 127.0.0.1 served from a background thread; a migrated temporary database per
test and the sandbox data set synced once (the store, figures, sync, webhooks, jobs, alerts and exports tests).

`--db=postgresql` (or OPSDASH_TEST_DB=postgresql) runs the database fixtures on PostgreSQL (issue 20): one
throwaway cluster per session (tests/pgcluster.py), a migrated template database, and a fresh database per test
copied from it (`CREATE DATABASE ... TEMPLATE`, ~20 ms). `db_path` is then a `postgresql://` URL."""

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
from tests import pgcluster
from tests.synced_data import SyncedTemplate, build


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=("sqlite", "postgresql"), default=os.environ.get("OPSDASH_TEST_DB", "sqlite"),
                     help="the database the database fixtures use (default: OPSDASH_TEST_DB, else sqlite)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`@pytest.mark.sqlite_only("why")`: a test of SQLite's own machinery (rowid, STRICT, file locks) is skipped
    on PostgreSQL, saying why."""
    if config.getoption("--db") != "postgresql":
        return
    for item in items:
        if (mark := item.get_closest_marker("sqlite_only")) is not None:
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {mark.args[0] if mark.args else ''}"))


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def on_postgres(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--db") == "postgresql")


@pytest.fixture(scope="session")
def pg_cluster(on_postgres: bool) -> Iterator[str]:
    """The session's PostgreSQL cluster (superuser URL); skips when the binaries are missing."""
    if not pgcluster.available():
        pytest.skip(f"PostgreSQL binaries not found in {pgcluster.BIN}")
    with pgcluster.cluster() as url:
        yield url


_TEMPLATE = "opsdash_template"
_NUMBERS = itertools.count(1)


@pytest.fixture(scope="session")
def pg_template(pg_cluster: str) -> str:
    """A migrated database every test's database is copied from; returns the cluster's superuser URL."""
    pgcluster.admin_execute(pg_cluster, f"CREATE DATABASE {_TEMPLATE}")
    db = connect(pgcluster.database_url(pg_cluster, _TEMPLATE))
    migrate(db)
    db.close()
    return pg_cluster


@contextlib.contextmanager
def fresh_pg_database(admin_url: str) -> Iterator[str]:
    """A new migrated database (a copy of the template); dropped afterwards, its connections ended."""
    name = f"test_{os.getpid()}_{next(_NUMBERS)}"
    pgcluster.admin_execute(admin_url, f"CREATE DATABASE {name} TEMPLATE {_TEMPLATE}")
    try:
        yield pgcluster.database_url(admin_url, name)
    finally:
        pgcluster.admin_execute(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh migrated PostgreSQL database for this test, whatever --db says (the PostgreSQL-only tests)."""
    with fresh_pg_database(pg_template) as url:
        yield url

StartSandbox = Callable[..., SandboxConfig]


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
def db_path(tmp_path: Path, request: pytest.FixtureRequest, on_postgres: bool) -> Iterator[Path | str]:
    """A migrated database: a SQLite file, or with --db=postgresql a fresh PostgreSQL database's URL."""
    if on_postgres:
        with fresh_pg_database(request.getfixturevalue("pg_template")) as url:
            yield url
        return
    path = tmp_path / "cache.db"
    db = connect(path)
    migrate(db)
    db.close()
    yield path


@pytest.fixture
def db(db_path: Path | str) -> Iterator[Database]:
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
