"""The cache file holds the Qargo access token: it and its WAL/SHM are readable by their owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from store.schema import session


def modes(directory: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir()}


def test_a_new_database_and_its_wal_and_shm_are_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with session(tmp_path / "cache.db") as db:
            db.execute("CREATE TABLE t (a)")
            db.execute("INSERT INTO t VALUES (1)")
            found = modes(tmp_path)
    finally:
        os.umask(old)
    assert found == {"cache.db": 0o600, "cache.db-wal": 0o600, "cache.db-shm": 0o600}


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    with session(path):
        pass
    path.chmod(0o644)
    with session(path):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
