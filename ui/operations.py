"""Glue for the action forms: run an action as the current actor, explain refusals, follow its job.

Every action goes through `attempt`: it opens one connection, calls the action function (which checks the
role itself), clears the read cache, and turns the known failures into a message saying what to do, so a
page never shows a traceback. Nothing is retried here: the job queue and the vendor clients do that.

Session-state keys owned here: `PENDING` and `JOB` prefixed by the form's key ("upload", "taxids"):
`{key}.pending` holds the validated rows awaiting confirmation, `{key}.job` the submitted job's id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import streamlit as st
from sqlite_utils import Database

from actions import orders
from actions.isolated import TooCostly, run_apart
from actions.order_file import (
    FileRejected,
    ParsedBatch,
    RowError,
    detect_format,
    parse_orders,
    validate_row,
)
from actions.roles import PermissionDenied
from services.core import AuthError, VendorError
from store import audit
from store.schema import session
from ui import auth, data, safe
from ui import format as fmt

T = TypeVar("T")
FINAL_JOB = frozenset({"done", "failed", "error", "cancelled"})


def attempt(action: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """`action(db, actor, *args)`; on refusal or bad input, an error message and None (nothing sent)."""
    try:
        with session(data.db_path()) as db:
            result = action(db, auth.current_actor(), *args, **kwargs)
    except PermissionDenied as exc:
        st.error(f"Not allowed: {exc}.", icon=":material/lock:")
        return None
    except AuthError as exc:  # 401/403: the key or its user's rights; shown on the Vendors page too
        st.error(f"Configuration problem at {exc.vendor}: {safe.text(exc)}. Nothing was stored; see the Vendors "
                 "page.", icon=":material/key_off:")
        return None
    except VendorError as exc:
        st.error(f"The vendor call failed: {safe.text(exc)}", icon=":material/cloud_off:")
        return None
    except ValueError as exc:
        st.error(f"Nothing was sent: {safe.text(exc)}", icon=":material/error:")
        return None
    data.clear()
    return result


def pending(key: str) -> list[Any]:
    return list(st.session_state.get(f"{key}.pending") or [])


def set_pending(key: str, rows: Sequence[Any]) -> None:
    st.session_state[f"{key}.pending"] = list(rows)


def submitted(key: str) -> int | None:
    return st.session_state.get(f"{key}.job")


def set_submitted(key: str, job_id: int | None) -> None:
    st.session_state[f"{key}.job"] = job_id
    if job_id is not None:
        set_pending(key, [])  # the rows are in the job now: the confirm button goes away


# ----------------------------------------------------------------------------- order files


def read_order_file(name: str, content: bytes) -> ParsedBatch:
    """Parse an uploaded batch in its own process (actions/isolated.py: other sessions are not held up, and
    time and memory are capped); a refused file comes back as one file-level error."""
    try:
        return run_apart(parse_orders, content, detect_format(name))
    except FileRejected as exc:
        return ParsedBatch(errors=[RowError(None, None, str(exc))])
    except TooCostly as exc:
        return ParsedBatch(errors=[RowError(None, None, f"the file could not be read: {exc}; split it")])


def error_rows(errors: Sequence[RowError]) -> list[dict[str, Any]]:
    """A batch's problems: the spreadsheet row (header = row 1) and the file's column name."""
    return [{"row": "whole file" if e.row is None else str(e.row), "column": e.field, "problem": e.message}
            for e in errors]


# The one-order form's labels for the template columns its fields fill (pages/upload.py).
FORM_LABELS = {"customer_code": "Customer code", "erp_order_number": "ERP order number",
               "customer_reference": "Customer reference", "transport_service": "Transport service code",
               "goods_product": "Goods", "goods_quantity": "Quantity", "goods_weight_kg": "Weight (kg)",
               "goods_volume_m3": "Volume (m³)", "goods_packaging": "Packaging",
               "planning_instructions": "Planning instructions"}
_STOP_LABELS = {"name": "Name", "address": "Address", "postal_code": "Postal code", "city": "City",
                "country": "Country", "date": "Date", "time_window": "Window"}
FORM_LABELS |= {f"{stop}_{field}": f"{stop.title()} · {label}" for stop in ("pickup", "delivery")
                for field, label in _STOP_LABELS.items()}


def form_errors(errors: Sequence[RowError]) -> list[dict[str, Any]]:
    """The one-order form's problems named by the form's own labels ("Pickup · Address"), no row number."""
    return [{"field": FORM_LABELS.get(e.field or "", fmt.label(e.field)) if e.field else "Order",
             "problem": e.message} for e in errors]


def one_order(fields: Mapping[str, Any], windows: Mapping[str, tuple[Any, Any]]) -> tuple[Any, list[RowError]]:
    """The single-order form's values (template column names) -> (OrderInput | None, errors)."""
    order, errors = validate_row(1, fields)
    if order is None:
        return None, errors
    consignment = order.consignments[0]
    stops = {}
    for prefix, (start, end) in windows.items():
        stop = getattr(consignment, f"{prefix}_stop")
        if start and end and end <= start:
            errors.append(RowError(1, f"{prefix}_time_window", f"ends at {end}, not after its start {start}"))
        elif start or end:
            stops[f"{prefix}_stop"] = stop.model_copy(update={"time_window": {"start_time": start, "end_time": end}})
    if errors:
        return None, errors
    consignment = consignment.model_copy(update=stops)
    return order.model_copy(update={"consignments": [consignment]}), []


