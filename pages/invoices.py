"""Invoices: what is still owed, from every source, with aging and totals per counterparty."""

import plotly.express as px
import streamlit as st

from cache.details import AGING_BUCKETS
from ui import data, filters, widgets
from ui import details as ui

SUMMARY = ("counterparty", "currency", "invoices", "amount")

st.title("Invoices")
st.caption("Outstanding sales invoices (Quaderno), ERP receivables (Qasida), freight invoices awaiting "
           "audit (Cargobase, no amounts in their list) and carrier invoices (Upwell).")

party_col, currency_col, overdue_col = st.columns(3)
party = party_col.text_input("Counterparty contains", key="invoices.counterparty").strip()
currency = currency_col.text_input("Currency (e.g. EUR)", key="invoices.currency").strip().upper()
overdue = overdue_col.toggle("Overdue only", key="invoices.overdue")

query = filters.to_query(filters.current(), "invoices_outstanding")
query |= {"counterparty__contains": party} if party else {}
query |= {"currency": currency} if currency else {}
query |= {"days_overdue__gt": 0} if overdue else {}

sources = data.dataset_freshness("invoices_outstanding")
widgets.freshness_badges(sources)
page = ui.load_page("invoices_outstanding", query, key="invoices")
if not page.total:
    widgets.empty_state(sources, filtered=bool(query))
    st.stop()
row = ui.selectable_table(page, "invoices")

aging_col, totals_col = st.columns(2)
with aging_col:
    st.subheader("Aging (days overdue)")
    buckets = ui.aging(query)
    chart = px.bar(buckets, x="bucket", y="invoices", color="currency", text="amount",
                   category_orders={"bucket": list(AGING_BUCKETS)}, labels={"invoices": "invoices"})
    st.plotly_chart(chart, key="invoices.aging_chart")
    ui.small_table([{k: b[k] for k in ("bucket", "currency", "invoices", "amount")} for b in buckets],
                   "invoices.aging", "Nothing outstanding.")
with totals_col:
    st.subheader("Totals per counterparty and currency")
    totals = ui.counterparty_totals(query)
    ui.small_table([{k: t[k] for k in SUMMARY} for t in totals], "invoices.totals", "Nothing outstanding.")

if row is None:
    st.caption("Select an invoice to see its items, payments, audit status or event history.")
    st.stop()
st.subheader(f"Invoice {row['invoice_number']} ({row['source']})")
details = ui.invoice_details(row["source"], row["invoice_number"])
if row["source"] == "quaderno":
    st.markdown("**Items**")
    ui.small_table(details.items, "invoices.items", "Quaderno sent no items for this invoice.")
    st.markdown("**Payments**")
    ui.small_table(details.payments, "invoices.payments", "No payments recorded yet.")
elif row["source"] == "cargobase":
    st.markdown(f"**Audit status:** {row['status']}")
    ui.small_table([details.audit] if details.audit else [], "invoices.audit", "Not in the cache any more.")
elif row["source"] == "upwell":
    ui.small_table(details.events, "invoices.events", "No webhook events stored for this invoice.")
else:
    st.caption("Qasida lists receivables without items or payments: see the ERP for the document.")
