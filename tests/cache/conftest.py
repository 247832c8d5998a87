"""Fixtures for the cache tests: a migrated temporary database per test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from cache.db import connect
from cache.schema import migrate

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
