"""Qargo order documents (CMR, POD, invoices...): a job fetches the file, the Orders page offers it.

Pages never call a vendor while rendering (ARCHITECTURE.md), so "Download" first queues a
"fetch_document" job; the worker downloads the file from Qargo (`GET /v1/documents/document/{id}/download`,
services/qargo/resources.py) and keeps it in the database (`qargo_document_files`, migration 0031), so every
dashboard sees what any worker fetched, also on another machine. A document already fetched is offered at once,
without a new call.

Any role that may read the dashboard may fetch a document (reading, not changing, anything at Qargo);
every fetch is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from actions.roles import Actor, require
from jobs import jobs
from jobs.worker import Worker, handler
from services.clients import make_client
from services.core import VendorClient
from services.qargo.resources import download_document
from services.settings import Settings
from store import audit
from store.db import iso, transaction, utcnow

KIND = "fetch_document"


@dataclass(frozen=True)
class StoredDocument:
    document_id: str
    file_name: str
    content: bytes


def document_row(db: Database, document_id: str) -> dict[str, Any] | None:
    cursor = db.conn.execute("SELECT document_id, order_id, document_type, file_name FROM qargo_documents "
                             "WHERE document_id = ?", [document_id])
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row, strict=True)) if row else None


def stored(db: Database, document_id: str, file_name: str | None = None) -> StoredDocument | None:
    """The fetched file, once a worker has it."""
    row = db.conn.execute("SELECT content FROM qargo_document_files WHERE document_id = ?", [document_id]).fetchone()
    return StoredDocument(document_id, file_name or f"{document_id}.pdf", bytes(row[0])) if row else None


def keep(db: Database, document_id: str, content: bytes) -> None:
    """Store a fetched file (a fetch again replaces it), in one statement: never half a file."""
    with transaction(db):
        db.conn.execute(
            "INSERT INTO qargo_document_files (document_id, content, fetched_at) VALUES (?, ?, ?) "
            "ON CONFLICT (document_id) DO UPDATE SET content = excluded.content, fetched_at = excluded.fetched_at",
            [document_id, content, iso(utcnow())])


def request_document(db: Database, actor: Actor, document_id: str) -> int:
    """Queue the fetch of one cached Qargo document; the same document still pending returns the same job."""
    require(actor, "viewer", "downloading documents")
    row = document_row(db, document_id)
    if row is None:
        raise ValueError(f"document {document_id} is not in the cache: refresh Qargo on Sync & health")
    job_id = jobs.enqueue(db, KIND, {"document_id": document_id, "order_id": row["order_id"]}, actor.name,
                          dedupe_key=f"{KIND}:{document_id}")
    audit.record(db, actor.name, "qargo.download_document.queue", f"document {document_id}",
                 {"document_id": document_id}, f"queued (job {job_id})")
    return job_id


@handler(KIND)
def _fetch_job(worker: Worker, db: Database, job: jobs.Job) -> dict[str, Any]:
    return fetch(db, worker.settings, job)


def fetch(db: Database, settings: Settings, job: jobs.Job, client: VendorClient | None = None) -> dict[str, Any]:
    """Download the document from Qargo into the database; returns its size and file name."""
    document_id = str(job.payload["document_id"])
    own = client is None
    client = client or make_client(settings, "qargo")
    try:
        content = download_document(client, document_id)
    finally:
        if own:
            client.close()
    keep(db, document_id, content)
    row = document_row(db, document_id) or {}
    audit.record(db, job.requested_by or "unknown", "qargo.download_document", f"document {document_id}",
                 {"document_id": document_id}, f"fetched {len(content)} bytes",
                 f"GET /v1/documents/document/{document_id}/download")
    return {"document_id": document_id, "bytes": len(content), "file_name": row.get("file_name")}
