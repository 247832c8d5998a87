"""Order upload to Qargo: queue a validated batch as one job, upload each order, poll to a final status.

Why it can be repeated safely: each order's `order_identifier` comes from its business key
(actions.order_file), and Qargo deduplicates on it; an identical resend ends DUPLICATE, never as a
second order (seeds/000 line 392). The job's dedupe key (a digest of the batch) also keeps a double click
from queueing the same batch twice while it runs.

Each order line gets one `order_uploads` row whatever the attempts (keyed by job and line; the row carries
the upload_id of its latest send) and one audit entry when its upload reaches a final status (or could not be
sent). A job taken over after a crash (jobs/jobs.py) polls the uploads its earlier attempt left in flight
instead of sending them again, sends only lines never sent, and sends again a line whose send was cut off
before Qargo's answer was stored (row status SENDING), noting so. Every row write is fenced like progress.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlite_utils import Database

from actions.roles import Actor, require
from jobs import jobs
from jobs.worker import Worker, handler
from services.clients import make_client
from services.core import VendorClient, VendorError
from services.qargo.models import OrderImport
from services.qargo.order_input import Operation, OrderInput
from services.qargo.resources import UPLOAD, upload_order
from services.settings import Settings
from store import audit
from store.changes import note_write
from store.db import iso, transaction, utcnow

log = logging.getLogger("opsdash.actions.orders")

KIND = "upload_orders"
FINAL = frozenset({"COMPLETED", "DUPLICATE", "ERROR", "SKIPPED", "FAILED"})
FAILED = frozenset({"ERROR", "SKIPPED", "FAILED"})  # FAILED: ours, the upload could not even be sent


@dataclass(frozen=True)
class Polling:
    """How the handler waits for Qargo (injectable: tests advance the sandbox clock in `sleep`)."""

    interval: float = 1.0
    timeout: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


# ----------------------------------------------------------------------------- queueing


def submit_upload(db: Database, actor: Actor, orders: Sequence[OrderInput],
                  rows: Sequence[int | None] | None = None) -> int:
    """Queue the batch as one "upload_orders" job; the same batch still pending returns the same job.

    `rows`: each order's row in the user's file (actions/order_file.py numbers them as the spreadsheet does), kept
    with the job so the results name "SO-1001 (row 2)"; None for an order from the form or from Qargo."""
    require(actor, "operator", "uploading orders to Qargo")
    if not orders:
        raise ValueError("no valid orders to upload: fix the errors listed and try again")
    if rows is not None and len(rows) != len(orders):
        raise ValueError(f"{len(rows)} row numbers for {len(orders)} orders: check the file again")
    payloads = [o.payload() for o in orders]
    digest = audit.payload_digest(payloads)
    body: dict[str, Any] = {"orders": payloads} | ({"rows": list(rows)} if rows is not None else {})
    job_id = jobs.enqueue(db, KIND, body, actor.name, dedupe_key=f"{KIND}:{digest}")
    audit.record(db, actor.name, "qargo.upload_orders.queue", f"job {job_id}", payloads,
                 f"queued {len(payloads)} order{'s' if len(payloads) != 1 else ''}")
    return job_id


def submit_change(db: Database, actor: Actor, order: OrderInput, operation: Operation) -> int:
    """UPDATE or DELETE (cancel) one order through the same job path; Qargo matches it by identifier."""
    return submit_upload(db, actor, [order.model_copy(update={"operation": Operation(operation)})])


def update_order(db: Database, actor: Actor, order: OrderInput) -> int:
    return submit_change(db, actor, order, Operation.UPDATE)


def cancel_order(db: Database, actor: Actor, order: OrderInput) -> int:
    """Cancelling twice is not an error at Qargo (seeds/000 line 519); a cancelled order stays cancelled."""
    return submit_change(db, actor, order, Operation.DELETE)


# ----------------------------------------------------------------------------- the job

Pending = dict[str, tuple[int, OrderInput]]  # upload_id -> (line, order), uploads not final yet
SENDING = "SENDING"  # ours: the row is written, the POST may or may not have reached Qargo


@handler(KIND)
def _upload_job(worker: Worker, db: Database, job: jobs.Job) -> dict[str, Any]:
    return run_upload(db, worker.settings, job)


def run_upload(db: Database, settings: Settings, job: jobs.Job, polling: Polling = Polling(),
               client: VendorClient | None = None) -> dict[str, Any]:
    """Send every order line no attempt has sent yet, poll every upload not final (an earlier attempt's
    too) and return a summary of the job's rows: one per order line, whatever the attempts."""
    orders = [OrderInput.model_validate(p) for p in job.payload["orders"]]
    own = client is None
    client = client or make_client(settings, "qargo")
    try:
        pending, unsent = _resume(db, job, orders)
        for line in unsent:
            pending.update(_send(db, client, job, line, orders[line]))
            jobs.progress(db, job.job_id, _final_count(db, job.job_id), len(orders), "sending orders to Qargo",
                          fence=job.fence)
        _poll(db, client, job, pending, len(orders), polling)
    finally:
        if own:
            client.close()
    result = summary(db, job.job_id)
    jobs.progress(db, job.job_id, len(orders) - result["pending"], len(orders), message(result), fence=job.fence)
    return result


