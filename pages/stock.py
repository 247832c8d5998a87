"""Stock: levels per warehouse and product from the ERP, with what has fallen below its threshold."""

import plotly.express as px
import streamlit as st

from ui import data, widgets
from ui import details as ui

COLUMNS = ("warehouse", "product", "unit", "quantity", "reserved", "available", "reorder_threshold",
           "below_threshold")

st.title("Stock")
st.caption("Available = quantity minus reserved. Rows below their reorder threshold come first.")

warehouse_col, product_col, below_col = st.columns(3)
warehouse = warehouse_col.text_input("Warehouse contains", key="stock.warehouse").strip()
product = product_col.text_input("Product contains", key="stock.product").strip()
below = below_col.toggle("Below threshold only", key="stock.below")

query: dict[str, object] = {"warehouse__contains": warehouse} if warehouse else {}
query |= {"product__contains": product} if product else {}
query |= {"below_threshold": 1} if below else {}

sources = data.dataset_freshness("stock_levels")
widgets.freshness_badges(sources)
page = ui.load_page("stock_levels", query, key="stock")
if not page.total:
    widgets.empty_state(sources, filtered=bool(query))
    st.stop()

totals = ui.warehouse_totals(query)
below_count = sum(t["below_threshold"] or 0 for t in totals)
st.metric("Products below threshold", below_count)
if below_count:
    st.warning(f"{below_count} product(s) below their reorder threshold: listed first, `below_threshold` = 1.",
               icon=":material/warning:")
widgets.table(page, "stock", COLUMNS)

st.subheader("Warehouse totals")
st.caption("Per unit: kilograms and pieces do not add up.")
ui.small_table(totals, "stock.totals", "No stock.")
chart = px.bar(totals, x="warehouse", y=["available", "reserved"], facet_col="unit",
               labels={"value": "quantity", "variable": ""}, barmode="stack")
st.plotly_chart(chart, key="stock.chart")
