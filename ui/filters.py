"""The sidebar filters shared by every page: a date range and a set of sources.

`dashboard.py` renders them (`sidebar()`) before running the selected page, so the widgets exist
on every page and keep their values when the user switches pages. Pages never read
`st.session_state` directly: they call `current()`.

Session-state keys (the only ones this module owns):
- `KEY_DATES` = "filters.dates": a (start, end) tuple of `datetime.date`, both inclusive;
- `KEY_SOURCES` = "filters.sources": the selected source names (an empty list means all).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import streamlit as st

from figures import page_summaries
from services.settings import VENDORS
from store import calendar
from store.datasets import get_dataset
from ui.tables import VENDORS as VENDOR_NAMES

KEY_DATES = "filters.dates"
KEY_SOURCES = "filters.sources"

# Default window: the last quarter, plus the coming month (figures/page_summaries.py, whose default views use it).
DEFAULT_PAST, DEFAULT_FUTURE = page_summaries.DEFAULT_PAST, page_summaries.DEFAULT_FUTURE
SOURCES: tuple[str, ...] = VENDORS
# Which business orders (store/datasets.py BUSINESS_ORDERS.matched) a selected source keeps.
_SIDES = {"qasida": ("both", "erp only"), "qargo": ("both", "transport only")}


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    sources: tuple[str, ...]  # empty: every source


def default_dates(today: date | None = None) -> tuple[date, date]:
    day = today or calendar.today()  # the business date (OPSDASH_TIMEZONE), not the server's
    return day - DEFAULT_PAST, day + DEFAULT_FUTURE


def sidebar() -> Filters:
    """Render the shared filters in the sidebar (once per rerun, from dashboard.py)."""
    st.session_state.setdefault(KEY_DATES, default_dates())
    st.session_state.setdefault(KEY_SOURCES, [])
    with st.sidebar:
        st.subheader("Filters")
        st.date_input("Dates", key=KEY_DATES, help="Order dates on Orders and Overview.")
        st.multiselect("Sources", SOURCES, key=KEY_SOURCES, placeholder="All sources", format_func=source_name)
    return current()


def source_name(source: str) -> str:
    """A vendor as staff name it ("Qargo"), never its setting's name ("qargo"): one table, ui/tables.py VENDORS."""
    return VENDOR_NAMES.get(source, source)


def current() -> Filters:
    """The filters as last set in the sidebar (defaults when the sidebar was never shown)."""
    dates = st.session_state.get(KEY_DATES) or default_dates()
    # While the user picks a range, date_input briefly holds only the start date.
    start, end = (dates[0], dates[-1]) if isinstance(dates, (tuple, list)) else (dates, dates)
    return Filters(start, end, tuple(st.session_state.get(KEY_SOURCES) or ()))


def to_query(flt: Filters, dataset: str, date_column: str | None = None) -> dict[str, Any]:
    """`store.queries` filters for `dataset`: its `source` column (if any) and `date_column`.

    Dates compare as ISO text: `>= start` and `< end + 1 day`, so timestamps on the end day count."""
    query: dict[str, Any] = {}
    if flt.sources and get_dataset(dataset).can_filter("source"):
        query["source__in"] = list(flt.sources)
    elif flt.sources and dataset == "business_orders":  # a business order has an ERP side, a transport side or both
        query["matched__in"] = sorted({m for s in flt.sources for m in _SIDES.get(s, ())})
    if date_column:
        query[f"{date_column}__gte"] = flt.start.isoformat()
        query[f"{date_column}__lt"] = (flt.end + timedelta(days=1)).isoformat()
    return query