def _resume(db: Database, job: jobs.Job, orders: list[OrderInput]) -> tuple[Pending, list[int]]:
    """What earlier attempts left: uploads Qargo accepted but that are not final (polled, not sent again),
    and lines never sent or whose send was cut off before Qargo's answer was stored (sent: safe, below)."""
    rows = {line: (upload_id, status) for line, upload_id, status in db.conn.execute(
        "SELECT line, upload_id, status FROM order_uploads WHERE job_id = ? AND line IS NOT NULL", [job.job_id])}
    pending: Pending = {}
    unsent: list[int] = []
    for line, order in enumerate(orders):
        upload_id, status = rows.get(line, (None, SENDING))
        if status == SENDING:
            unsent.append(line)
        elif status not in FINAL and upload_id is not None:
            pending[upload_id] = (line, order)
    return pending, unsent


def _send(db: Database, client: VendorClient, job: jobs.Job, line: int, order: OrderInput) -> Pending:
    """POST one order line; returns {upload_id: (line, order)} while it is still processing at Qargo.

    The row is written (fenced) before the POST, so a holder that lost the job sends nothing more. A line
    whose earlier send was cut off is sent again: Qargo deduplicates on order_identifier and identical
    repeats are idempotent (seeds/000 line 392), and it cannot be looked up by identifier (line 394)."""
    local = f"local-{job.job_id}-{line}"
    note = _resend_note(db, job, line)
    _record(db, job, line, order, local, SENDING, None, note)  # LeaseLost here: nothing sent
    try:
        answer = upload_order(client, order)
    except VendorError as exc:
        _record(db, job, line, order, local, "FAILED", None, _join(note, str(exc)))
        return {}
    status = str(answer.upload_status)
    _record(db, job, line, order, answer.upload_id, status, answer.order_id, note)
    return {} if status in FINAL else {answer.upload_id: (line, order)}


def _resend_note(db: Database, job: jobs.Job, line: int) -> str | None:
    row = db.conn.execute("SELECT attempt FROM order_uploads WHERE job_id = ? AND line = ? AND status = ?",
                          [job.job_id, line, SENDING]).fetchone()
    if row is None:
        return None
    return (f"sent again: attempt {row[0]} stopped before Qargo's answer was stored (a DUPLICATE here most "
            "likely means that send created the order)")


def _join(*parts: str | None) -> str | None:
    return "; ".join(p for p in parts if p) or None


