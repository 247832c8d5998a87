"""Update and cancel of one order against the sandbox (issue 21): built from Qargo's export, so Qargo accepts
them; offered only where they can succeed; the outcome in Qargo's words."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from sqlite_utils import Database

from actions import order_changes as changes
from actions import orders
from actions.charges import still_open
from actions.inline import run_inline
from actions.orders import Polling
from actions.roles import PermissionDenied
from sandbox.qargo.common import stable_uuid
from services.clients import make_client
from services.qargo.order_input import Entity, Operation, OrderInput
from services.qargo.resources import get_order
from services.settings import Settings
from tests.actions.conftest import OPERATOR, VIEWER, CountRequests
from tests.actions.test_orders import THREE, upload

SEED = 1  # tests/conftest.py relaxed_sandbox's seed


def run(db: Database, settings: Settings, polling: Polling, job_id: int) -> None:
    run_inline(db, job_id, partial(orders.run_upload, db, settings, polling=polling))


def created_order(db: Database, settings: Settings, polling: Polling) -> str:
    job = upload(db, settings, polling, THREE)
    return str(orders.uploads_for_job(db, job.job_id)[0]["order_id"])


def qargo_order(settings: Settings, order_id: str) -> Any:
    with make_client(settings, "qargo") as client:
        return get_order(client, order_id)


def test_update_carries_the_whole_order_and_qargo_applies_it(
        db: Database, settings: Settings, fast_polling: Polling) -> None:
    order_id = created_order(db, settings, fast_polling)
    change = changes.Change(customer_reference_number="SO-CHANGED", planning_instructions="ring twice")
    job_id = changes.request_change(db, OPERATOR, order_id, "TO_PLAN", Operation.UPDATE, change, settings=settings)
    assert changes.outcome(db, job_id, Operation.UPDATE).state == "running"  # queued, not sent yet
    run(db, settings, fast_polling, job_id)
    found = changes.outcome(db, job_id, Operation.UPDATE)
    row = orders.uploads_for_job(db, job_id)[0]
    assert (found.state, row["status"], row["operation"]) == ("done", "COMPLETED", "UPDATE")
    assert (found.text, found.detail) == ("Qargo updated the order", row["order_identifier"])
    assert qargo_order(settings, order_id).customer_reference_number == "SO-CHANGED"


def test_an_update_without_consignments_is_refused_in_qargos_words(
        db: Database, settings: Settings, fast_polling: Polling) -> None:
    """What the page used to send: Qargo refuses it, and the outcome says so (not "Update queued")."""
    order_id = created_order(db, settings, fast_polling)
    identifier = orders.uploads_for_job(db, 1)[0]["order_identifier"]
    before = qargo_order(settings, order_id).customer_reference_number
    bare = OrderInput(operation=Operation.UPDATE, order_identifier=identifier, customer=Entity(code="C00001"),
                      consignments=[])
    job_id = orders.update_order(db, OPERATOR, bare)
    run(db, settings, fast_polling, job_id)
    found = changes.outcome(db, job_id, Operation.UPDATE)
    assert found == changes.Outcome(
        "refused", "Qargo refused the update",
        "An order needs at least one consignment with a pickup and a delivery stop")  # Qargo's words
    assert qargo_order(settings, order_id).customer_reference_number == before == "PO-77"  # unchanged


def test_a_finished_order_is_cancelled_on_the_literal_reading(
        db: Database, settings: Settings, fast_polling: Polling) -> None:
    """seeds/000 line 519 names no status that refuses a cancel: an order already invoiced is cancelled too."""
    posted = next(oid for oid in (stable_uuid(SEED, "order", i) for i in range(1, 37))
                  if qargo_order(settings, oid).status == "INVOICE_POSTED")
    db.execute("INSERT INTO qargo_orders (order_id, status, synced_at) VALUES (?, 'INVOICE_POSTED', 'x')", [posted])
    assert changes.known_identifier(db, posted) is None  # the cache never had it (a webhook-only order)
    job_id = changes.request_change(db, OPERATOR, posted, "INVOICE_POSTED", Operation.DELETE, settings=settings)
    run(db, settings, fast_polling, job_id)
    assert changes.outcome(db, job_id, Operation.DELETE).state == "done"
    assert qargo_order(settings, posted).status == "CANCELLED"
    assert (changes.known_identifier(db, posted) or "").startswith("TMS-")  # learnt from the export


def test_an_order_opsdash_uploaded_keeps_its_identifier(
        db: Database, settings: Settings, fast_polling: Polling) -> None:
    order_id = created_order(db, settings, fast_polling)
    db.execute("INSERT INTO qargo_orders (order_id, status, synced_at) VALUES (?, 'TO_PLAN', 'x')", [order_id])  # from a webhook
    assert changes.known_identifier(db, order_id) == orders.uploads_for_job(db, 1)[0]["order_identifier"]


@pytest.mark.parametrize("operation, reason", [
    (Operation.UPDATE, "This order is cancelled: Qargo refuses any update of a cancelled order."),
    (Operation.DELETE, "This order is already cancelled at Qargo."),
])
def test_a_cancelled_order_is_refused_before_any_call(db: Database, count_requests: CountRequests,
                                                      operation: Operation, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        changes.request_change(db, OPERATOR, "any-order", "CANCELLED", operation)
    with pytest.raises(PermissionDenied):
        changes.request_change(db, VIEWER, "any-order", "TO_PLAN", operation)
    assert count_requests("qargo") == 0


class _NoIdentifier:
    """A Qargo whose export of a hand-made order has no order identifier."""

    def get_json(self, path: str, params: Any = None) -> dict[str, Any]:
        return {"operation": "CREATE", "order_identifier": None, "customer": {"code": "C1"}, "consignments": []}


def test_an_order_without_identifier_at_qargo_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="has no order identifier"):
        changes.prepare(_NoIdentifier(), "O1", Operation.UPDATE)  # type: ignore[arg-type]


def test_a_second_decision_finds_nothing_left_to_decide(db: Database) -> None:
    """A second click sent before the page redrew: the first decision is mirrored at once (actions/charges.py)."""
    db.execute("INSERT INTO qargo_charges (charge_id, order_id, approval_status, synced_at) VALUES "
               "('A', 'O', 'APPROVED', 'x'), ('B', 'O', 'REQUESTED', 'x'), ('C', 'O', NULL, 'x')")
    assert still_open(db, "O", ["A", "B", "C"]) == ["B", "C"]


def test_an_upload_that_completes_gives_the_cached_order_its_identifier(
        db: Database, settings: Settings, fast_polling: Polling) -> None:
    """The visibility webhook may store the order first, without an identifier (issue 21: "no order identifier
    in the cache" for orders opsdash uploaded); the upload's final answer fills it in."""
    order_id = created_order(db, settings, fast_polling)
    identifier = orders.uploads_for_job(db, 1)[0]["order_identifier"]
    db.execute("INSERT INTO qargo_orders (order_id, status, synced_at) VALUES (?, 'TO_PLAN', 'x')", [order_id])
    job_id = changes.request_change(db, OPERATOR, order_id, "TO_PLAN", Operation.UPDATE,
                                    changes.Change(planning_instructions="gate 4"), settings=settings)
    db.execute("UPDATE qargo_orders SET order_identifier = NULL WHERE order_id = ?", [order_id])  # as a webhook left it
    run(db, settings, fast_polling, job_id)
    assert db.execute("SELECT order_identifier FROM qargo_orders WHERE order_id = ?", [order_id]).fetchone() == (
        identifier,)
