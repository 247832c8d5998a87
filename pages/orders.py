"""Orders: one row per business order (an ERP customer order with its transport order(s), joined on the
order number), ERP and transport status side by side; select a row for its details and actions."""

import streamlit as st

from ui import auth, data, filters, operations, order_forms, panels, tables, widgets
from ui import details as ui
from ui import orders as lateness

COLUMNS = lateness.COLUMNS  # planned delivery beside the ETA, late and which side, expected late
IDS = ("order_number", "erp_order_id", "transport_order_ids")
SORTS = {"Newest first": "-order_date", "Oldest first": "order_date", "Customer": "customer",
         "Planned delivery": "delivery_date", "ETA": "eta_date", "Order number": "order_number"}

st.title("Orders")
st.caption("Dates come from the sidebar. An ERP order (Qasida) and the transport order(s) carrying it (Qargo) "
           "are one row; orders found on one side only are shown once each. Select a row to open its details.")

status_col, customer_col, reference_col, late_col, sort_col = st.columns(5)
status = status_col.text_input("Transport status contains", key="orders.status")
customer = customer_col.text_input("Customer contains", key="orders.customer")
reference = reference_col.text_input("Order number contains", key="orders.reference")
sort = sort_col.selectbox("Sort", list(SORTS), key="orders.sort")

typed = {"transport_status__contains": status, "customer__contains": customer, "order_number__contains": reference}
query = filters.to_query(filters.current(), "business_orders", date_column="order_date")
query |= {k: v.strip() for k, v in typed.items() if v.strip()} | lateness.lateness_filter(late_col)
lateness.caption()

sources = data.dataset_freshness("business_orders")
widgets.freshness_badges(sources)
page = ui.load_page("business_orders", query, key="orders", order_by=SORTS[sort])
widgets.as_of_caption()
if not page.total:
    widgets.empty_state(sources, filtered=bool(query))
    st.stop()

picked = ui.selectable_table(page, "orders", COLUMNS, IDS, dataset="business_orders", query=query)
if picked is None:
    st.caption("Select a row to see its stops, goods, charges, documents, uploads and status timeline.")
    st.stop()

st.subheader("Order details")
st.text(picked["order_number"] or "(transport order without an order number)")  # vendor text, never markdown
if picked["erp_order_id"]:
    erp = ui.order_details("qasida", picked["erp_order_id"])
    with st.expander("ERP order (Qasida)", expanded=not picked["transport_order_ids"]):
        if erp.order is None:
            st.caption("This ERP order is no longer in the cache.")
        else:
            tables.show_fields(erp.order)  # readable fields; the vendor's JSON only for admins
            operations.raw_record(erp.order, "ERP record as Qasida sent it (admin)")
transports = (picked["transport_order_ids"] or "").split(",") if picked["transport_order_ids"] else []
if not transports:
    st.caption("No transport order in Qargo carries this order number yet.")
    st.stop()
order_id = transports[0] if len(transports) == 1 else st.selectbox("Transport order", transports,
                                                                    key="orders.transport")
details = ui.order_details("qargo", order_id)
if details.order is None:
    st.warning("This transport order is no longer in the cache: the next sync may have removed it.")
    st.stop()

stops, goods, charges, documents, uploads, timeline = st.tabs(
    ["Stops", "Goods", "Charges", "Documents", "Uploads", "Status timeline"])
with stops, panels.guarded("Stops"):
    ui.small_table(operations.stop_rows(details.stops), "orders.stops", "Qargo sent no stops for this order.")
with goods, panels.guarded("Goods"):
    ui.small_table(details.goods, "orders.goods", "Qargo sent no goods for this order.")
with charges, panels.guarded("Charges"):
    ui.small_table(details.charges, "orders.charges", "No charges synced for this order.")
with documents, panels.guarded("Documents"):  # a job fetches the file from Qargo, then it downloads from here
    operations.document_downloads(details.documents, f"orders.documents.{order_id}")
    if not details.documents:
        st.caption("No documents synced for this order.")
with uploads, panels.guarded("Uploads"):
    ui.small_table(operations.upload_rows_linked(details.uploads), "orders.uploads",
                   "This order was never uploaded from opsdash.")
with timeline, panels.guarded("Status timeline"):
    ui.small_table(details.timeline, "orders.timeline",
                   "No status events received yet: they arrive by Qargo's visibility webhook.")

if not auth.may_act():
    st.stop()  # viewers get no action buttons (and the action functions refuse them anyway)
st.subheader("Actions")
change_col, cancel_col, charge_col = st.columns(3)
with panels.guarded("Actions"):
    order_forms.update(change_col, details.order, order_id)
    order_forms.cancel(cancel_col, details.order, order_id, picked["order_number"])
    order_forms.charges(charge_col, details.charges, order_id)
