"""The Orders page's action forms for one Qargo transport order: update, cancel, decide charges.

Every widget is keyed by the order (`order_id`), so a form can never carry another order's values.
The actions themselves (actions/orders.py, actions/charges.py) check the role and audit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from actions import orders as order_actions
from actions.charges import decide_charges
from services.qargo.order_input import Entity, Operation, OrderInput
from ui import operations


def _customer(order: Mapping[str, Any]) -> Entity:
    return Entity(code=order.get("customer_code") or None, name=order.get("customer") or None)


def update(column: Any, order: Mapping[str, Any], order_id: str) -> None:
    identifier = str(order.get("order_identifier") or "")
    with column, st.form(f"orders.update.{order_id}"):
        st.markdown("**Update**")
        instructions = st.text_input("Planning instructions", key=f"orders.instructions.{order_id}")
        reference = st.text_input("Customer reference", value=order.get("reference") or "",
                                  key=f"orders.new_reference.{order_id}")
        if st.form_submit_button("Send update", disabled=not identifier):
            change = OrderInput(operation=Operation.UPDATE, order_identifier=identifier, customer=_customer(order),
                                consignments=[], planning_instructions=instructions or None,
                                customer_reference_number=reference or None)
            if operations.attempt(order_actions.update_order, change) is not None:
                st.success("Update queued: its progress shows in the Uploads tab.")


def cancel(column: Any, order: Mapping[str, Any], order_id: str, number: str | None) -> None:
    identifier = str(order.get("order_identifier") or "")
    with column:
        st.markdown("**Cancel**")
        st.warning("Cancelling is irreversible: Qargo keeps a cancelled order cancelled.", icon=":material/warning:")
        sure = st.checkbox(f"Yes, cancel {number or 'this order'}", key=f"orders.cancel_sure.{order_id}")
        if st.button("Cancel order", disabled=not (sure and identifier), type="primary",
                     key=f"orders.cancel.{order_id}"):
            gone = OrderInput(operation=Operation.DELETE, order_identifier=identifier, customer=_customer(order),
                              consignments=[])
            if operations.attempt(order_actions.cancel_order, gone) is not None:
                st.success("Cancellation queued.")
        if not identifier:
            st.caption("This order has no order identifier in the cache: change it in Qargo.")


def charges(column: Any, charges: Sequence[Mapping[str, Any]], order_id: str) -> None:
    with column:
        st.markdown("**Charges**")
        labels = operations.charge_labels(charges)
        chosen = st.multiselect("Charges", list(labels), format_func=lambda cid: labels.get(cid, cid),
                                key=f"orders.charges_picked.{order_id}",
                                placeholder="Choose charges" if labels else "No charges synced for this order")
        decision = st.radio("Decision", ["Approve", "Reject"], horizontal=True, key=f"orders.decision.{order_id}")
        sure = st.checkbox(f"Yes, {decision.lower()} {len(chosen)} charges", key=f"orders.charges_sure.{order_id}")
        if st.button("Send decision", disabled=not (sure and chosen), key=f"orders.decide.{order_id}"):
            decided = operations.attempt(decide_charges, order_id, chosen, decision == "Approve")
            if decided is not None:
                st.success(f"{decision}d {len(chosen)} charges at Qargo.")
