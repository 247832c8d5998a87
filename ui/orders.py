"""The Orders page's lateness pieces (issue 18 points 1 and 11): the planned date beside the ETA, which side
makes an order late, and a filter for late and expected-late orders. The rules are store/datasets.py's."""

from __future__ import annotations

from typing import Any

import streamlit as st

# The table's columns: the plan (transport, else the ERP's promised date) beside the carrier's ETA.
COLUMNS = ("order_number", "customer", "erp_status", "transport_status", "order_date", "delivery_date", "eta_date",
           "late", "late_side", "expected_late", "transport_orders", "matched")

LATENESS: dict[str, dict[str, Any]] = {
    "All orders": {},
    "Late (either side)": {"late": 1},
    "Late on the transport side": {"late_side__in": ["transport", "both"]},
    "Late on the ERP side": {"late_side__in": ["ERP", "both"]},
    "Expected late (ETA after the plan)": {"expected_late": 1},
}


# `?show=late` (the Overview's link) opens the list filtered; the select box stays the user's after that.
LINKED = {"late": "Late (either side)", "expected-late": "Expected late (ETA after the plan)"}


def lateness_filter(column: Any, key: str = "orders.lateness") -> dict[str, Any]:
    """A select box in `column` (a Streamlit container); returns the business-orders filter it chose."""
    linked = LINKED.get(str(st.query_params.get("show", "")))
    if linked and key not in st.session_state:
        st.session_state[key] = linked
    choice = column.selectbox("Show", list(LATENESS), key=key,
                              help="Late: transport past its planned delivery and still moving, or the ERP order "
                                   "past its promised date and not fulfilled. Expected late: not late yet, but the "
                                   "carrier's ETA is after the planned date.")
    return dict(LATENESS[choice])


def caption() -> None:
    st.caption("Planned delivery: the transport order's planned date, else the ERP's promised date. ETA: the "
               "carrier's latest estimate (Qargo visibility), in the business time zone. Late side: transport, "
               "ERP or both.")
