"""The Orders page's action forms for one Qargo transport order: update, cancel, decide charges (issue 21).

Every widget is keyed by the order (`order_id`), so a form can never carry another order's values. An action
is offered exactly where it can succeed (actions/order_changes.py says where, and why not elsewhere); it runs
from its button's callback (ui/outcomes.py), so the page below already shows what changed and the confirm box
is cleared, and its outcome (done, refused in Qargo's words, still running) stays where the form is. A change
queued at Qargo is followed by a fragment until Qargo's final answer, without a reload. The actions themselves
check the role and audit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from actions import order_changes as changes
from actions.charges import DECIDED, decide_charges, still_open
from services.qargo.order_input import Operation
from store.schema import session
from ui import data, operations, outcomes, safe


def update(column: Any, order: Mapping[str, Any], order_id: str) -> None:
    key = f"orders.update.{order_id}"
    with column:
        st.markdown("**Update**")
        offer = changes.can_update(order.get("status"))
        if not offer.allowed:
            st.caption(offer.reason or "")
            return
        _identifier_caption(order_id)
        with st.form(key):
            st.text_input("Planning instructions", key=f"orders.instructions.{order_id}")
            st.text_input("Customer reference", value=order.get("reference") or "",
                          key=f"orders.new_reference.{order_id}")
            st.form_submit_button("Send update", disabled=_running(key), on_click=_send,
                                  args=(key, order_id, order.get("status"), Operation.UPDATE))
        _follow(key, Operation.UPDATE)


def cancel(column: Any, order: Mapping[str, Any], order_id: str, number: str | None) -> None:
    key = f"orders.cancel.{order_id}"
    with column:
        st.markdown("**Cancel**")
        offer = changes.can_cancel(order.get("status"))
        done = (found := outcomes.current(key)) is not None and found.state == "done"
        if offer.allowed and not done:
            _identifier_caption(order_id)
            st.warning("Cancelling is irreversible: Qargo keeps a cancelled order cancelled.",
                       icon=":material/warning:")
            sure = st.checkbox(f"Yes, cancel {number or 'this order'}", key=f"orders.cancel_sure.{order_id}")
            st.button("Cancel order", disabled=not sure or _running(key), type="primary", key=key,
                      on_click=_send, args=(key, order_id, order.get("status"), Operation.DELETE))
        elif not offer.allowed:
            st.caption(offer.reason or "")
        _follow(key, Operation.DELETE)


def _identifier_caption(order_id: str) -> None:
    with session(data.db_path()) as db:
        identifier = changes.known_identifier(db, order_id)
    st.caption(f"Qargo knows it as {safe.text(identifier)}." if identifier else
               "Its order identifier is read from Qargo's export of the order when you send.")


def _send(key: str, order_id: str, status: str | None, operation: Operation) -> None:
    """Button callback: build the change from Qargo's export and queue it; the confirm box is cleared. A second
    click sent before the page redrew finds the first one running (or done) and does nothing."""
    found = outcomes.current(key)
    if found is not None and (found.state == "running" or (found.state == "done" and operation == Operation.DELETE)):
        return
    change = changes.Change()
    if operation == Operation.UPDATE:
        change = changes.Change(
            customer_reference_number=(st.session_state.get(f"orders.new_reference.{order_id}") or "").strip() or None,
            planning_instructions=(st.session_state.get(f"orders.instructions.{order_id}") or "").strip() or None)
    else:
        st.session_state[f"orders.cancel_sure.{order_id}"] = False
    job_id = outcomes.run(key, changes.request_change, order_id, status, operation, change)
    st.session_state[f"{key}.job"] = job_id
    if job_id is not None:
        outcomes.keep(key, "running", "Sent to Qargo; waiting for Qargo's answer…")


def _running(key: str) -> bool:
    found = outcomes.current(key)
    return found is not None and found.state == "running"


def _follow(key: str, operation: Operation) -> None:
    """The change's outcome; while Qargo processes it, re-read every 2 s (a fragment, not the whole page)."""
    job_id = st.session_state.get(f"{key}.job")

    @st.fragment(run_every=2 if _running(key) and job_id is not None else None)
    def follow() -> None:
        if job_id is not None and _running(key):
            with session(data.db_path()) as db:
                found = changes.outcome(db, int(job_id), operation)
            outcomes.keep(key, found.state, found.text + (f": {safe.text(found.detail)}" if found.detail else "."))
            if found.state != "running":
                data.clear()
                st.rerun(scope="app")  # the order's tables show Qargo's answer too
        outcomes.show(key)

    follow()


def charges(column: Any, charges: Sequence[Mapping[str, Any]], order_id: str) -> None:
    key = f"orders.decide.{order_id}"
    with column:
        st.markdown("**Charges**")
        open_charges = [c for c in charges if str(c.get("approval_status") or "").upper() not in DECIDED]
        labels = operations.charge_labels(open_charges)
        chosen = st.multiselect("Charges awaiting a decision", list(labels),
                                format_func=lambda cid: labels.get(cid, cid), key=f"orders.charges_picked.{order_id}",
                                placeholder="Choose charges" if labels else "No charge awaits a decision")
        decision = st.radio("Decision", ["Approve", "Reject"], horizontal=True, key=f"orders.decision.{order_id}")
        sure = st.checkbox(f"Yes, {decision.lower()} {_count(len(chosen))}", key=f"orders.charges_sure.{order_id}")
        st.button("Send decision", disabled=not (sure and chosen), key=key, on_click=_decide,
                  args=(key, order_id, labels))
        outcomes.show(key)


def _count(n: int) -> str:
    return f"{n} charge" if n == 1 else f"{n} charges"


def _decide(key: str, order_id: str, labels: Mapping[str, str]) -> None:
    """Button callback: decide at Qargo, then clear the choice and the confirm box (no second decision)."""
    with session(data.db_path()) as db:  # a second click sent before the page redrew: nothing left to decide
        chosen = still_open(db, order_id, list(st.session_state.get(f"orders.charges_picked.{order_id}") or []))
    if not chosen:
        return
    approve = st.session_state.get(f"orders.decision.{order_id}", "Approve") == "Approve"
    st.session_state[f"orders.charges_picked.{order_id}"] = []
    st.session_state[f"orders.charges_sure.{order_id}"] = False
    answered = outcomes.run(key, decide_charges, order_id, chosen, approve)
    if answered is None:
        return
    status = {str(c.id): str(c.approval_status) for c in answered if c.id}
    wanted = "APPROVED" if approve else "REJECTED"
    took = [cid for cid in chosen if status.get(cid, wanted) == wanted]
    text = f"Qargo {wanted.lower()} {_count(len(took))}: " + "; ".join(labels.get(c, c) for c in took) + "."
    if len(took) < len(chosen):
        text += f" {len(chosen) - len(took)} kept another status at Qargo: see the Charges tab."
    outcomes.keep(key, "done" if took else "refused", text)
