"""Overview: the KPIs and charts staff check first, over the cached data (never a vendor call)."""

import plotly.express as px
import streamlit as st

from ui import data, filters, widgets

st.title("Overview")
flt = filters.current()
orders_q = filters.to_query(flt, "orders", date_column="order_date")
invoices_q = filters.to_query(flt, "invoices_outstanding")
st.caption(f"Orders dated {flt.start} to {flt.end}; receivables and stock as of now. "
           f"Sources: {', '.join(flt.sources) or 'all'}.")

kpi = data.overview_kpis(orders_q, invoices_q)
money = widgets.money_text

st.subheader("Orders")
cols = widgets.grid(len(kpi.orders_by_status) + 1)
cols[0].metric("Late orders", kpi.late_orders, help="Open orders past their planned delivery date.")
for col, (status, count) in zip(cols[1:], kpi.orders_by_status.items(), strict=False):
    col.metric(status.title(), count)

st.subheader("Receivables")
rec = kpi.receivables
st.metric("Overdue invoices", rec.overdue_count, help="Open invoices past their due date.")
cols = widgets.grid(len(rec.outstanding), per_row=3)
for col, (currency, amount) in zip(cols, rec.outstanding.items(), strict=False):
    col.metric(f"Outstanding {currency}", money(amount, currency),
               delta=f"+{money(rec.issued_7d.get(currency, 0), currency)} issued in 7 days",
               delta_color="off", help=widgets.OUTSTANDING_HELP)
cols = widgets.grid(len(rec.overdue), per_row=3)
for col, (currency, amount) in zip(cols, rec.overdue.items(), strict=False):
    col.metric(f"Overdue {currency}", money(amount, currency),
               delta=f"+{money(rec.overdue_7d.get(currency, 0), currency)} fell due in 7 days",
               delta_color="inverse", help=widgets.OVERDUE_HELP)

st.subheader("Stock and tax IDs")
cols = st.columns(3)
cols[0].metric("Items below reorder threshold", kpi.below_threshold)
cols[1].metric("Invalid tax IDs", kpi.tax_ids.get("invalid", 0), help="Latest check per tax ID.")
cols[2].metric("Unverifiable tax IDs", kpi.tax_ids.get("unavailable", 0),
               help="The tax authority's service did not answer at the latest check; try again later.")

st.subheader("Freshness")
widgets.freshness_badges(data.all_freshness())

st.subheader("Orders by status over time")
timeline = data.orders_over_time(orders_q)
if timeline.empty:
    widgets.empty_state(data.dataset_freshness("orders"), filtered=True)
else:
    st.plotly_chart(px.bar(timeline, x="day", y="orders", color="status"), key="chart.orders")

st.subheader("Receivables aging")
aging = data.receivables_aging(invoices_q)
if aging.empty:
    widgets.empty_state(data.dataset_freshness("invoices_outstanding"), filtered=bool(invoices_q))
else:
    st.plotly_chart(widgets.aging_chart(aging), key="chart.aging")

st.subheader("Stock below threshold by warehouse")
below = data.stock_below()
if below.empty:
    widgets.empty_state(data.dataset_freshness("stock_levels"), filtered=False)
else:
    st.plotly_chart(px.bar(below, x="warehouse", y="items"), key="chart.stock")
