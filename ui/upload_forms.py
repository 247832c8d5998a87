"""The Upload page's steps (pages/upload.py is their outline): check a batch file or one order, confirm, follow.

The page always says where the batch is: 1 checked -> 2 confirmed -> 3 sent -> 4 result per order
(a duplicate is named as one). The confirmed orders become one queued job (actions.orders.submit_upload):
closing the tab loses nothing, a double click finds the same job again, and `?job=N` reopens the results
of an upload (the Orders page links here).

Session-state keys owned here: `upload.errors`, `upload.errors_from_form`, `upload.rows` (each checked order's row
in the file, so the results name "SO-1001 (row 2)") (and ui.operations' `upload.pending`, `upload.job`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from actions import orders
from actions.order_file import FORMATS, template
from services.qargo.order_input import OrderInput
from ui import downloads, operations, tables, widgets
from ui import format as fmt

KEY = "upload"
STOP_FIELDS = (("name", "Name"), ("address", "Address"), ("postal_code", "Postal code"), ("city", "City"),
               ("country", "Country (ISO, e.g. DE)"))
STEPS = ("Checked", "Confirmed", "Sent to Qargo", "Result per order")


def stop_fields(prefix: str, label: str) -> tuple[dict[str, object], tuple[object, object]]:
    st.markdown(f"**{label}**")
    cols = st.columns(4)
    values: dict[str, object] = {f"{prefix}_{f}": cols[i % 4].text_input(t, key=f"{KEY}.{prefix}_{f}")
                                 for i, (f, t) in enumerate(STOP_FIELDS)}
    values[f"{prefix}_date"] = cols[1].date_input("Date", value=None, key=f"{KEY}.{prefix}_date")
    start = cols[2].time_input("Window from", value=None, key=f"{KEY}.{prefix}_from")
    end = cols[3].time_input("Window to", value=None, key=f"{KEY}.{prefix}_to")
    return values, (start, end)


def start_over(errors: list[dict[str, object]], pending: list[object], form: bool,
               rows: list[int] | None = None) -> None:
    """A new check replaces the previous one (and forgets a finished upload shown below). `rows`: each pending
    order's row in the file (None for the one-order form)."""
    operations.set_pending(KEY, pending)
    st.session_state[f"{KEY}.rows"] = rows
    st.session_state[f"{KEY}.errors"] = errors
    st.session_state[f"{KEY}.errors_from_form"] = form
    operations.set_submitted(KEY, None)


def stage(job: object | None) -> int:
    """How far the batch is: 0 nothing checked, 1 checked, 2 confirmed (queued), 3 sent, 4 result."""
    if job is not None:
        status = getattr(job, "status", None)
        return 4 if status in operations.FINAL_JOB else (2 if status == "queued" else 3)
    return 1 if operations.pending(KEY) else 0


def steps(current: int) -> None:
    """Where the batch is, as four badges: done (green, ticked), now (blue), still to come (grey)."""
    for col, (number, name) in zip(st.columns(len(STEPS)), enumerate(STEPS, start=1), strict=True):
        if number < current or number == current == len(STEPS):
            col.badge(f"{number} · {name}", icon=":material/check:", color="green")
        elif number == current:
            col.badge(f"{number} · {name}", icon=":material/arrow_forward:", color="blue")
        else:
            col.badge(f"{number} · {name}", color="gray")


def batch_file() -> None:
    fmt = st.selectbox("Template format", FORMATS, key=f"{KEY}.template_format", format_func=str.upper)
    st.download_button("Download the template", template(fmt), file_name=f"orders-template.{fmt}",
                       key=f"{KEY}.template", on_click="ignore")
    upload = st.file_uploader("Orders file (CSV, XLSX or JSON, at most 5 MB)", type=list(FORMATS),
                              key=f"{KEY}.file")
    if upload is not None and st.button("Check the file", key=f"{KEY}.check"):
        batch = operations.read_order_file(upload.name, upload.getvalue())
        start_over(operations.error_rows(batch.errors), [o.payload() for o in batch.inputs], form=False,
                   rows=[o.row for o in batch.orders])


