"""Charge approval: Qargo's answer mirrored into qargo_charges, audited; a viewer is refused."""

from __future__ import annotations

from functools import partial

import pytest
from sqlite_utils import Database

from actions import orders
from actions.charges import decide_charges
from actions.inline import run_inline
from actions.order_file import parse_orders
from actions.orders import Polling
from actions.roles import PermissionDenied
from services.clients import make_client
from services.qargo.resources import order_charges
from services.settings import Settings
from store import audit
from tests.actions.conftest import OPERATOR, VIEWER, CountRequests
from tests.actions.test_orders import batch_csv


def an_order(db: Database, settings: Settings, polling: Polling) -> str:
    inputs = parse_orders(batch_csv({"customer_code": "C00007", "erp_order_number": "SO-CH1"}), "csv").inputs
    job = run_inline(db, orders.submit_upload(db, OPERATOR, inputs),
                     partial(orders.run_upload, db, settings, polling=polling))
    return str(orders.uploads_for_job(db, job.job_id)[0]["order_id"])


def test_reject_then_approve_updates_cache_and_audit(
        db: Database, settings: Settings, fast_polling: Polling) -> None:
    order_id = an_order(db, settings, fast_polling)
    with make_client(settings, "qargo") as client:
        charge = order_charges(client, order_id)[0]
    db["qargo_charges"].insert({"charge_id": charge.id, "order_id": order_id, "approval_status": None,
                                "synced_at": "2026-01-01T00:00:00Z"})
    for approve, expected in ((False, "REJECTED"), (True, "APPROVED")):
        answer = decide_charges(db, OPERATOR, order_id, [str(charge.id)], approve, settings=settings)
        assert [str(c.approval_status) for c in answer if c.id == charge.id] == [expected]
        assert db.conn.execute("SELECT approval_status FROM qargo_charges").fetchone()[0] == expected
    entries = audit.search(db, action="qargo.approve_charges")
    assert [e.result for e in entries] == ["APPROVED 1 charges", "REJECTED 1 charges"]


def test_viewer_cannot_decide(db: Database, settings: Settings, count_requests: CountRequests) -> None:
    with pytest.raises(PermissionDenied, match="approving charges needs the operator role"):
        decide_charges(db, VIEWER, "o1", ["c1"], True, settings=settings)
    assert count_requests("qargo") == 0