# ----------------------------------------------------------------------------- job progress


def job_state(job_id: int) -> tuple[Any, list[dict[str, Any]]]:
    """The job and its order uploads, uncached (progress must see the worker's latest write)."""
    with session(data.db_path()) as db:
        return data.job(job_id), orders.uploads_for_job(db, job_id)


STATUS_WORDS = {"queued": "queued, waiting for the worker", "running": "running", "done": "finished",
                "failed": "failed", "error": "failed", "cancelled": "cancelled"}


def show_job(label: str, job: Any) -> None:
    """A progress bar while queued/running, the outcome in words when finished."""
    if job is None:
        st.warning(f"{label}: the job is gone from the queue.")
        return
    if job.status not in FINAL_JOB:
        fraction = min(1.0, job.done / job.total) if job.total else 0.0
        steps = f" ({fmt.number(job.done)} of {fmt.number(job.total)})" if job.total else ""
        st.progress(fraction, text=f"{label}: {STATUS_WORDS.get(job.status, job.status)}{steps}"
                    + (f" — {safe.text(job.message)}" if job.message else ""))
    elif job.status == "done":
        st.success(f"{label}: finished {fmt.ago(job.finished_at)} — {safe.text(job.message) or 'done'}.",
                   icon=":material/check:")
    else:
        st.error(f"{label}: {STATUS_WORDS.get(job.status, job.status)} — {safe.text(job.error or job.message) or 'no reason given'}",
                 icon=":material/error:")


def actor_name() -> str:
    """Who asks, for the jobs table (the signed-in user, or the local user)."""
    return auth.current_actor().name


def job_rows(items: Sequence[Any]) -> list[dict[str, Any]]:
    """Jobs as readable rows (ids kept in `job` so people can refer to one)."""
    return [{"job": j.job_id, "kind": JOB_KINDS.get(j.kind, fmt.words(j.kind)),
             "vendor": j.payload.get("vendor") if isinstance(j.payload, dict) else None,
             "status": STATUS_WORDS.get(j.status, j.status),
             "progress": f"{fmt.number(j.done)} of {fmt.number(j.total)}" if j.total else None,
             "message": j.message, "error": j.error, "requested_by": j.requested_by, "created_at": j.created_at}
            for j in items]


JOB_KINDS = {"sync": "Sync", "upload_orders": "Order upload", "validate_tax_ids": "Tax-ID validation",
             "fetch_document": "Document download"}


# An upload's orders by the ERP number staff typed or uploaded and the file row (issue 21), never by our identifier's
# hash or Qargo's UUID (both technical: in the CLI's output and the export).
UPLOAD_COLUMNS = ("erp_order_number", "row", "result", "operation", "error", "updated_at")
UPLOAD_RESULTS = {"COMPLETED": "Uploaded", "DUPLICATE": "Duplicate — already in Qargo, nothing changed",
                  "ERROR": "Refused by Qargo", "SKIPPED": "Skipped by Qargo", "FAILED": "Not sent (Qargo unreachable)",
                  "PENDING": "Sent, Qargo is processing", "PROCESSING": "Sent, Qargo is processing"}