def one_order() -> None:
    with st.form(f"{KEY}.one"):
        top = st.columns(4)
        fields: dict[str, object] = {
            "customer_code": top[0].text_input("Customer code", key=f"{KEY}.customer_code"),
            "erp_order_number": top[1].text_input("ERP order number", key=f"{KEY}.erp_order_number"),
            "customer_reference": top[2].text_input("Customer reference", key=f"{KEY}.customer_reference"),
            "transport_service": top[3].text_input("Transport service code", key=f"{KEY}.transport_service")}
        pickup, pickup_window = stop_fields("pickup", "Pickup")
        delivery, delivery_window = stop_fields("delivery", "Delivery")
        goods = st.columns(4)
        fields |= pickup | delivery | {
            "goods_product": goods[0].text_input("Goods", key=f"{KEY}.goods_product"),
            "goods_quantity": goods[1].text_input("Quantity", key=f"{KEY}.goods_quantity"),
            "goods_weight_kg": goods[2].text_input("Weight (kg)", key=f"{KEY}.goods_weight_kg"),
            "goods_volume_m3": goods[3].text_input("Volume (m³)", key=f"{KEY}.goods_volume_m3")}
        if st.form_submit_button("Check the order"):
            dates = {k: v.isoformat() if isinstance(v, date) else v for k, v in fields.items()}
            order, errors = operations.one_order(dates, {"pickup": pickup_window, "delivery": delivery_window})
            start_over(operations.form_errors(errors), [order.payload()] if order else [], form=True)


def problems(job: Any | None) -> None:
    errors = st.session_state.get(f"{KEY}.errors") or []
    if not errors or job is not None:
        return
    if st.session_state.get(f"{KEY}.errors_from_form"):
        st.error("Fix these fields and check again:\n\n" + "\n".join(f"- **{e['field']}**: {e['problem']}"
                                                                     for e in errors))
    else:
        st.error(f"{len(errors)} problems: fix them in the file and check again. Rows without problems can "
                 "still go. Row numbers are the spreadsheet's (the header is row 1).")
        tables.show(errors, ("row", "column", "problem"), f"{KEY}.errors.table")
        downloads.download(errors, ("row", "column", "problem"), f"{KEY}.errors", label="Download the problems")


def confirm(job: Any | None) -> None:
    ready = operations.pending(KEY)
    if not ready or job is not None:
        return
    valid = f"{fmt.count(len(ready), 'order')} {'is' if len(ready) == 1 else 'are'} valid and ready"
    st.success(f"{valid}. Nothing has been sent yet.", icon=":material/fact_check:")
    if st.button(f"Confirm: upload {fmt.count(len(ready), 'order')} to Qargo", type="primary", key=f"{KEY}.confirm"):
        rows = st.session_state.get(f"{KEY}.rows")
        submitted = operations.attempt(orders.submit_upload, [OrderInput.model_validate(p) for p in ready],
                                       rows=rows if rows and len(rows) == len(ready) else None)
        if submitted is not None:
            operations.set_submitted(KEY, submitted)
            st.rerun()


def results(job_id: int, job: Any | None) -> None:
    running = job is not None and job.status not in operations.FINAL_JOB

    @st.fragment(run_every=widgets.POLL_S if running else None)
    def progress() -> None:
        current, uploads = operations.job_state(job_id)
        operations.show_job("Order upload", current)
        if uploads:
            tables.show(operations.upload_rows(uploads), operations.UPLOAD_COLUMNS, f"{KEY}.progress.table")
        if running and current is not None and current.status in operations.FINAL_JOB:
            st.rerun(scope="app")  # the steps above move to "Result per order"

    progress()


def recent(limit: int = 50) -> None:
    """The latest uploaded orders, by the ERP number typed or uploaded and the file row (issue 21)."""
    st.subheader("Recent uploads")
    rows = operations.recent_upload_rows(limit)
    if not rows:
        st.caption("No orders uploaded yet. Checked orders appear here once they are sent to Qargo.")
        return
    st.caption(f"Orders sent to Qargo, newest first (at most {limit}); open an upload to see all its orders.")
    tables.show(rows, operations.RECENT_UPLOAD_COLUMNS, f"{KEY}.recent.table")
