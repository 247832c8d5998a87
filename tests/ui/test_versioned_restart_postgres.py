"""A dashboard when PostgreSQL restarts (issue 20): the reruns after it read the shared database again without a
restart of the dashboard (ui/versioned.py's pooled connections checked as they are handed out: a dropped one is replaced), and show what was
written meanwhile."""

from __future__ import annotations

import json

import pytest

from services.settings import get_settings
from store.schema import session
from tests.pgrestart import Restartable, restartable_fixture  # noqa: F401 - the fixture `restartable`
from tests.webhooks.test_webhooks import upwell_event
from ui import data, versioned
from webhooks.ingest import ingest_upwell


def test_after_a_restart_the_next_rerun_reads_the_database_again(restartable: Restartable,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDASH_DB", restartable.url)
    get_settings.cache_clear()
    try:
        assert data.money_kpis({}, "payable").outstanding == {}
        before = backend(restartable.url)
        restartable.stop()
        restartable.start()
        with session(restartable.url) as db:  # 2,507.41 EUR written while the dashboard's connections are dead
            ingest_upwell(db, json.dumps(upwell_event("e-1")).encode())
        assert {c: str(a) for c, a in data.money_kpis({}, "payable").outstanding.items()} == {"EUR": "2507.41"}
        assert backend(restartable.url) != before  # the dropped connection was replaced, not reused
        assert {c: str(a) for c, a in data.money_kpis({}, "payable").outstanding.items()} == {"EUR": "2507.41"}
    finally:
        get_settings.cache_clear()


def backend(url: str) -> int:
    """The server process of the connection a rerun's checks borrow."""
    with versioned._borrowed(url) as db:
        return int(db.execute("SELECT pg_backend_pid()").fetchone()[0])
