"""Approve or reject Qargo charges of one order, then mirror the decision into `qargo_charges`.

Setting an approval status to a fixed value is idempotent at Qargo, so a retried click is harmless
(services.qargo.resources.approve_charges).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlite_utils import Database

from actions.roles import Actor, require
from services.clients import make_client
from services.core import VendorClient, VendorError
from services.qargo.models import Charge
from services.qargo.resources import approve_charges
from services.settings import Settings, get_settings
from store import audit
from store.changes import note_write
from store.db import transaction


def decide_charges(db: Database, actor: Actor, order_id: str, charge_ids: Sequence[str], approve: bool, *,
                   description: str | None = None, settings: Settings | None = None,
                   client: VendorClient | None = None) -> list[Charge]:
    """APPROVED or REJECTED for `charge_ids`; returns the order's charges as Qargo answers them."""
    require(actor, "operator", "approving charges")
    ids = [str(c) for c in charge_ids if str(c).strip()]
    if not ids:
        raise ValueError("select at least one charge")
    decision = "APPROVED" if approve else "REJECTED"
    payload = {"order_id": order_id, "charge_ids": ids, "approval_status": decision, "description": description}
    own = client is None
    client = client or make_client(settings or get_settings(), "qargo")
    try:
        charges = approve_charges(client, order_id, ids, approve, description)
    except VendorError as exc:
        audit.record(db, actor.name, "qargo.approve_charges", order_id, payload, f"FAILED: {exc}", exc.request_id)
        raise
    finally:
        if own:
            client.close()
    _mirror(db, order_id, ids, charges, decision)
    audit.record(db, actor.name, "qargo.approve_charges", order_id, payload,
                 f"{decision} {len(ids)} charges", f"order {order_id}")
    return charges


DECIDED = ("APPROVED", "REJECTED", "REJECTED_INTERNAL")  # ChargeApprovalStatus values with no decision left


def still_open(db: Database, order_id: str, charge_ids: Sequence[str]) -> list[str]:
    """The charges of `charge_ids` with no decision in the cache yet (a decision is mirrored at once, so a second
    click that arrives before the page redraws finds nothing left to decide)."""
    marks = ", ".join("?" for _ in DECIDED)
    decided = {r[0] for r in db.conn.execute(
        f"SELECT charge_id FROM qargo_charges WHERE order_id = ? AND upper(approval_status) IN ({marks})",
        [order_id, *DECIDED])}
    return [c for c in charge_ids if c not in decided]


def _mirror(db: Database, order_id: str, ids: Sequence[str], charges: Sequence[Charge], decision: str) -> None:
    """The status Qargo answered for each charge (our decision if the answer omits one)."""
    answered = {str(c.id): str(c.approval_status) for c in charges if c.id and c.approval_status is not None}
    with transaction(db):
        note_write(db, "qargo_charges")
        for charge_id in ids:
            db.conn.execute(
                "UPDATE qargo_charges SET approval_status = ? WHERE charge_id = ? AND order_id = ?",
                [answered.get(charge_id, decision), charge_id, order_id])
