"""Upload orders to Qargo: one order by form, or a batch file; nothing is sent before the user confirms.

The confirmed orders become one queued job (actions.orders.submit_upload): closing the tab loses
nothing, and a double click finds the same job again (its dedupe key is the batch's digest).
"""

from datetime import date

import streamlit as st

from actions import orders
from actions.order_file import FORMATS, template
from services.qargo.order_input import OrderInput
from services.settings import get_settings
from ui import auth, downloads, operations

KEY = "upload"
STOP_FIELDS = (("name", "Name"), ("address", "Address"), ("postal_code", "Postal code"), ("city", "City"),
               ("country", "Country (ISO, e.g. DE)"))

st.title("Upload orders")
st.caption("Orders go to Qargo as one background job: you may close this tab, the job carries on.")
if not auth.may_act():
    auth.viewer_notice("uploading orders")
    st.stop()
if not get_settings().configured("qargo"):
    st.warning("Qargo is not configured (QARGO_BASE_URL, QARGO_CLIENT_ID, QARGO_CLIENT_SECRET): orders can "
               "be checked here, but the upload job will fail until it is.", icon=":material/settings:")


def stop_fields(prefix: str, label: str) -> tuple[dict[str, object], tuple[object, object]]:
    st.markdown(f"**{label}**")
    cols = st.columns(4)
    values: dict[str, object] = {f"{prefix}_{f}": cols[i % 4].text_input(t, key=f"{KEY}.{prefix}_{f}")
                                 for i, (f, t) in enumerate(STOP_FIELDS)}
    values[f"{prefix}_date"] = cols[1].date_input("Date", value=None, key=f"{KEY}.{prefix}_date")
    start = cols[2].time_input("Window from", value=None, key=f"{KEY}.{prefix}_from")
    end = cols[3].time_input("Window to", value=None, key=f"{KEY}.{prefix}_to")
    return values, (start, end)


batch_tab, form_tab = st.tabs(["Batch file", "One order"])
with batch_tab:
    fmt = st.selectbox("Template format", FORMATS, key=f"{KEY}.template_format")
    st.download_button("Download the template", template(fmt), file_name=f"orders-template.{fmt}",
                       key=f"{KEY}.template", on_click="ignore")
    upload = st.file_uploader("Orders file (CSV, XLSX or JSON, at most 5 MB)", type=list(FORMATS),
                              key=f"{KEY}.file")
    if upload is not None and st.button("Check the file", key=f"{KEY}.check"):
        batch = operations.read_order_file(upload.name, upload.getvalue())
        operations.set_pending(KEY, [o.payload() for o in batch.inputs])
        st.session_state[f"{KEY}.errors"] = operations.error_rows(batch.errors)

with form_tab, st.form(f"{KEY}.one"):
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
        operations.set_pending(KEY, [order.payload()] if order else [])
        st.session_state[f"{KEY}.errors"] = operations.error_rows(errors)

errors = st.session_state.get(f"{KEY}.errors") or []
if errors:
    st.error(f"{len(errors)} problems: fix them and check again. Rows without problems can still go.")
    downloads.download(errors, ("row", "field", "problem"), f"{KEY}.errors", label="Download the problems")
    st.dataframe(errors, hide_index=True, key=f"{KEY}.errors.table")
ready = operations.pending(KEY)
if ready:
    st.success(f"{len(ready)} orders are valid and ready. Nothing has been sent yet.")
    if st.button(f"Confirm: upload {len(ready)} orders to Qargo", type="primary", key=f"{KEY}.confirm"):
        inputs = [OrderInput.model_validate(p) for p in ready]
        operations.set_submitted(KEY, operations.attempt(orders.submit_upload, inputs))


@st.fragment(run_every=2)
def progress(job_id: int) -> None:
    job, uploads = operations.job_state(job_id)
    operations.show_job("Order upload", job)
    if uploads:
        st.dataframe(uploads, hide_index=True, key=f"{KEY}.progress.table",
                     column_order=("order_identifier", "operation", "status", "order_id", "error", "updated_at"))


job_id = operations.submitted(KEY)
if job_id is not None:
    progress(job_id)
