"""Actions that tell the truth and messages that are true (issue 21), page by page (AppTest).

The vendor is replaced at the action function (the page's own code runs): what is checked is what the page says
after the action, and that a second click cannot repeat it."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from sqlite_utils import Database

from actions import order_changes
from services.qargo.models import Charge
from store.schema import session
from tests.pages.test_orders import fresh_settings, open_page  # noqa: F401
from ui import data, operations, order_forms, reorder_editor

SELECT_O1 = {"orders.selected": ("REF-A1", None, "O1")}  # PLANNED, charges CH1 (REQUESTED) and CH2 (APPROVED)


def db_of(tmp_path: Path) -> Any:
    """The database `open_page` seeded (it set OPSDASH_DB), whichever database."""
    return session(os.environ["OPSDASH_DB"])


def test_a_charge_approved_once_cannot_be_approved_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def decide(db: Database, actor: Any, order_id: str, ids: list[str], approve: bool) -> list[Charge]:
        calls.append(list(ids))
        db.execute("UPDATE qargo_charges SET approval_status = 'APPROVED' WHERE charge_id = ?", [ids[0]])
        return [Charge(id=i, approval_status="APPROVED") for i in ids]

    monkeypatch.setattr(order_forms, "decide_charges", decide)
    at = open_page(monkeypatch, tmp_path, "orders", state=SELECT_O1)
    at.multiselect(key="orders.charges_picked.O1").select("CH1")
    at.checkbox(key="orders.charges_sure.O1").check().run()
    at.button(key="orders.decide.O1").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Qargo approved 1 charge: Fuel · 12.50 EUR · requested."]
    assert at.checkbox(key="orders.charges_sure.O1").value is False  # the confirm box is cleared
    assert at.multiselect(key="orders.charges_picked.O1").options == []  # nothing left awaiting a decision
    assert at.button(key="orders.decide.O1").disabled  # AppTest, like a browser, cannot click it again
    charges = at.dataframe[3].value  # the Charges tab, drawn after the callback: shows the decision
    assert [str(v).lower() for v in charges["approval_status"]] == ["approved", "approved"]
    at.run()
    assert calls == [["CH1"]]


def test_a_cancel_shows_qargos_refusal_in_its_words(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sent: list[tuple[str, str | None, str]] = []

    def request(db: Database, actor: Any, order_id: str, status: str | None, operation: Any,
                change: Any = None) -> int:
        sent.append((order_id, status, str(operation)))
        return 42

    monkeypatch.setattr(order_changes, "request_change", request)
    at = open_page(monkeypatch, tmp_path, "orders", state=SELECT_O1)
    assert "Qargo knows it as ID\\-1." in [c.value for c in at.caption]
    at.checkbox(key="orders.cancel_sure.O1").check().run()
    at.button(key="orders.cancel.O1").click().run()
    assert sent == [("O1", "PLANNED", "DELETE")]
    assert [i.value for i in at.info if "waiting for Qargo" in i.value or "still processing" in i.value]
    assert at.checkbox(key="orders.cancel_sure.O1").value is False
    with db_of(tmp_path) as db:
        db.execute("INSERT INTO order_uploads (upload_id, order_identifier, operation, status, error, job_id, line, "
                   "created_at, updated_at) VALUES ('U9', 'ID-1', 'DELETE', 'ERROR', 'Order ID-1 is INVOICED and "
                   "can not be cancelled', 42, 0, 'x', 'x')")
    at.run()
    errors = [e.value for e in at.error]
    assert errors == ["Qargo refused the cancellation: Order ID\\-1 is INVOICED and can not be cancelled"]
    at.checkbox(key="orders.cancel_sure.O1").check().run()
    assert not at.button(key="orders.cancel.O1").disabled  # refused: it may be tried again, nothing is pending


def test_a_cancelled_order_offers_neither_update_nor_cancel(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "orders", state=SELECT_O1)
    with db_of(tmp_path) as db:
        db.execute("UPDATE qargo_orders SET status = 'CANCELLED' WHERE order_id = 'O1'")
    data.clear()
    at.run()
    captions = [c.value for c in at.caption]
    assert "This order is cancelled: Qargo refuses any update of a cancelled order." in captions
    assert "This order is already cancelled at Qargo." in captions
    assert not [b for b in at.button if b.key == "orders.cancel.O1"]


def test_a_failing_panel_shows_a_reference_not_a_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise TypeError("unsupported operand type(s) at /srv/opsdash/ui/operations.py")

    monkeypatch.setattr(operations, "document_downloads", broken)
    at = open_page(monkeypatch, tmp_path, "orders", state=SELECT_O1)
    texts = [e.value for e in at.error]
    assert len(texts) == 1 and texts[0].startswith("The Documents panel could not be shown (reference ")
    assert "/srv" not in texts[0] and "TypeError" not in texts[0]
    assert at.subheader[-1].value == "Actions"  # the rest of the page is there


def test_a_tax_input_error_hides_the_previous_result(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    earlier = SimpleNamespace(rate=Decimal("0.19"), tax=None, total=None, tax_computed=False, reason="Standard rate",
                              status="taxable", tax_name=None)
    at = open_page(monkeypatch, tmp_path, "tax", state={"tax.last_calculation": earlier})
    assert [m.label for m in at.metric] == ["Rate", "Tax", "Total"]  # the earlier result, before the error
    at.text_input(key="tax.to_country").set_value("DE")
    at.text_input(key="tax.amount").set_value("12,5x")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Nothing was sent: Amount '12,5x' is not an amount; write e.g. 100.00."]
    assert "tax.last_calculation" not in at.session_state
    assert not at.metric  # no rate, tax or total of an earlier calculation under the error


def test_an_empty_payables_list_says_nothing_is_outstanding(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "invoices", seeded=False, synced=True,
                   state={"invoices.direction": "payable"})
    assert at.info[0].value.startswith("Nothing outstanding: every synced liability and carrier or freight invoice "
                                       "is paid or settled.")


def test_stock_without_matches_names_its_own_filters(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "stock", synced=True, state={"stock.show": "Runs out before next delivery"})
    assert at.info[0].value == "No rows match the filters. Clear the warehouse, product or Show filters above."


def test_an_incomplete_reorder_row_is_named_and_nothing_is_saved(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    """What the editor returns is replaced (AppTest cannot type into a data editor); the page's code runs."""
    edited = pd.DataFrame([{"product_code": "BOLT", "warehouse": "", "reorder_level": 80, "lead_time_days": None},
                           {"product_code": "NUT", "warehouse": "", "reorder_level": None, "lead_time_days": 3}])
    monkeypatch.setattr(reorder_editor.st, "data_editor", lambda *args, **kwargs: edited)
    at = open_page(monkeypatch, tmp_path, "stock")
    at.button(key="stock.levels_save").click().run()
    assert [e.value for e in at.error] == [
        "Nothing was saved. Fix these rows and save again: row 2 \\(NUT\\)\\: reorder\\_level is missing."]
    assert not at.success
    edited.loc[1, "reorder_level"] = 0  # a level of 0 is a level
    at.button(key="stock.levels_save").click().run()
    assert [s.value for s in at.success] == ["Saved 2 reorder levels: the table now holds exactly these."]
