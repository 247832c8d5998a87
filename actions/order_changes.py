"""Update or cancel one Qargo transport order, carrying what Qargo's document asks (issue 21).

What a change must carry: the whole order. `OrderInput` requires `operation`, `order_identifier`, `customer` and
`consignments` (qargo-tms-openapi-v1.2.0-2026.yml, schema OrderInput `required`), and the document's update and
cancel examples carry every consignment with its pickup and delivery stop (seeds/000 lines 455-515 and 523-560).
An update without them ends ERROR at Qargo ("An order needs at least one consignment with a pickup and a delivery
stop"). So a change starts from Qargo's own export of the order, which "corresponds to the order creation
format" and carries the order's identifier (seeds/000 lines 566-573): one GET when staff press the button (a
single interactive call, ARCHITECTURE.md "Data flow"), then the change is queued as an upload job like any upload
(actions/orders.py), so the worker sends it and polls it to a final status.

Which orders may change (seeds/000): the `order_identifier` names the order to update (line 453) and cannot
fetch one (line 394); a cancelled order cannot be updated (line 521); cancelling a cancelled order is not an error
(line 519) but changes nothing. The document names no status that refuses a cancel, so every order not cancelled
may be cancelled (the literal reading, docs/vendor-readings.md "Qargo order changes"); if Qargo refuses one
anyway, its words are shown (`outcome`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from actions.orders import FAILED, FINAL, submit_upload, uploads_for_job
from actions.roles import Actor, require
from jobs import jobs
from services.clients import make_client
from services.core import VendorClient, VendorError
from services.qargo.order_input import Operation, OrderInput
from services.qargo.resources import order_export
from services.settings import Settings, get_settings
from store.changes import note_write
from store.db import transaction

CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Offer:
    """Whether an action can succeed on an order, and if not, why (shown where the button would be)."""

    allowed: bool
    reason: str | None = None


def can_update(status: str | None) -> Offer:
    if (status or "").upper() == CANCELLED:  # seeds/000 line 521
        return Offer(False, "This order is cancelled: Qargo refuses any update of a cancelled order.")
    return Offer(True)


def can_cancel(status: str | None) -> Offer:
    if (status or "").upper() == CANCELLED:  # seeds/000 line 519: a second cancel changes nothing
        return Offer(False, "This order is already cancelled at Qargo.")
    return Offer(True)


def known_identifier(db: Database, order_id: str) -> str | None:
    """The order's `order_identifier`: the cache's, else the one opsdash uploaded it with (an order our upload
    created is linked by Qargo's `order_id` in `order_uploads`; its visibility events carry no identifier)."""
    row = db.conn.execute("SELECT order_identifier FROM qargo_orders WHERE order_id = ?", [order_id]).fetchone()
    if row and row[0]:
        return str(row[0])
    row = db.conn.execute("SELECT order_identifier FROM order_uploads WHERE order_id = ? AND status IN "
                          "('COMPLETED', 'DUPLICATE') ORDER BY updated_at DESC LIMIT 1", [order_id]).fetchone()
    return str(row[0]) if row and row[0] else None


@dataclass(frozen=True)
class Change:
    """What staff change; None keeps Qargo's value."""

    customer_reference_number: str | None = None
    planning_instructions: str | None = None


def prepare(client: VendorClient, order_id: str, operation: Operation, change: Change = Change()) -> OrderInput:
    """Qargo's export of the order with `operation` and the changed fields set (the whole order, see above)."""
    try:
        exported = order_export(client, order_id)
    except VendorError as exc:
        if "unexpected shape" in str(exc):  # OrderInput needs an identifier: an order made by hand has none
            raise ValueError("Qargo's export of this order has no order identifier (it was created in Qargo, "
                             "not through the API): change it in Qargo") from None
        raise
    fields = {k: v for k, v in vars(change).items() if v is not None}
    return exported.model_copy(update={"operation": operation, **fields})


def request_change(db: Database, actor: Actor, order_id: str, status: str | None, operation: Operation,
                   change: Change = Change(), *, settings: Settings | None = None,
                   client: VendorClient | None = None) -> int:
    """Queue an UPDATE or DELETE of one order built from Qargo's export; returns the job id.

    Refused (ValueError, nothing sent) where it cannot succeed. The same change still pending returns the same job
    (actions.orders.submit_upload's dedupe key), so a second click never sends it twice."""
    require(actor, "operator", "changing orders at Qargo")
    offer = can_update(status) if operation == Operation.UPDATE else can_cancel(status)
    if not offer.allowed:
        raise ValueError(offer.reason or "this order cannot be changed")
    own = client is None
    client = client or make_client(settings or get_settings(), "qargo")
    try:
        order = prepare(client, order_id, operation, change)
    finally:
        if own:
            client.close()
    _remember_identifier(db, order_id, order.order_identifier)
    return submit_upload(db, actor, [order])


def _remember_identifier(db: Database, order_id: str, identifier: str) -> None:
    """Keep the identifier the export told us, so the page names it from now on (issue 21)."""
    with transaction(db):
        note_write(db, "qargo_orders")
        db.conn.execute("UPDATE qargo_orders SET order_identifier = coalesce(order_identifier, ?) WHERE order_id = ?",
                        [identifier, order_id])


@dataclass(frozen=True)
class Outcome:
    """A change's state in words: `state` is done | refused (Qargo's words) | failed (not sent) | running."""

    state: str
    text: str  # ours
    detail: str | None = None  # the vendor's words (or an error's), shown after ours as text, never markdown


DONE_WORDS = {Operation.UPDATE: "Qargo updated the order", Operation.DELETE: "Qargo cancelled the order"}


def outcome(db: Database, job_id: int, operation: Operation) -> Outcome:
    """What Qargo made of the change queued as `job_id`, from its one `order_uploads` row."""
    rows = uploads_for_job(db, job_id)
    job = jobs.get(db, job_id)
    if not rows or rows[-1]["status"] not in FINAL:
        if job is not None and job.status in ("failed", "error", "cancelled"):
            return Outcome("failed", "Not sent", job.error or job.status)
        return Outcome("running", "Sent to Qargo; Qargo is still processing it.")
    row = rows[-1]
    if row["status"] == "FAILED":  # ours: the upload could not be sent (actions/orders.py)
        return Outcome("failed", "Not sent, Qargo could not be reached", row["error"] or "no reason given")
    if row["status"] in FAILED:
        verb = "update" if operation == Operation.UPDATE else "cancellation"
        return Outcome("refused", f"Qargo refused the {verb}", row["error"] or row["status"])
    if row["status"] == "DUPLICATE":  # seeds/000 line 392: an identical repeat changes nothing
        return Outcome("done", "Qargo already had these values: nothing changed.")
    return Outcome("done", DONE_WORDS[operation], row["order_identifier"])