OPERATIONS = {"CREATE": "New order", "UPDATE": "Update", "DELETE": "Cancel"}


def upload_rows(uploads: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each order of an upload with its result in words; a duplicate is called a duplicate."""
    return [{"erp_order_number": u.get("erp_order_number") or u["order_identifier"], "row": u.get("source_row"),
             "operation": OPERATIONS.get(u["operation"], u["operation"]),
             "result": UPLOAD_RESULTS.get(u["status"], fmt.words(u["status"])), "qargo_order": u.get("order_id"),
             "error": u.get("error"), "updated_at": u.get("updated_at")} for u in uploads]


RECENT_UPLOAD_COLUMNS = ("erp_order_number", "row", "result", "operation", "requested_by", "updated_at", "upload")


def recent_upload_rows(limit: int = 50) -> list[dict[str, Any]]:
    """The latest uploaded orders by ERP number and file row, each linking to its upload's results (uncached: a
    finished upload shows at once)."""
    with session(data.db_path()) as db:
        uploads = orders.recent_uploads(db, limit)
    return [row | {"requested_by": u.get("requested_by"),
                   "upload": f"/upload?job={u['job_id']}" if u.get("job_id") is not None else None}
            for row, u in zip(upload_rows(uploads), uploads, strict=True)]


def job_from_query(value: Any) -> int | None:
    """`?job=12` from a link (the Orders page links an uploaded order to its upload)."""
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def audit_entries(db: Database, **query: Any) -> list[dict[str, Any]]:
    """The entries, each target in words (issue 21): an order by its number, never its UUID; an uploaded order by
    the ERP number and file row it came from, never our identifier's hash ("OPS-…")."""
    entries = [vars(e) for e in audit.search(db, **query)]
    targets = [str(e.get("target") or "") for e in entries]
    ids = {m.group(0) for t in targets for m in _UUID.finditer(t)}
    names = _order_names(db, sorted(ids)) if ids else {}
    identifiers = {m.group(1) for t in targets for m in _OURS.finditer(t)}
    ours = _upload_names(db, sorted(identifiers)) if identifiers else {}

    def named(target: str) -> str:  # a UUID first: an uploaded order's name may be our identifier
        target = _UUID.sub(lambda m: names.get(m.group(0), m.group(0)), target)
        return _OURS.sub(lambda m: ours.get(m.group(1), m.group(0)), target)

    return [e | {"target": named(str(e["target"])) if e.get("target") else e.get("target")} for e in entries]


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_OURS = re.compile(r"(?:\border )?\b(OPS-[0-9a-f]{16})\b")  # actions/order_file.py `order_identifier`


def _upload_names(db: Database, identifiers: list[str]) -> dict[str, str]:
    """Our order identifier -> "order SO-1001 (row 2)", from its latest upload line that knows the number."""
    marks = ", ".join("?" for _ in identifiers)
    rows = db.conn.execute(
        f"SELECT order_identifier, erp_order_number, source_row FROM order_uploads WHERE order_identifier IN ({marks}) "
        "AND erp_order_number IS NOT NULL ORDER BY created_at, upload_id", identifiers).fetchall()
    return {identifier: f"order {number}" + (f" (row {row})" if row is not None else "")
            for identifier, number, row in rows}  # the latest line wins


def _order_names(db: Database, ids: list[str]) -> dict[str, str]:
    """Qargo order id -> "order TMS-SO-0000391" (its identifier, else the ERP number); a document id -> "of order
    TMS-SO-0000391" (targets read "document <id>")."""
    marks = ", ".join("?" for _ in ids)
    rows = db.conn.execute(
        f"SELECT o.order_id, coalesce(o.order_identifier, o.reference) FROM qargo_orders o WHERE o.order_id IN ({marks}) "
        f"UNION ALL SELECT d.document_id, 'of ' || coalesce(o.order_identifier, o.reference) FROM qargo_documents d "
        f"JOIN qargo_orders o ON o.order_id = d.order_id WHERE d.document_id IN ({marks})", [*ids, *ids]).fetchall()
    return {i: name.replace("of ", "of order ", 1) if name.startswith("of ") else f"order {name}"
            for i, name in rows if name}


