"""A "Refresh now" job records the signed-in user who asked, never a generic "dashboard" (issue 11 point 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs import jobs
from store.db import connect
from tests.pages.conftest import run_page


def test_refresh_now_is_queued_for_the_signed_in_user(seeded_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDASH_LOCAL_USER", "jane.ops@example.com")
    at = run_page("pages/sync.py")
    at.button(key="refresh.quaderno").click().run()
    assert not at.exception
    db = connect(seeded_db)
    try:
        [job] = jobs.recent(db, kinds=["sync"], statuses=["queued"])
    finally:
        db.close()
    assert (job.payload, job.requested_by) == ({"vendor": "quaderno"}, "jane.ops@example.com")
