"""Document download: a job fetches a Qargo document into the database; the page then offers it."""

from __future__ import annotations

import contextlib
from functools import partial
from pathlib import Path

import pytest
from sqlite_utils import Database

from actions import documents
from actions.inline import run_inline
from actions.orders import Polling
from services.clients import make_client
from services.qargo.resources import download_document, order_documents
from services.settings import Settings
from store import audit
from store.db import connect
from store.migrations import MIGRATIONS
from store.schema import migrate
from tests.actions.conftest import OPERATOR, VIEWER, CountRequests
from tests.actions.test_charges import an_order


def a_document(db: Database, settings: Settings, polling: Polling) -> tuple[str, bytes]:
    order_id = an_order(db, settings, polling)
    with make_client(settings, "qargo") as client:
        document = order_documents(client, order_id)[0]
        content = download_document(client, str(document.id))
    db["qargo_documents"].insert({"document_id": str(document.id), "order_id": order_id, "document_type": "CMR",
                                  "file_name": "cmr.pdf", "synced_at": "2026-01-01T00:00:00Z"})
    return str(document.id), content


def test_a_job_fetches_the_document_and_keeps_it_private(
        db: Database, settings: Settings, fast_polling: Polling, count_requests: CountRequests) -> None:
    document_id, expected = a_document(db, settings, fast_polling)
    assert documents.stored(db, document_id) is None
    job_id = documents.request_document(db, VIEWER, document_id)  # reading: a viewer may fetch it
    assert documents.request_document(db, VIEWER, document_id) == job_id  # a double click: the same job
    before = count_requests("qargo")
    job = run_inline(db, job_id, partial(documents.fetch, db, settings))
    assert job.status == "done" and job.result["bytes"] == len(expected) > 0
    assert count_requests("qargo") > before
    found = documents.stored(db, document_id, "cmr.pdf")
    assert found is not None and found.content == expected and found.file_name == "cmr.pdf"
    with contextlib.closing(connect(settings.opsdash_db)) as other:  # another process (a dashboard elsewhere) sees the same file
        assert documents.stored(other, document_id) == documents.StoredDocument(document_id, f"{document_id}.pdf",
                                                                                expected)
    assert [e.result for e in audit.search(db, action="qargo.download_document")] == [f"fetched {len(expected)} bytes"]


def test_an_unknown_document_is_refused_before_any_call(
        db: Database, settings: Settings, count_requests: CountRequests) -> None:
    with pytest.raises(ValueError, match="not in the cache"):
        documents.request_document(db, OPERATOR, "no-such-document")
    assert count_requests("qargo") == 0


@pytest.mark.sqlite_only("the documents folder existed beside SQLite files only")
def test_the_migration_reads_in_the_documents_fetched_before_it(tmp_path: Path) -> None:
    folder = tmp_path / "old-documents"  # where a worker kept them before migration 0031: `<db name>-documents`
    folder.mkdir()
    (folder / "D-1").write_bytes(b"%PDF-1.4 one")
    (folder / "D-2.part").write_bytes(b"half")  # a download cut off: never a document
    db = connect(tmp_path / "old.db")
    try:
        MIGRATIONS.apply(db, stop_before="0031_document_files")
        assert "0031_document_files" in migrate(db)
        assert documents.stored(db, "D-1") == documents.StoredDocument("D-1", "D-1.pdf", b"%PDF-1.4 one")
        assert documents.stored(db, "D-2") is None and documents.stored(db, "D-2.part") is None
    finally:
        db.close()
