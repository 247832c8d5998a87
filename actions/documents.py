"""Qargo order documents (CMR, POD, invoices...): a job fetches the file, the Orders page offers it.

Pages never call a vendor while rendering (ARCHITECTURE.md), so "Download" first queues a
"fetch_document" job; the worker downloads the file from Qargo (`GET /v1/documents/document/{id}/download`,
services/qargo/resources.py) and keeps it next to the database, in `<db name>-documents/` (mode 0600),
named by the document id. A document already fetched is offered at once, without a new call.

Any role that may read the dashboard may fetch a document (reading, not changing, anything at Qargo);
every fetch is in the audit log.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
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

KIND = "fetch_document"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class StoredDocument:
    document_id: str
    file_name: str
    path: Path

    def content(self) -> bytes:
        return self.path.read_bytes()


def folder(db_path: str | os.PathLike[str]) -> Path:
    path = Path(db_path)
    return path.with_name(f"{path.stem}-documents")


def _file(db_path: str | os.PathLike[str], document_id: str) -> Path:
    return folder(db_path) / (_SAFE.sub("_", document_id) or "document")


def document_row(db: Database, document_id: str) -> dict[str, Any] | None:
    cursor = db.conn.execute("SELECT document_id, order_id, document_type, file_name FROM qargo_documents "
                             "WHERE document_id = ?", [document_id])
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row, strict=True)) if row else None


def stored(db_path: str | os.PathLike[str], document_id: str, file_name: str | None = None) -> StoredDocument | None:
    """The fetched file, when the worker has it."""
    path = _file(db_path, document_id)
    return StoredDocument(document_id, file_name or f"{document_id}.pdf", path) if path.is_file() else None


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
    """Download the document from Qargo into the documents folder; returns its size and file name."""
    document_id = str(job.payload["document_id"])
    own = client is None
    client = client or make_client(settings, "qargo")
    try:
        content = download_document(client, document_id)
    finally:
        if own:
            client.close()
    target = _file(settings.opsdash_db, document_id)
    _write_private(target, content)
    row = document_row(db, document_id) or {}
    audit.record(db, job.requested_by or "unknown", "qargo.download_document", f"document {document_id}",
                 {"document_id": document_id}, f"fetched {len(content)} bytes",
                 f"GET /v1/documents/document/{document_id}/download")
    return {"document_id": document_id, "bytes": len(content), "file_name": row.get("file_name")}


def _write_private(target: Path, content: bytes) -> None:
    """Write via a temporary name and rename (no half file), readable by this user only."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(content)
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
