"""Overview: the headline a manager reads on one laptop screen, the detail one tab away (never a vendor call).

First the five answers (ui/answers.py: owed to us, owed to carriers and suppliers, late orders, stock running
out, freshness per vendor), on the first screen of a phone too. Then six KPI cards (orders with their trend
against the previous period, late with expected late beside it), receivables and payables per currency in one
table (never added together); then the charts in tabs. Orders are business orders (an ERP order and its
transport order count once); stock items without a reorder level are counted as such, never as "fine". The
pieces are in ui/answers.py, ui/overview.py and ui/charts.py."""

import streamlit as st

from store.calendar import AGING_BUCKETS
from ui import answers, data, filters, widgets
from ui import format as fmt
from ui import overview as ov

st.title("Overview")
flt = filters.current()
orders_q = filters.to_query(flt, "business_orders", date_column="order_date")
invoices_q = filters.to_query(flt, "invoices_outstanding")
kpi = data.overview_kpis(orders_q, invoices_q)
answers.five_answers(kpi.receivables, data.owed_to(invoices_q, "carriers"), data.owed_to(invoices_q, "suppliers"),
                     kpi.late_orders, kpi.expected_late_orders, kpi.stock, data.vendor_freshness())
st.caption(f"Orders dated {fmt.day(flt.start)} – {fmt.day(flt.end)}; invoices and stock as of today · "
           f"sources: {', '.join(s.title() for s in flt.sources) or 'all'}.")

previous = data.dataset_page("business_orders", ov.previous_period(orders_q, flt.start, flt.end), limit=1).total
ov.kpi_cards(kpi, previous)
widgets.as_of_caption()

st.subheader("Money outstanding")
ov.money_table(kpi)


def empty(what: str) -> None:
    dataset = {"orders": "business_orders", "aging": "invoices_outstanding", "stock": "stock_levels"}[what]
    widgets.empty_state(data.dataset_freshness(dataset), filtered=what != "stock")


ov.chart_tabs(data.orders_over_time(orders_q), data.outstanding_aging(invoices_q, "receivable"),
              data.outstanding_aging(invoices_q, "payable"), data.stock_below(), AGING_BUCKETS, empty)
