"""The connections a dashboard holds on PostgreSQL do not grow with its sessions (issue 20): every rerun's checks and
builds borrow from one pool per process (services/core/postgres.py `pooled`, OPSDASH_PG_POOL_SIZE) instead of each
session's script thread opening its own. Measured with 20 sessions on a real server: docs/deploy.md, "Connections".
PostgreSQL only (SQLite's reads use the read-only connections of ui/versioned.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import connect as raw_connect

from services.settings import get_settings
from ui import data, versioned

SESSIONS, RERUNS, POOL = 20, 3, 3


@pytest.fixture
def pg_dashboard(db_path: Path | str, on_postgres: bool, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if not on_postgres:
        pytest.skip("PostgreSQL's connection pool: run with --db=postgresql")
    monkeypatch.setenv("OPSDASH_DB", str(db_path))
    monkeypatch.setenv("OPSDASH_PG_POOL_SIZE", str(POOL))
    get_settings.cache_clear()
    yield str(db_path)
    get_settings.cache_clear()


def test_twenty_sessions_rerunning_share_the_pools_connections(pg_dashboard: str) -> None:
    backends: set[int] = set()
    lock, failures = threading.Lock(), []

    def rerun() -> None:  # Streamlit runs each rerun of each session on a script thread of its own
        try:
            assert data.money_kpis({}, "payable").outstanding == {}
            with versioned._borrowed(pg_dashboard) as db:
                pid = int(db.execute("SELECT pg_backend_pid()").fetchone()[0])
            with lock:
                backends.add(pid)
        except Exception as exc:  # noqa: BLE001 - reported below with the others
            failures.append(exc)

    for _ in range(RERUNS):
        threads = [threading.Thread(target=rerun) for _ in range(SESSIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert failures == []
    assert 1 <= len(backends) <= POOL  # 60 reruns of 20 sessions, at most 3 connections between them
    with raw_connect(pg_dashboard, autocommit=True) as admin:
        (held,) = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'opsdash' "
                                "AND datname = current_database()").fetchone()  # type: ignore[misc]
    assert held <= POOL
