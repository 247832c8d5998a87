"""The webhook receiver when PostgreSQL goes away and comes back (issue 20): deliveries meanwhile are answered 503
with Retry-After (the sender retries; nothing half-stored), and the first delivery after the restart is stored, on
the receiver's kept connection reopened. A cluster of its own: this test stops and starts it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from sandbox.server import free_port, serving
from services.settings import Settings
from store.db import connect
from tests import pgcluster
from tests.webhooks.test_webhooks import AUTH, post, upwell_event
from webhooks.webhooks import webhook_app


@pytest.fixture
def own_cluster() -> Iterator[str]:
    if not pgcluster.available():
        pytest.skip(f"PostgreSQL binaries not found in {pgcluster.BIN}")
    with pgcluster.cluster() as admin:
        pgcluster.migrated_database(admin, "hooks")
        yield admin


def test_a_restart_is_a_503_with_retry_after_then_deliveries_are_stored_again(own_cluster: str) -> None:
    url = pgcluster.database_url(own_cluster, "hooks")
    settings = Settings(opsdash_db=url, opsdash_webhook_user=AUTH[0], opsdash_webhook_password=SecretStr(AUTH[1]))
    with serving(webhook_app(settings), "127.0.0.1", free_port()) as receiver:
        assert post(receiver, "upwell", upwell_event("before")).json() == {"outcome": "accepted"}
        pgcluster.stop(own_cluster)
        try:
            refused = post(receiver, "upwell", upwell_event("during", updated="2026-11-20T11:00:00"))
        finally:
            pgcluster.start(own_cluster)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        after = [post(receiver, "upwell", upwell_event("during", updated="2026-11-20T11:00:00")) for _ in range(3)]
    assert [r.json()["outcome"] for r in after] == ["accepted", "duplicate", "duplicate"]
    db = connect(url)
    try:
        events = db.execute("SELECT event_id, outcome, deliveries FROM webhook_events ORDER BY id").fetchall()
        assert [tuple(e) for e in events] == [("before", "accepted", 1), ("during", "accepted", 3)]
    finally:
        db.close()
