"""Stock: levels per warehouse and product from the ERP, against the reorder levels we keep ourselves."""

import pandas as pd
import streamlit as st

from ui import auth, charts, data, lead_time_editor, reorder_editor, widgets
from ui import details as ui
from ui import format as fmt

COLUMNS = ("warehouse", "product", "product_code", "unit", "quantity", "reserved", "available", "reorder_level",
           "below_reorder_level", "days_of_cover", "lead_time_days", "runs_out_before_next_delivery")
SHOW = {"All items": {}, "Below reorder level": {"below_reorder_level": 1},
        "No level set": {"reorder_level": None}, "Runs out before next delivery": {"runs_out_before_next_delivery": 1}}
EDITOR_COLUMNS = ("product_code", "warehouse", "reorder_level", "lead_time_days")

st.title("Stock")
st.caption("Available = quantity minus reserved. Reorder levels are kept in opsdash (the ERP has none); "
           "an item without one reads \"no level set\", never fine. Days of cover: from the last 30 days of "
           "ERP customer-order demand.")

warehouse_col, product_col, show_col = st.columns(3)
warehouse = warehouse_col.text_input("Warehouse contains", key="stock.warehouse").strip()
product = product_col.text_input("Product contains", key="stock.product").strip()
if st.query_params.get("show") == "runs-out" and "stock.show" not in st.session_state:  # the Overview's link
    st.session_state["stock.show"] = "Runs out before next delivery"
show = show_col.selectbox("Show", list(SHOW), key="stock.show")

query: dict[str, object] = {"warehouse__contains": warehouse} if warehouse else {}
query |= {"product__contains": product} if product else {}
query |= SHOW[show]

sources = data.dataset_freshness("stock_levels")
widgets.freshness_badges(sources)
page = ui.load_page("stock_levels", query, key="stock")
totals = ui.warehouse_totals(query) if page.total else []
widgets.as_of_caption()
below = sum(t["items_below_level"] or 0 for t in totals)
no_level = sum(t["no_level_set"] or 0 for t in totals)
cols = st.columns(2)
cols[0].metric("Items below reorder level", fmt.number(below), border=True)
cols[1].metric("Items with no reorder level set", fmt.number(no_level), border=True,
               help="Unknown, not fine: set a level below.")
if below:
    st.warning(f"{fmt.number(below)} item(s) at or below their reorder level: listed first.",
               icon=":material/warning:")
if page.total:
    ui.show_page(page, "stock_levels", query, "stock", COLUMNS)
else:
    widgets.empty_state(sources, filtered=bool(query), widen="Clear the warehouse, product or Show filters above.",
                        nothing="The ERP's stock cards were synced and list no item.")

st.subheader("Reorder levels")
st.caption("Per ERP product code; warehouse blank = every warehouse, a row for one warehouse wins. "
           "Lead time (days) is how long a reorder takes to arrive. Also: `opsdash reorder-levels import FILE`.")
levels = pd.DataFrame(data.reorder_levels(), columns=[*EDITOR_COLUMNS, "updated_at", "updated_by"])
if auth.may_act():
    reorder_editor.edit(levels[list(EDITOR_COLUMNS)])
else:
    ui.small_table(levels.to_dict("records"), "stock.levels", "No reorder levels set yet.")
    auth.viewer_notice("setting reorder levels")

st.subheader("Lead times")
st.caption("How long a reorder takes to arrive, per warehouse; warehouse blank = every warehouse, the default (7 "
           "days until changed). A product's lead time above wins. Runs out before next delivery = days of cover "
           "shorter than the lead time (the ERP sends no lead time nor incoming deliveries).")
times = pd.DataFrame(data.lead_times(), columns=[*lead_time_editor.COLUMNS, "updated_at", "updated_by"])
if auth.may_act():
    lead_time_editor.edit(times)
else:
    ui.small_table(times.to_dict("records"), "stock.lead_times", "No lead times set.")

if totals:
    st.subheader("Warehouse totals")
    st.caption("Per unit: kilograms and pieces do not add up.")
    ui.small_table(totals, "stock.totals", "No stock.")
    chart = charts.per_unit(pd.DataFrame([dict(t) for t in totals]),  # built once per data (figures.memoized)
                            {"available": "Available", "reserved": "Reserved"}, "Stock per warehouse and unit")
    st.plotly_chart(chart, key="stock.chart", theme="streamlit")
