"""Document download: a job fetches a Qargo document into the documents folder; the page then offers it."""

from __future__ import annotations

import stat
from functools import partial

import pytest
from sqlite_utils import Database

from actions import documents
from actions.inline import run_inline
from actions.orders import Polling
from services.clients import make_client
from services.qargo.resources import download_document, order_documents
from services.settings import Settings
from store import audit
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
    assert documents.stored(settings.opsdash_db, document_id) is None
    job_id = documents.request_document(db, VIEWER, document_id)  # reading: a viewer may fetch it
    assert documents.request_document(db, VIEWER, document_id) == job_id  # a double click: the same job
    before = count_requests("qargo")
    job = run_inline(db, job_id, partial(documents.fetch, db, settings))
    assert job.status == "done" and job.result["bytes"] == len(expected) > 0
    assert count_requests("qargo") > before
    found = documents.stored(settings.opsdash_db, document_id, "cmr.pdf")
    assert found is not None and found.content() == expected and found.file_name == "cmr.pdf"
    assert stat.S_IMODE(found.path.stat().st_mode) == 0o600
    assert [e.result for e in audit.search(db, action="qargo.download_document")] == [f"fetched {len(expected)} bytes"]


def test_an_unknown_document_is_refused_before_any_call(
        db: Database, settings: Settings, count_requests: CountRequests) -> None:
    with pytest.raises(ValueError, match="not in the cache"):
        documents.request_document(db, OPERATOR, "no-such-document")
    assert count_requests("qargo") == 0