def _poll(db: Database, client: VendorClient, job: jobs.Job, pending: Pending, total: int,
          polling: Polling) -> None:
    deadline = polling.clock() + polling.timeout
    while pending and polling.clock() < deadline:
        polling.sleep(polling.interval)
        for upload_id, (line, order) in list(pending.items()):
            answer, error = _status(client, upload_id)
            if answer is None or str(answer.upload_status) not in FINAL:
                continue
            status = str(answer.upload_status)
            _record(db, job, line, order, upload_id, status, answer.order_id, error, keep_note=True)
            del pending[upload_id]
            jobs.progress(db, job.job_id, _final_count(db, job.job_id), total,
                          f"{order.order_identifier}: {status}", fence=job.fence)
    for upload_id in pending:  # not final in time: left as is, with a note; the row shows the last status
        _note(db, job, upload_id, f"still processing at Qargo after {polling.timeout:.0f} s; check later")


def _status(client: VendorClient, upload_id: str) -> tuple[OrderImport | None, str | None]:
    """The upload's state and Qargo's error text (ErrorStatus.error_message), None on a passing failure."""
    try:
        body = client.get_json(f"{UPLOAD}/{quote(upload_id, safe='')}")
    except VendorError as exc:  # a blip while polling: try again on the next round
        log.warning("could not read Qargo upload %s: %s", upload_id, exc)
        return None, None
    error = body.get("error") if isinstance(body, dict) else None
    text = error.get("error_message") if isinstance(error, dict) else (str(error) if error else None)
    return OrderImport.model_validate(body), text


# ----------------------------------------------------------------------------- storage


def _record(db: Database, job: jobs.Job, line: int, order: OrderInput, upload_id: str, status: str,
            order_id: str | None, error: str | None, keep_note: bool = False) -> None:
    """Write the line's one row, fenced like progress (`jobs.LeaseLost`, nothing written, when this holder
    lost the job); a final status is audited in the same transaction. `keep_note`: Qargo's error follows
    the row's resend note instead of replacing it."""
    now = iso(utcnow())
    with transaction(db):
        jobs.ensure_held(db, job.job_id, job.fence)
        row = db.conn.execute("SELECT error FROM order_uploads WHERE job_id = ? AND line = ?",
                              [job.job_id, line]).fetchone()
        if row is None:
            db.conn.execute(
                "INSERT INTO order_uploads (upload_id, order_identifier, operation, status, order_id, error, "
                "payload_digest, requested_by, job_id, line, attempt, created_at, updated_at, erp_order_number, "
                "source_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [upload_id, order.order_identifier, str(order.operation), status, order_id, error,
                 audit.payload_digest(order.payload()), job.requested_by, job.job_id, line, job.fence, now, now,
                 erp_order_number(order), source_row(job, line)])
        else:
            text = _join(row[0] if keep_note and row[0] and row[0].startswith("sent again") else None, error)
            db.conn.execute(
                "UPDATE order_uploads SET upload_id = ?, status = ?, order_id = coalesce(?, order_id), error = ?, "
                "attempt = ?, updated_at = ? WHERE job_id = ? AND line = ?",
                [upload_id, status, order_id, text, job.fence, now, job.job_id, line])
        if status in FINAL:
            _audit(db, job, order, status, upload_id, order_id, error)
        if order_id and status in ("COMPLETED", "DUPLICATE"):  # the order keeps the identifier we gave it
            note_write(db, "qargo_orders")
            db.conn.execute("UPDATE qargo_orders SET order_identifier = coalesce(order_identifier, ?) "
                            "WHERE order_id = ?", [order.order_identifier, order_id])


def erp_order_number(order: OrderInput) -> str | None:
    """The order number staff know the order by: the ERP number a file or the form gave it, which
    actions/order_file.py sends as the first consignment's reference (else the customer's reference)."""
    first = order.consignments[0].consignment_reference_number if order.consignments else None
    return first or order.customer_reference_number


def upload_name(upload: dict[str, Any]) -> str | None:
    """"SO-1001 (row 2)": an upload line by the ERP number staff typed or uploaded and its file row."""
    number, row = upload.get("erp_order_number"), upload.get("source_row")
    if not number:
        return None
    return f"{number} (row {row})" if row is not None else str(number)


