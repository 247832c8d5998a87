"""The Stock page's lead-time editor (issue 21): how long a reorder takes to arrive per warehouse, and the
default for every warehouse (the blank row, which stays). A product's own lead time is in the reorder levels
above and wins over these (figures/lead_times.py)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from actions.lead_times import save_lead_times
from figures.lead_times import COLUMNS
from ui import data, outcomes
from ui import format as fmt

__all__ = ["COLUMNS", "KEY", "edit"]
KEY = "stock.lead_times"


def edit(times: pd.DataFrame) -> None:
    names = data.warehouse_names()  # staff pick a warehouse by name; the table keeps its number
    codes = {name: code for code, name in names.items()}
    shown = times.assign(warehouse=times["warehouse"].map(lambda w: names.get(w, w) if w else w))
    edited = st.data_editor(
        shown[list(COLUMNS)], num_rows="dynamic", hide_index=True, key="stock.lead_times_editor",
        placeholder=fmt.BLANK,  # a blank cell reads "—", never "None" (seen in the tour's Stock screenshots)
        column_config={
            "warehouse": st.column_config.SelectboxColumn(
                "Warehouse", options=["", *(names.get(c, c) for c in data.warehouse_choices() if c)],
                help="Blank: every warehouse (the default; keep this row)."),
            "lead_time_days": st.column_config.NumberColumn("Lead time (days)", min_value=0),
        })
    if st.button("Save lead times", key="stock.lead_times_save"):
        rows = edited.astype(object).where(edited.notna(), None).to_dict("records")
        rows = [{**row, "warehouse": codes.get(row["warehouse"], row["warehouse"])} for row in rows]
        saved = outcomes.run(KEY, save_lead_times, rows)
        if saved is not None:
            outcomes.keep(KEY, "done",
                          f"Saved {fmt.count(saved, 'lead time')}: the table now holds exactly these.")
    outcomes.show(KEY)
