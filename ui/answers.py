"""The Overview's five answers (issue 21), as figures in words on the first screen, desktop and phone:

1. what others owe us per currency, and how much of it is more than 60 days overdue;
2. what we owe carriers (Upwell, Cargobase) and suppliers (Qasida), per currency, with the invoices that carry
   no amount counted and said so;
3. how many orders are late or expected late, linked to the Orders list filtered so;
4. how many stock items run out before their next delivery, linked to the Stock list filtered so;
5. how fresh each vendor's data is, in words ("Quaderno 2 min ago", "Qasida failing since 06:10").

Each answer sits in a container keyed `answer-<name>` (the browser test reads it by that key). Amounts are
never added across currencies; the figures are the loaders' (ui/data.py), this module only words them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import streamlit as st

from figures.freshness import VendorFreshness
from figures.kpis import LONG_OVERDUE_DAYS, Outstanding, StockSummary
from ui import format as fmt
from ui import safe
from ui.filters import source_name

ORDERS_PAGE, STOCK_PAGE = "pages/orders.py", "pages/stock.py"
LATE_HELP = ("Late: past the planned delivery and still moving, or the ERP order past its promised date and "
             "not fulfilled. Expected late: not late yet, but the carrier's ETA is after the planned date.")
STOCK_HELP = ("Days of cover (available / average daily ERP order demand of the last 30 days) shorter than "
              "the lead time: the product's, else the warehouse's, else the default (Stock page).")
# Tight rows and paragraphs: the five answers fit one phone screen (390 x 844) under the title.
CSS = """<style>
.st-key-answers table { font-size: 0.9rem; }
.st-key-answers th, .st-key-answers td { padding: 0.15rem 0.5rem !important; }
.st-key-answers td { text-align: right; white-space: nowrap; }
.st-key-answers td:first-child { text-align: left; }
.st-key-answers [data-testid="stVerticalBlock"] { gap: 0.35rem; }
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"]:has(.st-key-answers) { padding-top: 3.5rem; }
  [data-testid="stMain"]:has(.st-key-answers) h1 { font-size: 1.75rem; padding: 0 0 0.5rem; }
  .st-key-answers table { font-size: 0.8rem; }
  .st-key-answers th, .st-key-answers td { padding: 0.05rem 0.35rem !important; }
  .st-key-answers p, .st-key-answers [data-testid="stCaptionContainer"] {
    font-size: 0.85rem; line-height: 1.35; }
  .st-key-answers [data-testid="stPageLink"] p { font-size: 0.85rem; }
  .st-key-answers [data-testid="stHorizontalBlock"] { gap: 0.35rem; }
}
</style>"""


def _amount(money: dict[str, Any], currency: str) -> str:
    return fmt.money(money.get(currency), currency, code=False) if currency in money else fmt.BLANK


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table of our own words and formatted numbers (a currency code is escaped: vendor text)."""
    lines = ["| " + " | ".join(header) + " |", "|:--" + "|--:" * (len(header) - 1) + "|"]
    lines += ["| " + " | ".join([safe.text(r[0]), *r[1:]]) + " |" for r in rows]
    return "\n".join(lines)


def receivables_words(owed: Outstanding) -> str:
    """Per currency: what others owe us, and the part more than 60 days overdue."""
    if not owed.outstanding:
        return "**Others owe us** nothing: no outstanding invoice."
    long_overdue = owed.overdue_long
    rows = [(c, _amount(owed.outstanding, c), _amount(long_overdue, c) if c in long_overdue else "none")
            for c in sorted(owed.outstanding)]
    return _table(("Others owe us", "Outstanding", f"of which > {LONG_OVERDUE_DAYS} days overdue"), rows)


def payables_words(carriers: Outstanding, suppliers: Outstanding) -> tuple[str, str]:
    """(a table per currency: carriers beside suppliers, a sentence on the invoices without an amount)."""
    currencies = sorted(set(carriers.outstanding) | set(suppliers.outstanding))
    rows = [(c, _amount(carriers.outstanding, c), _amount(suppliers.outstanding, c)) for c in currencies]
    empty = "**We owe** nothing with an amount."
    table = _table(("We owe", "Carriers", "Suppliers"), rows) if rows else empty
    unpriced = carriers.without_amount + suppliers.without_amount
    note = "Carriers: Upwell, Cargobase. Suppliers: Qasida."
    if unpriced:
        note += f" Plus {fmt.count(unpriced, 'Cargobase invoice')} with no amount (Cargobase sends none)."
    return table, note


def late_words(late: int, expected: int) -> str:
    return (f"**{fmt.number(late)}** {'order is' if late == 1 else 'orders are'} late, "
            f"**{fmt.number(expected)}** expected late.")


def stock_words(stock: StockSummary) -> str:
    n = stock.runs_out_before_next_delivery
    return (f"**{fmt.number(n)}** of {fmt.count(stock.items, 'stock item')} "
            f"{'runs' if n == 1 else 'run'} out before the next delivery.")


def freshness_words(vendor: VendorFreshness, now: datetime | None = None) -> str:
    """"Quaderno 2 min ago", "Qasida failing since 06:10", "Upwell last event 5 min ago"."""
    name = source_name(vendor.vendor)
    when = _since(vendor.since, now)
    words = {
        "ok": f"last event {fmt.ago(vendor.since, now)}" if vendor.pushed else fmt.ago(vendor.since, now),
        "failing": f"failing since {when}" if vendor.since else "failing, never synced",
        "interrupted": f"interrupted, last synced {when}" if vendor.since else "interrupted, never synced",
        "stale": f"out of date, last synced {fmt.ago(vendor.since, now)}",
        "never synced": "no events received yet" if vendor.pushed else "not synced yet",
        "not configured": "not configured",
    }
    return f"{name} {words.get(vendor.state, vendor.state)}"


def _since(stamp: str | None, now: datetime | None) -> str:
    """The local time of day, with the day when it is not today."""
    moment, today = fmt.local_time(stamp), fmt.local_time(now or datetime.now().astimezone())
    if moment is None:
        return fmt.BLANK
    return fmt.clock(moment) if today is not None and moment.date() == today.date() else fmt.when(moment)


def five_answers(receivable: Outstanding, carriers: Outstanding, suppliers: Outstanding, late: int,
                 expected_late: int, stock: StockSummary, vendors: Sequence[VendorFreshness]) -> None:
    """The five answers, money side by side on a desktop, one under another on a phone."""
    with st.container(key="answers"):
        st.html(CSS)
        left, right = st.columns(2)
        with left, st.container(key="answer-receivables"):
            st.markdown(receivables_words(receivable))
        with right, st.container(key="answer-payables"):
            table, note = payables_words(carriers, suppliers)
            st.markdown(table)
            st.caption(note)
        orders, items, fresh = st.columns(3)
        with orders, st.container(key="answer-late"):
            st.markdown(late_words(late, expected_late))
            st.page_link(ORDERS_PAGE, label="Open the late orders", query_params={"show": "late"},
                         help=LATE_HELP)
            if expected_late:
                st.page_link(ORDERS_PAGE, label="Open the expected-late orders",
                             query_params={"show": "expected-late"}, help=LATE_HELP)
        with items, st.container(key="answer-stock"):
            st.markdown(stock_words(stock))
            st.page_link(STOCK_PAGE, label="Open those items", query_params={"show": "runs-out"},
                         help=STOCK_HELP)
        with fresh, st.container(key="answer-freshness"):
            st.markdown("**Data:** " + " · ".join(safe.text(freshness_words(v)) for v in vendors))
