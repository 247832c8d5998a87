"""Fixtures for the cache tests: a migrated temporary database per test; the sandbox data set synced once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from cache.db import connect
from cache.schema import migrate
from sandbox.context import Limits, SandboxConfig
from sandbox.server import running
from services.settings import get_settings
from tests.cache.synced_data import SyncedTemplate, build

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
    """The sandbox's data synced once per session into a file tests copy (tests/cache/synced_data.py)."""
    path = tmp_path_factory.mktemp("synced") / "template.db"
    with pytest.MonkeyPatch.context() as patch, running(SandboxConfig(limits=Limits.relaxed())) as sandbox:
        patch.setenv("OPSDASH_TIMEZONE", "UTC")
        get_settings.cache_clear()
        try:
            template = build(path, sandbox, datetime.now(UTC))
        finally:
            get_settings.cache_clear()
    yield template
