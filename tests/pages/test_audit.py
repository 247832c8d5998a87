"""The audit page: search by actor/action, export offered, nothing else leaks (digests only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import audit
from store.db import connect
from tests.pages.conftest import run_page


@pytest.fixture
def audited(seeded_db: Path) -> Path:
    db = connect(seeded_db)
    audit.record(db, "alice", "quaderno.validate_tax_id", "DE 811907980", {"tax_id": "secret"}, "valid")
    audit.record(db, "bob", "qargo.upload_orders.queue", "job 1", {"orders": []}, "queued 1 orders")
    db.close()
    return seeded_db


def test_search_by_actor_shows_only_that_actors_entries(audited: Path) -> None:
    at = run_page("pages/audit.py", before={"audit.actor": "alice"})
    assert not at.exception
    rows = at.dataframe[0].value
    assert list(rows["actor"]) == ["alice"] and list(rows["result"]) == ["Valid"]
    assert "secret" not in rows.to_string()  # only the payload's digest is kept
    assert at.selectbox(key="audit.format").options == ["CSV", "XLSX", "Parquet", "JSON"]


def test_no_match_is_explained(audited: Path) -> None:
    at = run_page("pages/audit.py", before={"audit.action": "nothing.like.this"})
    assert "No audit entries match" in at.info[0].value


def test_only_admins_see_which_settings_are_set(audited: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not run_page("pages/audit.py").expander
    monkeypatch.setenv("OPSDASH_LOCAL_ROLE", "admin")
    at = run_page("pages/audit.py")
    settings = at.dataframe[-1].value
    assert bool(settings.set[settings.setting == "QARGO_BASE_URL"].iloc[0]) is True
    assert "127.0.0.1" not in settings.to_string()  # never the values
