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


def test_an_order_is_named_by_its_number_not_its_uuid(seeded_db: Path) -> None:
    """Issue 21: the audit log says which order, in the words staff use; the id stays in the export."""
    order_id = "0b9c2f4e-5d6a-4b7c-8d9e-0f1a2b3c4d5e"
    db = connect(seeded_db)
    db["qargo_orders"].insert({"order_id": order_id, "order_identifier": "TMS-SO-0000391", "synced_at": "2026-12-01"})
    audit.record(db, "carol", "qargo.approve_charges", order_id, {"charges": []}, "approved 1")
    db.close()
    at = run_page("pages/audit.py", before={"audit.actor": "carol"})
    assert list(at.dataframe[0].value["target"]) == ["order TMS-SO-0000391"]


def test_a_document_is_named_by_its_order_inside_a_longer_target(seeded_db: Path) -> None:
    """"document <id>" reads "document of order TMS-…" (a UUID inside a target, not only a whole one: the
    browser tour on PostgreSQL found the document download's entry raw)."""
    order_id, document_id = "0b9c2f4e-5d6a-4b7c-8d9e-0f1a2b3c4d5e", "1c9f0d98-0785-4f25-bc64-7cff8950d64f"
    db = connect(seeded_db)
    db["qargo_orders"].insert({"order_id": order_id, "order_identifier": "TMS-SO-0000391", "synced_at": "2026-12-01"})
    db["qargo_documents"].insert({"document_id": document_id, "order_id": order_id, "synced_at": "2026-12-01"})
    audit.record(db, "erin", "qargo.download_document", f"document {document_id}", {}, "fetched 593 bytes")
    db.close()
    at = run_page("pages/audit.py", before={"audit.actor": "erin"})
    assert list(at.dataframe[0].value["target"]) == ["document of order TMS-SO-0000391"]


def test_actions_on_opsdash_itself_are_named_in_words(seeded_db: Path) -> None:
    """Issue 21: "Reorder levels · Edit", never the code name `reorder_levels` (found by the browser tour)."""
    db = connect(seeded_db)
    audit.record(db, "dave", "reorder_levels.edit", "stock page", {"levels": []}, "0 levels kept")
    audit.record(db, "dave", "lead_times.edit", "stock page", {"rows": []}, "1 lead time kept")
    db.close()
    at = run_page("pages/audit.py", before={"audit.actor": "dave"})
    assert sorted(at.dataframe[0].value["what"]) == ["Lead times · Edit", "Reorder levels · Edit"]
