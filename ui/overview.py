"""The Overview's pieces for a manager: at most six KPI cards with a trend, one money table, one freshness
line, and the charts in tabs (one chart on screen at a time: a phone reads the page in under three heights).

pages/overview.py is the outline; these functions take the loaders' results (ui/data.py) and render them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from figures.page_summaries import previous_period  # noqa: F401 - the Overview's trend period (pages/overview.py)
from ui import charts
from ui import format as fmt

STOCK_COLUMNS = {"items": "Below reorder level", "no_level": "No level set"}


def kpi_cards(kpi: Any, previous_orders: int | None) -> None:
    """Six cards: orders (trend vs the previous period), late (with expected late), overdue both ways, stock,
    tax IDs."""
    cards = st.columns(3)
    delta = None if previous_orders is None else kpi.business_orders - previous_orders
    cards[0].metric("Business orders", fmt.number(kpi.business_orders),
                    delta=None if delta is None else (fmt.number(delta) if delta < 0 else f"+{fmt.number(delta)}"),
                    delta_description="vs the previous period", delta_color="normal" if delta else "off",
                    help="An ERP customer order and its transport order(s) count once. The change compares "
                         "with the period of the same length just before.", border=True)
    expected = kpi.expected_late_orders
    # Expected late is a warning next to the late figure, never added to it: not late yet, ETA after the plan.
    cards[1].metric("Late orders", fmt.number(kpi.late_orders), border=True,
                    delta=f"{fmt.number(expected)} expected late", delta_color="orange" if expected else "off",
                    delta_arrow="off",
                    help="Late: transport past its planned delivery date (business date) and not yet delivered or "
                         "closed, or ERP past its promised delivery date and not yet fulfilled; the Orders page "
                         "says which side. Expected late: not late yet, still moving, but the carrier's ETA is "
                         "after the planned delivery date.")
    unset = kpi.stock.no_level
    # Items without a level are unknown, never "fine": the card says how many next to its figure.
    cards[2].metric("Stock below reorder level", fmt.number(kpi.stock.below_reorder_level), border=True,
                    delta=f"{fmt.number(unset)} with no level set" if unset else None,
                    delta_color="orange" if unset else "off", delta_arrow="off",
                    help=f"{fmt.number(kpi.stock.no_level)} items have no reorder level set (unknown, not fine); "
                         f"{fmt.number(kpi.stock.runs_out_before_next_delivery)} run out before the next delivery.")
    cards = st.columns(3)
    cards[0].metric("Overdue receivables", fmt.number(kpi.receivables.overdue_count), border=True,
                    help="Invoices others owe us, past their due date. Amounts per currency in the table below.")
    cards[1].metric("Overdue payables", fmt.number(kpi.payables.overdue_count), border=True,
                    help="Invoices we owe, past their due date. Amounts per currency in the table below.")
    tax = kpi.tax_ids
    cards[2].metric("Invalid tax IDs", fmt.number(tax.get("invalid", 0)), border=True,
                    help="Numbers the tax authority says are not valid (latest check per number). Not counted: "
                         f"{fmt.number(tax.get('malformed', 0))} malformed (our offline check) and "
                         f"{fmt.number(tax.get('unavailable', 0))} unverifiable (the authority did not answer).")


def money_table(kpi: Any) -> None:
    """Receivables and payables per currency, exact, in one table (never one card per currency)."""
    rows = charts.money_rows(kpi.receivables, kpi.payables)
    if not rows:
        st.caption("Nothing outstanding in either direction.")
        return
    config = {c: st.column_config.TextColumn(label, alignment="left" if c == "currency" else "right")
              for c, label in charts.MONEY_TABLE_LABELS.items()}
    st.dataframe(rows, column_config=config, column_order=list(charts.MONEY_TABLE_LABELS), hide_index=True,
                 key="overview.money", height=38 + 35 * len(rows), placeholder=fmt.BLANK)
    unpriced = kpi.payables.without_amount + kpi.receivables.without_amount
    if unpriced:
        st.caption(f"{fmt.number(unpriced)} invoice{'s are' if unpriced != 1 else ' is'} awaiting audit, listed "
                   "without an amount (Cargobase sends none): counted, never added.")


def chart_tabs(timeline: pd.DataFrame, receivable: pd.DataFrame, payable: pd.DataFrame, below: pd.DataFrame,
               buckets: Sequence[str], empty: Any) -> None:
    """One chart at a time; `empty(what)` renders the empty state of a chart with nothing to draw."""
    orders_tab, aging_tab, stock_tab = st.tabs(["Orders", "Aging", "Stock"])
    with orders_tab:
        if timeline.empty:
            empty("orders")
        else:
            st.plotly_chart(charts.orders_over_time(timeline), key="chart.orders", theme="streamlit")
    with aging_tab:
        currencies = charts.currency_options(receivable, payable)
        if not currencies:
            empty("aging")
        else:
            currency = st.pills("Currency", currencies, default=currencies[0], required=True,
                                key="overview.currency") \
                or currencies[0]
            left, right = st.columns(2)
            for col, frame, title in ((left, receivable, "Receivables aging"), (right, payable, "Payables aging")):
                if (frame["currency"] == currency).any():
                    col.plotly_chart(charts.aging(frame, currency, buckets, title), key=f"chart.{title}",
                                     theme="streamlit")
                else:
                    col.caption(f"{title}: nothing outstanding in {currency}.")
    with stock_tab:
        if below.empty:
            empty("stock")
        else:
            st.plotly_chart(charts.grouped_counts(below, "warehouse", STOCK_COLUMNS,
                                                  "Stock items needing attention per warehouse"),
                            key="chart.stock", theme="streamlit")
