"""Glue for the Orders, Invoices, Tax and Stock pages: cached detail/aggregate loaders and a
paged table whose rows can be selected to open details.

Loaders wrap `cache.details` with `ui.data.loader` (TTL `data.READ_TTL_S`, own connection per
call). `selectable_table` is `ui.widgets.table` plus `on_select="rerun"`: it returns the selected
row (raw values, money still in minor units) or None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st
from sqlite_utils import Database

from cache import details
from cache.queries import Page, Row, query_dataset
from ui import data, downloads, widgets


@data.loader
def order_details(db: Database, source: str, order_id: str) -> details.OrderDetails:
    return details.order_details(db, source, order_id)


@data.loader
def invoice_details(db: Database, source: str, invoice_number: str) -> details.InvoiceDetails:
    return details.invoice_details(db, source, invoice_number)


@data.loader
def counterparty_totals(db: Database, query: Mapping[str, Any]) -> list[Row]:
    return details.totals_by_counterparty(db, query)


@data.loader
def aging(db: Database, query: Mapping[str, Any]) -> list[Row]:
    return details.aging_buckets(db, query)


@data.loader
def warehouse_totals(db: Database, query: Mapping[str, Any]) -> list[Row]:
    return details.warehouse_totals(db, query)


@data.loader
def explained_page(db: Database, name: str, offset: int = 0) -> Page:
    """A page of `tax_calculations` or `tax_id_validations` with an `explanation` column."""
    page = query_dataset(db, name, limit=data.PAGE_SIZE, offset=offset)
    return Page(details.with_explanations(page.rows, name), page.total, (*page.columns, "explanation"))


def load_page(name: str, query: Mapping[str, Any], key: str, order_by: str | None = None) -> Page:
    """The page of rows at the pager's offset; back to the first page when filters shrank the result."""
    page = data.dataset_page(name, dict(query), offset=widgets.page_offset(key), order_by=order_by)
    if page.total and not page.rows:
        st.session_state[f"{key}.offset"] = 0  # the pager's key (ui.widgets.page_offset)
        page = data.dataset_page(name, dict(query), offset=0, order_by=order_by)
    return page


def selectable_table(page: Page, key: str, columns: Sequence[str] | None = None) -> Row | None:
    """The paged table with single-row selection; returns the selected row of this page."""
    cols = list(columns or page.columns)
    shown = widgets.display_rows(page.rows, cols)
    event = st.dataframe(shown, column_order=cols, hide_index=True, key=f"{key}.table",
                         on_select="rerun", selection_mode="single-row")
    widgets._pager(key, page.total, len(shown), data.PAGE_SIZE)  # shared pager: same state keys
    downloads.download(shown, cols, key)
    picked = event.selection.rows if event is not None else []
    return page.rows[picked[0]] if picked and picked[0] < len(page.rows) else None


def small_table(rows: Sequence[Mapping[str, Any]], key: str, empty: str) -> None:
    """A detail list (a few rows, already display-ready) with its download, or a caption saying why empty."""
    if not rows:
        st.caption(empty)
        return
    cols = list(rows[0])
    st.dataframe(list(rows), hide_index=True, key=f"{key}.table")
    downloads.download(rows, cols, key, label="Download")