def source_row(job: jobs.Job, line: int) -> int | None:
    """The line's row in the user's file, when the batch came from one (`submit_upload(rows=...)`)."""
    rows = job.payload.get("rows") or []
    found = rows[line] if 0 <= line < len(rows) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _note(db: Database, job: jobs.Job, upload_id: str, text: str) -> None:
    with transaction(db):
        jobs.ensure_held(db, job.job_id, job.fence)
        db.conn.execute("UPDATE order_uploads SET error = ?, updated_at = ? WHERE upload_id = ?",
                        [text, iso(utcnow()), upload_id])


def _audit(db: Database, job: jobs.Job, order: OrderInput, status: str, upload_id: str,
           order_id: str | None, error: str | None) -> None:
    result = status + (f": {error}" if error else "")
    reference = f"upload {upload_id}" + (f", order {order_id}" if order_id else "")
    audit.record(db, job.requested_by or "unknown", f"qargo.upload_order.{str(order.operation).lower()}",
                 order.order_identifier, order.payload(), result, reference)


def _final_count(db: Database, job_id: int) -> int:
    marks = ", ".join("?" for _ in FINAL)
    row = db.conn.execute(f"SELECT count(*) FROM order_uploads WHERE job_id = ? AND status IN ({marks})",
                          [job_id, *sorted(FINAL)]).fetchone()
    return int(row[0])


def uploads_for_job(db: Database, job_id: int) -> list[dict[str, Any]]:
    """The job's `order_uploads` rows, one per order line in the batch's order (for the page and the CLI)."""
    cursor = db.conn.execute(
        "SELECT upload_id, order_identifier, erp_order_number, source_row, operation, status, order_id, error, "
        "requested_by, job_id, created_at, updated_at FROM order_uploads WHERE job_id = ? "
        "ORDER BY line, created_at, upload_id",  # lines from before 0025 have none: in the order they were sent
        [job_id])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def recent_uploads(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    """The latest order upload lines of every job, newest first (the Upload page's list of what was sent)."""
    cursor = db.conn.execute(
        "SELECT upload_id, order_identifier, erp_order_number, source_row, operation, status, order_id, error, "
        "requested_by, job_id, created_at, updated_at FROM order_uploads "
        "ORDER BY updated_at DESC, created_at DESC, upload_id DESC LIMIT ?", [limit])  # no rowid on PostgreSQL
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def summary(db: Database, job_id: int) -> dict[str, Any]:
    rows = uploads_for_job(db, job_id)
    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
    failed = [{k: r[k] for k in ("order_identifier", "erp_order_number", "source_row", "status", "error")}
              for r in rows if r["status"] in FAILED]
    pending = sum(1 for r in rows if r["status"] not in FINAL)
    resent = sum(1 for r in rows if r["status"] == "DUPLICATE" and (r["error"] or "").startswith("sent again"))
    return {"total": len(rows), "by_status": by_status, "failed": failed, "pending": pending,
            "resent_duplicates": resent}


def message(result: dict[str, Any]) -> str:
    """"2 of 3 orders uploaded, 1 duplicate (already in Qargo, not sent twice)": a duplicate is named as one."""
    duplicates = result["by_status"].get("DUPLICATE", 0)
    ok = result["total"] - len(result["failed"]) - result["pending"] - duplicates
    text = f"{ok} of {result['total']} order{'s' if result['total'] != 1 else ''} uploaded"
    if duplicates:
        text += (f", {duplicates} duplicate{'s' if duplicates != 1 else ''} "
                 "(already in Qargo with the same order identifier: nothing changed)")
    if result.get("resent_duplicates"):  # its first send was cut off by a crash: most likely that send created it
        text += (f" of which {result['resent_duplicates']} sent again after an interrupted send "
                 "(most likely created by that send)")
    if result["failed"]:
        text += f", {len(result['failed'])} failed"
    if result["pending"]:
        text += f", {result['pending']} still processing"
    return text
