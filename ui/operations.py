"""Glue for the action forms: run an action as the current actor, explain refusals, follow its job.

Every action goes through `attempt`: it opens one connection, calls the action function (which checks the
role itself), clears the read cache, and turns the known failures into a message saying what to do, so a
page never shows a traceback. Nothing is retried here: the job queue and the vendor clients do that.

Session-state keys owned here: `PENDING` and `JOB` prefixed by the form's key ("upload", "taxids"):
`{key}.pending` holds the validated rows awaiting confirmation, `{key}.job` the submitted job's id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import streamlit as st
from sqlite_utils import Database

from actions import orders
from actions.order_file import (
    FileRejected,
    ParsedBatch,
    RowError,
    detect_format,
    parse_orders,
    validate_row,
)
from actions.roles import PermissionDenied
from cache import audit
from cache.schema import session
from services.core import VendorError
from ui import auth, data

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
    except VendorError as exc:
        st.error(f"The vendor call failed: {exc}", icon=":material/cloud_off:")
        return None
    except ValueError as exc:
        st.error(f"Nothing was sent: {exc}", icon=":material/error:")
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
    """Parse an uploaded batch; a refused file comes back as one file-level error."""
    try:
        return parse_orders(content, detect_format(name))
    except FileRejected as exc:
        return ParsedBatch(errors=[RowError(None, None, str(exc))])


def error_rows(errors: Sequence[RowError]) -> list[dict[str, Any]]:
    return [{"row": "file" if e.row is None else e.row, "field": e.field or "", "problem": e.message}
            for e in errors]


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


def show_job(label: str, job: Any) -> None:
    """A progress bar while queued/running, the outcome in words when finished."""
    if job is None:
        st.warning(f"{label}: the job is gone from the queue.")
        return
    if job.status not in FINAL_JOB:
        fraction = min(1.0, job.done / job.total) if job.total else 0.0
        st.progress(fraction, text=f"{label} (job {job.job_id}): {job.status}"
                    + (f" — {job.message}" if job.message else ""))
    elif job.status == "done":
        st.success(f"{label} (job {job.job_id}) finished: {job.message or 'done'}.", icon=":material/check:")
    else:
        st.error(f"{label} (job {job.job_id}) {job.status}: {job.error or job.message or ''}",
                 icon=":material/error:")


def audit_entries(db: Database, **query: Any) -> list[dict[str, Any]]:
    return [vars(e) for e in audit.search(db, **query)]
