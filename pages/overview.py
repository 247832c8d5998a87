"""Overview: the KPIs and charts staff check first, over the cached data (never a vendor call).

Receivables and payables are shown apart; orders are business orders (an ERP order and its transport
order count once); stock items without a reorder level are counted as such, never as "fine"."""

import plotly.express as px
import streamlit as st

from ui import data, filters, safe, widgets

st.title("Overview")
flt = filters.current()
orders_q = filters.to_query(flt, "business_orders", date_column="order_date")
invoices_q = filters.to_query(flt, "invoices_outstanding")
st.caption(f"Orders dated {flt.start} to {flt.end}; invoices and stock as of today. "
           f"Sources: {', '.join(flt.sources) or 'all'}.")

kpi = data.overview_kpis(orders_q, invoices_q)

st.subheader("Orders")
cols = widgets.grid(len(kpi.orders_by_status) + 2)
cols[0].metric("Business orders", kpi.business_orders,
               help="An ERP customer order and its transport order(s) count once (joined on the order number).")
cols[1].metric("Late orders", kpi.late_orders,
               help="Past their planned delivery date (business date) in a status whose journey has not ended.")
for col, (status, count) in zip(cols[2:], kpi.orders_by_status.items(), strict=False):
    col.metric(safe.text(status.replace("_", " ").title()), count)  # a vendor's status word: text, not markdown

for totals in (kpi.receivables, kpi.payables):
    st.subheader(widgets.DIRECTION_WORDS[totals.direction])
    widgets.outstanding_cards(totals)

st.subheader("Stock and tax IDs")
stock = kpi.stock
cols = st.columns(5)
cols[0].metric("Items below reorder level", stock.below_reorder_level, help="At or below the level set in opsdash.")
cols[1].metric("Items with no reorder level set", stock.no_level,
               help="No level set: unknown, not fine. Set levels on the Stock page or with "
                    "`opsdash reorder-levels import`.")
cols[2].metric("Run out before next delivery", stock.runs_out_before_next_delivery,
               help="Days of cover (last 30 days of ERP order demand) shorter than the lead time.")
cols[3].metric("Invalid tax IDs", kpi.tax_ids.get("invalid", 0), help="Latest check per tax ID.")
cols[4].metric("Unverifiable tax IDs", kpi.tax_ids.get("unavailable", 0),
               help="The tax authority's service did not answer at the latest check; try again later.")

st.subheader("Freshness")
widgets.freshness_badges(data.all_freshness())

st.subheader("Orders by status over time")
timeline = data.orders_over_time(orders_q)
if timeline.empty:
    widgets.empty_state(data.dataset_freshness("business_orders"), filtered=True)
else:
    st.plotly_chart(px.bar(safe.frame(timeline), x="day", y="orders", color="status"), key="chart.orders")

for direction, words in (("receivable", "Receivables aging"), ("payable", "Payables aging")):
    st.subheader(words)
    aging = data.outstanding_aging(invoices_q, direction)
    if aging.empty or (aging["amount"] == "").all():
        widgets.empty_state(data.dataset_freshness(f"{direction}s_outstanding"), filtered=bool(invoices_q))
    else:
        st.plotly_chart(widgets.aging_chart(aging), key=f"chart.aging.{direction}")

st.subheader("Stock below reorder level by warehouse")
below = data.stock_below()
if below.empty:
    widgets.empty_state(data.dataset_freshness("stock_levels"), filtered=False)
else:
    st.plotly_chart(px.bar(safe.frame(below), x="warehouse", y=["items", "no_level"], barmode="group",
                           labels={"value": "items", "variable": ""}), key="chart.stock")
