"""Order upload against the sandbox: completes, idempotent on repeat, refuses bad input before any call."""

from __future__ import annotations

from functools import partial

import pytest
from sqlite_utils import Database

from actions import orders
from actions.inline import run_inline
from actions.order_file import COLUMNS, FileRejected, parse_orders, template
from actions.orders import Polling
from actions.roles import PermissionDenied
from jobs import jobs
from services.clients import make_client
from services.qargo.resources import get_order
from services.settings import Settings
from store import audit
from tests.actions.conftest import OPERATOR, VIEWER, CountRequests


def batch_csv(*rows: dict[str, str]) -> bytes:
    example = dict(zip(COLUMNS, template("csv").decode().splitlines()[1].split(","), strict=True))
    lines = [",".join(COLUMNS)] + [",".join({**example, **row}[c] for c in COLUMNS) for row in rows]
    return ("\n".join(lines) + "\n").encode()


THREE = batch_csv(*({"customer_code": f"C0000{n}", "erp_order_number": f"SO-T{n}"} for n in (1, 2, 3)))


def upload(db: Database, settings: Settings, polling: Polling, data: bytes) -> jobs.Job:
    batch = parse_orders(data, "csv")
    assert batch.errors == []
    job_id = orders.submit_upload(db, OPERATOR, batch.inputs)
    return run_inline(db, job_id, partial(orders.run_upload, db, settings, polling=polling))


def test_csv_batch_uploads_and_every_order_completes(
        db: Database, settings: Settings, fast_polling: Polling) -> None:
    job = upload(db, settings, fast_polling, THREE)
    assert job.status == "done"
    assert job.result["by_status"] == {"COMPLETED": 3}
    assert (job.done, job.total, job.message) == (3, 3, "3 of 3 orders uploaded")
    rows = orders.uploads_for_job(db, job.job_id)
    assert [r["status"] for r in rows] == ["COMPLETED"] * 3
    assert all(r["order_id"] and r["requested_by"] == OPERATOR.name and r["operation"] == "CREATE" for r in rows)
    entries = audit.search(db, action="qargo.upload_order.create")
    assert sorted(e.target for e in entries) == sorted(r["order_identifier"] for r in rows)
    assert all(e.result == "COMPLETED" and e.payload_digest and "upload" in (e.vendor_reference or "")
               for e in entries)


def test_same_batch_twice_creates_each_order_once(
        db: Database, settings: Settings, fast_polling: Polling) -> None:
    data = batch_csv(*({"customer_code": "C00004", "erp_order_number": f"SO-R{n}"} for n in (1, 2)))
    first = orders.uploads_for_job(db, upload(db, settings, fast_polling, data).job_id)
    second_job = upload(db, settings, fast_polling, data)
    second = orders.uploads_for_job(db, second_job.job_id)
    assert [r["status"] for r in second] == ["DUPLICATE", "DUPLICATE"]
    assert [r["order_id"] for r in second] == [r["order_id"] for r in first]
    assert second_job.result["failed"] == []
    assert second_job.message == ("0 of 2 orders uploaded, 2 duplicates (already in Qargo with the same order "
                                  "identifier: nothing changed)")  # never "2 of 2 orders uploaded"


def test_double_click_queues_one_job(db: Database) -> None:
    inputs = parse_orders(THREE, "csv").inputs
    assert orders.submit_upload(db, OPERATOR, inputs) == orders.submit_upload(db, OPERATOR, inputs)
    assert len(jobs.recent(db, kinds=[orders.KIND])) == 1


def test_unknown_customer_ends_in_error_with_qargo_message(
        db: Database, settings: Settings, fast_polling: Polling) -> None:
    job = upload(db, settings, fast_polling, batch_csv({"customer_code": "NOPE1", "erp_order_number": "X1"}))
    assert job.result["by_status"] == {"ERROR": 1}
    assert job.result["failed"][0]["error"] == "Customer not found: NOPE1"


def test_update_and_cancel_one_order(db: Database, settings: Settings, fast_polling: Polling) -> None:
    data = batch_csv({"customer_code": "C00005", "erp_order_number": "SO-C1"})
    order = parse_orders(data, "csv").inputs[0]
    created = orders.uploads_for_job(db, upload(db, settings, fast_polling, data).job_id)[0]
    changed = order.model_copy(update={"planning_instructions": "call before arrival"})
    for submit, operation in ((orders.update_order, "UPDATE"), (orders.cancel_order, "DELETE")):
        job_id = submit(db, OPERATOR, changed)
        job = run_inline(db, job_id, partial(orders.run_upload, db, settings, polling=fast_polling))
        row = orders.uploads_for_job(db, job.job_id)[0]
        assert (row["operation"], row["status"], row["order_id"]) == (operation, "COMPLETED", created["order_id"])
    with make_client(settings, "qargo") as client:
        assert str(get_order(client, created["order_id"]).status) == "CANCELLED"


def test_bad_rows_are_reported_with_row_and_field_and_nothing_is_sent(
        db: Database, count_requests: CountRequests) -> None:
    data = batch_csv(
        {"erp_order_number": "G1"},
        {"erp_order_number": "B1", "pickup_date": "2026-02-30"},
        {"erp_order_number": "B2", "delivery_country": "XX"},
        {"erp_order_number": "B3", "goods_quantity": "-4"},
        {"erp_order_number": "G2"},
    )
    batch = parse_orders(data, "csv")
    assert [(e.row, e.field) for e in batch.errors] == [
        (3, "pickup_date"), (4, "delivery_country"), (5, "goods_quantity")]
    assert "YYYY-MM-DD" in batch.errors[0].message and "'XX'" in batch.errors[1].message
    assert [p.row for p in batch.orders] == [2, 6]
    assert count_requests("qargo") == 0


@pytest.mark.parametrize(("data", "expected"), [
    (b"customer_code,erp_order_number\nC00001,1\n", "required column is missing"),
    (b'customer_code,"erp_order_number\nC00001,1\n', "the CSV is malformed"),
    (b"x" * (5 * 1024 * 1024 + 1), "the limit is 5 MB"),
])
def test_unusable_files_are_refused_before_any_call(
        data: bytes, expected: str, count_requests: CountRequests) -> None:
    try:
        messages = [str(e) for e in parse_orders(data, "csv").errors]
    except FileRejected as exc:
        messages = [str(exc)]
    assert any(expected in m for m in messages), messages
    assert count_requests("qargo") == 0


def test_viewer_cannot_upload_and_nothing_is_queued_or_sent(db: Database, count_requests: CountRequests) -> None:
    inputs = parse_orders(THREE, "csv").inputs
    with pytest.raises(PermissionDenied, match="viewer.*operator"):
        orders.submit_upload(db, VIEWER, inputs)
    with pytest.raises(PermissionDenied):
        orders.cancel_order(db, VIEWER, inputs[0])
    assert jobs.recent(db) == []
    assert count_requests("qargo") == 0
