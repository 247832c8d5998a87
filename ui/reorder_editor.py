"""The Stock page's reorder-level editor (issue 21): every row reaches the action, so an incomplete one is named
in the message instead of being dropped by the editor, and the count shown is the count saved.

No column is `required` in the editor on purpose: Streamlit keeps a row missing a required cell out of the
edited table it returns, so the action never saw it and "0 reorder levels saved" showed in green."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from actions.reorder import save_levels
from ui import data, outcomes
from ui import format as fmt

KEY = "stock.levels"


def edit(levels: pd.DataFrame) -> None:
    # Staff pick warehouses by name ("Amsterdam DC 1", as the stock table says); the levels keep its number.
    names = data.warehouse_names()
    codes = {name: code for code, name in names.items()}
    shown = levels.assign(warehouse=levels["warehouse"].map(lambda w: names.get(w, w) if w else w))
    edited = st.data_editor(
        shown, num_rows="dynamic", hide_index=True, key="stock.levels_editor",
        placeholder=fmt.BLANK,  # a blank cell reads "—", never "None" (seen in the tour's Stock screenshots)
        column_config={
            "product_code": st.column_config.TextColumn("Product code"),
            "warehouse": st.column_config.SelectboxColumn(
                "Warehouse", options=["", *(names.get(c, c) for c in data.warehouse_choices() if c)],
                help="Blank: every warehouse."),
            "reorder_level": st.column_config.NumberColumn("Reorder level", min_value=0),
            "lead_time_days": st.column_config.NumberColumn("Lead time (days)", min_value=0),
        })
    if st.button("Save reorder levels", key="stock.levels_save"):
        rows = edited.astype(object).where(edited.notna(), None).to_dict("records")
        rows = [{**row, "warehouse": codes.get(row["warehouse"], row["warehouse"])} for row in rows]
        saved = outcomes.run(KEY, save_levels, rows)
        if saved is not None:
            outcomes.keep(KEY, "done", f"Saved {fmt.number(saved)} reorder level{'s' if saved != 1 else ''}: "
                                       "the table now holds exactly these.")
    outcomes.show(KEY)
