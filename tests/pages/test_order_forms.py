"""The Orders page's action forms (ui/order_forms.py), keyed by the selected transport order."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pages.test_orders import open_page


def test_the_action_forms_of_the_selected_order_are_keyed_by_it(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "orders", state={"orders.selected": ("REF-A1", None, "O1")})
    assert [s.value for s in at.subheader][-1] == "Actions"
    cancel = at.button(key="orders.cancel.O1")
    assert cancel.disabled  # not before "Yes, cancel ..." is ticked
    at.checkbox(key="orders.cancel_sure.O1").check().run()
    assert not at.exception
    assert at.checkbox(key="orders.cancel_sure.O1").label == "Yes, cancel REF-A1"
    assert not at.button(key="orders.cancel.O1").disabled
    assert at.text_input(key="orders.new_reference.O1").value == "REF-A1"  # the order's reference, as stored
    assert at.button(key="orders.decide.O1").disabled  # no charge chosen yet
    # only the charge awaiting a decision can be chosen: a decided one is never decided again (issue 21)
    assert at.multiselect(key="orders.charges_picked.O1").options == ["Fuel · 12.50 EUR · requested"]
