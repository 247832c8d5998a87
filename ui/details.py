"""Glue for the Orders, Invoices, Tax and Stock pages: cached detail/aggregate loaders and a
paged table whose rows can be selected to open details.

Loaders wrap the builders of `figures.page_summaries` (over `figures.details`) with `ui.versioned.versioned`
(rebuilt only when the tables they read were written; own connection per call). `selectable_table` is a
readable table (ui/tables.py) plus `on_select="rerun"`: it returns the selected row (raw values, money still
in minor units) or None; the selection is kept by the record's id, never its position (see there).
`small_table` shows a few detail rows the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from figures import page_summaries as ps
from store.queries import Page, Row
from ui import data, downloads, safe, tables, widgets
from ui.versioned import versioned

# Builders below the UI (figures/page_summaries.py: the standalone worker rebuilds them too), cached here.
order_details = versioned(ps.order_details)
invoice_details = versioned(ps.invoice_details)
counterparty_totals = versioned(ps.counterparty_totals)
counterparty_count = versioned(ps.counterparty_count)
aging = versioned(ps.aging)
warehouse_totals = versioned(ps.warehouse_totals)
explained_page = versioned(ps.explained_page)


def load_page(name: str, query: Mapping[str, Any], key: str, order_by: str | None = None) -> Page:
    """The page of rows at the pager's offset; back to the first page when filters shrank the result."""
    page = data.dataset_page(name, dict(query), offset=widgets.page_offset(key), order_by=order_by)
    if page.total and not page.rows:
        st.session_state[f"{key}.offset"] = 0  # the pager's key (ui.widgets.page_offset)
        page = data.dataset_page(name, dict(query), offset=0, order_by=order_by)
    return page


def _identity(row: Mapping[str, Any], id_columns: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row.get(c) for c in id_columns)


def selected_identity(key: str) -> tuple[Any, ...] | None:
    """The identity (id column values) of the record selected in table `key`, if any."""
    found = st.session_state.get(f"{key}.selected")
    return tuple(found) if found else None


def clear_selection(key: str) -> None:
    st.session_state[f"{key}.selected"] = None


def _catch_a_click_on_the_previous_view(key: str) -> None:
    """A row clicked while the data changed underneath (a living sync adds a transport order to a shown row)
    arrives in the run that draws a new view, on the previous view's widget: read it there, by the identities
    that view showed, so the click selects the record the user saw and is not lost (or moved to another)."""
    shown, previous = st.session_state.get(f"{key}.shown"), st.session_state.get(f"{key}.view")
    state = st.session_state.get(f"{key}.table.{previous}") if previous else None
    rows = list(state["selection"]["rows"]) if state and "selection" in state else []
    if shown and rows and rows[0] < len(shown):
        st.session_state[f"{key}.selected"] = tuple(shown[rows[0]])


_IDS = (("source", "order_id"), ("source", "invoice_number"), ("warehouse", "product"), ("id",))


def _id_columns(columns: Sequence[str]) -> tuple[str, ...]:
    """What identifies a record of this dataset: the first known id set it has, else every column."""
    return next((ids for ids in _IDS if set(ids) <= set(columns)), tuple(columns))


def selectable_table(page: Page, key: str, columns: Sequence[str] | None = None,
                     id_columns: Sequence[str] | None = None, *, dataset: str | None = None,
                     query: Mapping[str, Any] | None = None) -> Row | None:
    """The paged table with single-row selection; returns the selected record when it is on this page.

    The selection is kept by the record's identity (`id_columns`), never by its row position: the table
    widget is keyed by the rows it shows, so filtering, sorting in SQL or paging builds a new widget whose
    selection is restored from the remembered identity, or is empty when that record is not shown. A form
    bound to the returned row can therefore never act on another record."""
    cols = list(columns or page.columns)
    id_columns = id_columns or _id_columns(page.columns)
    identities = [_identity(r, id_columns) for r in page.rows]
    _catch_a_click_on_the_previous_view(key)
    remembered = selected_identity(key)
    position = identities.index(remembered) if remembered in identities else None
    view = hashlib.sha256(repr(identities).encode()).hexdigest()[:12]
    default = {"selection": {"rows": [position] if position is not None else []}}
    event = tables.show(page.rows, cols, f"{key}.table.{view}", on_select="rerun", selection_mode="single-row",
                        selection_default=default)
    widgets._pager(key, page.total, len(page.rows), data.PAGE_SIZE)  # shared pager: same state keys
    downloads.download(page.rows, cols, key, dataset=dataset, query=query, total=page.total)
    picked = list(event.selection.rows) if event is not None else []
    same_view, st.session_state[f"{key}.view"] = st.session_state.get(f"{key}.view") == view, view
    st.session_state[f"{key}.shown"] = identities
    if picked and picked[0] < len(page.rows):
        st.session_state[f"{key}.selected"] = identities[picked[0]]
        return page.rows[picked[0]]
    if position is not None and not same_view:  # a new view holding the record: restored by its id
        return page.rows[position]
    if position is not None:  # the same view, and the user cleared the selection
        clear_selection(key)
    elif remembered is not None:
        st.caption(f"The record selected earlier ({safe.text(' '.join(str(v) for v in remembered if v))}) is not in this "
                   "view: its details and actions are hidden until it is shown again.")
    return None


def small_table(rows: Sequence[Mapping[str, Any]], key: str, empty: str, download: bool = True) -> None:
    """A detail list (a few rows) as a readable table with its download, or a caption saying why empty."""
    if not rows:
        st.caption(empty)
        return
    cols = list(rows[0])
    tables.show(rows, cols, f"{key}.table")
    if download:
        downloads.download(rows, cols, key, label="Download")


def paged(name: str, query: Mapping[str, Any], key: str, columns: Sequence[str] | None = None,
          order_by: str | None = None, helps: Mapping[str, str] | None = None, empty: str = "Nothing yet.") -> Page:
    """A readable page of dataset `name` with its pager and downloads (whole filtered dataset, rows shown)."""
    page = load_page(name, query, key, order_by)
    if not page.total:
        st.caption(empty)
        return page
    return show_page(page, name, query, key, columns, helps)


def show_page(page: Page, name: str, query: Mapping[str, Any], key: str, columns: Sequence[str] | None = None,
              helps: Mapping[str, str] | None = None) -> Page:
    """An already loaded page of dataset `name`: readable table, pager, downloads (whole dataset, rows shown)."""
    cols = list(columns or page.columns)
    tables.show(page.rows, cols, f"{key}.table", helps=helps)
    widgets._pager(key, page.total, len(page.rows), data.PAGE_SIZE)
    downloads.download(page.rows, cols, key, dataset=name, query=query, total=page.total)
    return page
