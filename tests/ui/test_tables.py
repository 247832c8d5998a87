"""ui/tables.py and the keyed selection of ui/details.py: readable cells, and a selection that follows its
record, never its row position."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ui import tables


def test_cells_read_as_words_numbers_money_and_blanks() -> None:
    row = {"status": "INVOICE_READY", "amount_due": 627224368, "currency": "EUR", "quantity": 12500,
           "due_date": "2026-11-29", "late": 1, "source": "qargo", "error": None, "total": 12}
    cells = tables.display([row], list(row))[0]
    assert cells == {"status": "Invoice ready", "amount_due": "6,272,243.68 EUR", "currency": "EUR",
                     "quantity": "12,500", "due_date": "Nov 29, 2026", "late": True, "source": "Qargo",
                     "error": None, "total": "0.12 EUR"}  # an int is minor units
    assert tables.display([{"total": 12345}], ["total"])[0] == {"total": "12,345"}  # a count without a currency


def test_headers_are_words_and_technical_ids_hidden_unless_asked() -> None:
    assert [tables.label(c) for c in ("amount_due", "vat_number", "order_identifier", "days_overdue")] == [
        "Amount due", "VAT number", "Order identifier", "Days overdue"]
    columns = ["order_id", "reference", "payload_digest", "status"]
    assert tables.visible(columns) == ["reference", "status"]
    assert tables.visible(columns, ids=True) == columns


def test_every_table_shows_its_three_most_useful_columns_first() -> None:
    """Issue 21 (phone, 390 px wide): the first three columns are the ones a phone shows without scrolling."""
    from ui.orders import COLUMNS as ORDERS

    stock = ("warehouse", "product", "product_code", "unit", "quantity", "reserved", "available", "reorder_level",
             "below_reorder_level", "days_of_cover", "lead_time_days", "runs_out_before_next_delivery")  # pages/stock.py
    assert tables.visible(ORDERS)[:3] == ["order_number", "transport_status", "delivery_date"]
    assert tables.visible(stock)[:3] == ["product", "days_of_cover", "warehouse"]
    invoices = ["source", "invoice_number", "counterparty", "currency", "amount_due", "due_date", "days_overdue",
                "status", "direction"]
    assert tables.visible(invoices) == ["counterparty", "amount_due", "days_overdue", "source", "invoice_number",
                                        "currency", "due_date", "status", "direction"]  # the rest as they were
    assert tables.visible(["erp_order_number", "operation", "result", "row", "upload_id"])[:3] == [
        "erp_order_number", "row", "result"]
    assert tables.visible(["a", "b", "c"]) == ["a", "b", "c"]  # a table without a defined order keeps its own


def test_a_flag_column_of_counts_is_a_number() -> None:
    rows = [{"below_reorder_level": 2}, {"below_reorder_level": 0}]
    assert tables.column_kind("below_reorder_level", rows) == "number"
    assert tables.column_kind("below_reorder_level", [{"below_reorder_level": 1}]) == "flag"


def _selection_app() -> None:
    import streamlit as st

    from store.queries import Page
    from ui import details

    rows = st.session_state["rows"]
    page = Page(rows, len(rows), ("source", "order_id", "reference"))
    picked = details.selectable_table(page, "t", ("reference",))
    st.session_state["picked"] = picked["order_id"] if picked else None


def _run(rows: list[dict[str, str]], at: AppTest | None = None) -> AppTest:
    at = AppTest.from_function(_selection_app, default_timeout=30) if at is None else at
    at.session_state["rows"] = rows
    return at.run()


def test_the_selection_follows_its_record_not_its_row() -> None:
    a, b, c = ({"source": "qargo", "order_id": i, "reference": f"REF-{i}"} for i in "ABC")
    at = AppTest.from_function(_selection_app, default_timeout=30)
    at.session_state["t.selected"] = ("qargo", "B")  # what a click on B's row stores (AppTest cannot click a grid)
    at = _run([a, b, c], at)
    assert not at.exception
    assert at.session_state["picked"] == "B"
    at = _run([a, c], at)  # filtered: B is gone and A sits where B was
    assert at.session_state["picked"] is None  # nothing else is bound to the forms
    assert any("is not in this view" in cap.value for cap in at.caption)
    at = _run([c, b], at)  # B is back, at another position
    assert at.session_state["picked"] == "B"
