"""Invoices: what others owe us (receivables) and what we owe (payables), never added together."""

import streamlit as st

from figures.page_summaries import TOP_PARTIES  # shown unless asked for all (its default view: stored)
from store.calendar import AGING_BUCKETS
from ui import charts, data, figures, filters, widgets
from ui import details as ui
from ui import format as fmt

SUMMARY = ("counterparty", "currency", "invoices", "amount")
CAPTIONS = {
    "receivable": "Outstanding sales invoices (Quaderno) and ERP claims on customers (Qasida).",
    "payable": "ERP liabilities (Qasida), carrier invoices (Upwell) and freight invoices awaiting audit "
               "(Cargobase: amount not in the list).",
}
WIDEN = "Clear the counterparty, currency or overdue filters above, or the source filter in the sidebar."
NOTHING = {"receivable": "Nothing outstanding: every synced sales invoice and claim is paid or settled.",
           "payable": "Nothing outstanding: every synced liability and carrier or freight invoice is paid or "
                      "settled."}

st.title("Invoices")
direction = st.segmented_control("Direction", ["receivable", "payable"], default="receivable",
                                 format_func=widgets.DIRECTION_WORDS.get, key="invoices.direction") or "receivable"
dataset = f"{direction}s_outstanding"
st.caption(CAPTIONS[direction])

party_col, currency_col, overdue_col = st.columns(3)
party = party_col.text_input("Counterparty contains", key="invoices.counterparty").strip()
currency = currency_col.text_input("Currency (e.g. EUR)", key="invoices.currency").strip().upper()
overdue = overdue_col.toggle("Overdue only", key="invoices.overdue")

query = filters.to_query(filters.current(), dataset)
query |= {"counterparty__contains": party} if party else {}
query |= {"currency": currency} if currency else {}
query |= {"days_overdue__gt": 0} if overdue else {}

sources = data.dataset_freshness(dataset)
widgets.freshness_badges(sources)
key = f"invoices.{direction}"
page = ui.load_page(dataset, query, key=key)
widgets.as_of_caption()
if not page.total:
    widgets.empty_state(sources, filtered=bool(query), widen=WIDEN, nothing=NOTHING[direction])
    st.stop()
row = ui.selectable_table(page, key, dataset=dataset, query=query)
if any(r["source"] == "cargobase" for r in page.rows):
    st.caption("Cargobase: amount not in the list — its invoice list carries no amounts, so these rows are "
               "counted but never added to a total.")

aging_col, totals_col = st.columns(2)
with aging_col:
    st.subheader("Aging (days overdue)")
    buckets = ui.aging(query | {"direction": direction})
    chart = figures.cached(charts.aging_counts, [dict(b) for b in buckets], list(AGING_BUCKETS),
                           "Invoices per aging bucket")
    st.plotly_chart(chart, key=f"{key}.aging_chart", theme="streamlit")
    ui.small_table([{k: b[k] for k in ("bucket", "currency", "invoices", "amount")} for b in buckets],
                   f"{key}.aging", "Nothing outstanding.")
with totals_col:
    st.subheader("Totals per counterparty and currency")
    party_query = query | {"direction": direction}
    parties = ui.counterparty_count(party_query)
    everyone = parties <= TOP_PARTIES or st.toggle(f"All {fmt.number(parties)} counterparties", key=f"{key}.all")
    totals = ui.counterparty_totals(party_query, None if everyone else TOP_PARTIES)
    if not everyone:
        st.caption(f"The {TOP_PARTIES} counterparties with the most open invoices, of {fmt.number(parties)}: "
                   "switch on the list of all to see or download every one.")
    ui.small_table([{k: t[k] for k in SUMMARY} for t in totals], f"{key}.totals", "Nothing outstanding.")

if row is None:
    st.caption("Select an invoice to see its items, payments, audit status or event history.")
    st.stop()
st.subheader("Invoice details")
st.text(f"{row['invoice_number']} ({row['source']})")  # vendor text: shown as text, never markdown
details = ui.invoice_details(row["source"], row["invoice_number"])
if row["source"] == "quaderno":
    st.subheader("Items", divider=False)
    ui.small_table(details.items, f"{key}.items", "Quaderno sent no items for this invoice.")
    st.subheader("Payments", divider=False)
    ui.small_table(details.payments, f"{key}.payments", "No payments recorded yet.")
elif row["source"] == "cargobase":
    st.text(f"Audit status: {row['status']}")
    ui.small_table([details.audit] if details.audit else [], f"{key}.audit", "Not in the cache any more.")
elif row["source"] == "upwell":
    ui.small_table(details.events, f"{key}.events", "No webhook events stored for this invoice.")
else:
    ui.small_table([details.open_item] if details.open_item else [], f"{key}.open_item",
                   "Qasida lists open items without lines or payments: see the ERP for the document.")