# ----------------------------------------------------------------------------- documents


def document_downloads(rows: Sequence[Mapping[str, Any]], key: str) -> None:
    """Each Qargo document of an order with "Get the file" (a job fetches it) and then its download."""
    from actions import documents

    for row in rows:
        document_id = str(row.get("document_id") or "")
        if not document_id:
            continue
        name = row.get("file_name") or f"{document_id}.pdf"
        title, action = st.columns([3, 2], vertical_alignment="center")
        title.markdown(f"**{safe.text(fmt.words(row.get('document_type'))) if row.get('document_type') else 'Document'}**"
                       f" · {safe.text(name)} · {fmt.day(row.get('created_at'))}")  # vendor text made inert
        with action:
            _document_action(documents, document_id, name, f"{key}.{document_id}")


def _document_action(documents: Any, document_id: str, name: str, key: str) -> None:
    with session(data.db_path()) as db:
        found = documents.stored(db, document_id, name)
    if found is not None:
        st.download_button("Download", found.content, file_name=name, key=f"{key}.download", on_click="ignore",
                           icon=":material/download:", mime="application/pdf" if name.endswith(".pdf") else None)
        return
    job_id = st.session_state.get(f"{key}.job")
    if job_id is None:
        if st.button("Get the file from Qargo", key=f"{key}.fetch", icon=":material/cloud_download:"):
            st.session_state[f"{key}.job"] = attempt(documents.request_document, document_id)
            st.rerun()
        return
    job = data.job(job_id)

    @st.fragment(run_every=2 if job is not None and job.status not in FINAL_JOB else None)
    def progress() -> None:
        current = data.job(job_id)
        if current is not None and current.status == "done":
            st.rerun(scope="app")  # the file is there: the download button replaces this
        if current is not None and current.status in FINAL_JOB:
            st.error(f"Qargo did not give the file: {current.error or current.status}", icon=":material/error:")
            st.session_state[f"{key}.job"] = None
        else:
            st.caption("Fetching the file from Qargo…")

    progress()


# ----------------------------------------------------------------------------- order details, readable

_WHOLE_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
APPROVAL_WORDS = {None: "awaiting approval", "": "awaiting approval", "APPROVED": "approved", "REJECTED": "rejected"}


def charge_labels(charges: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Charge id -> "Fuel surcharge · 120.00 EUR · awaiting approval" (a person picks by what it is)."""
    return {str(c["charge_id"]): " · ".join(p for p in (
        safe.text(c.get("description") or "Charge"), fmt.money(c.get("amount"), c.get("currency")),
        APPROVAL_WORDS.get(c.get("approval_status"), fmt.words(c.get("approval_status")).lower())) if p)
        for c in charges}


def stop_rows(stops: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Stops by name and place, numbered in Qargo's order; an id is never the stop's name."""
    out = []
    for number, stop in enumerate(stops, start=1):
        name = stop.get("stop")
        label = f"{number}. {fmt.words(name)}" if name and not _WHOLE_UUID.match(str(name)) else f"Stop {number}"
        out.append({"stop": label, **{k: v for k, v in stop.items() if k != "stop"}})
    return out


def upload_rows_linked(uploads: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """An order's uploads, each linking back to its upload's results (pages/upload.py reads `?job=`)."""
    return [{**{k: v for k, v in u.items() if k != "job_id"},
             "status": UPLOAD_RESULTS.get(u.get("status") or "", fmt.words(u.get("status"))),
             "operation": OPERATIONS.get(u.get("operation") or "", u.get("operation")),
             "upload": f"/upload?job={u['job_id']}" if u.get("job_id") is not None else None} for u in uploads]


def raw_record(record: Mapping[str, Any], title: str = "Raw record (admin)") -> None:
    """The record as the vendor sent it: for admins only, folded away."""
    if auth.can_admin():
        with st.expander(title):
            st.json(dict(record), expanded=False)
