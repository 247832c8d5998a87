"""Issue 21: uploaded orders are named by the ERP order number the user typed or uploaded and the file row it came
from, on the Upload page, in the audit log and in the CLI, never by our identifier's hash or Qargo's UUID."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
from sqlite_utils import Database

from actions import orders
from actions.inline import run_inline
from actions.order_file import parse_orders
from actions.orders import Polling
from jobs import jobs
from services.settings import Settings
from store.db import connect
from store.migrations import MIGRATIONS
from store.schema import migrate
from tests.actions.conftest import OPERATOR
from tests.actions.test_orders import batch_csv

# rows 2 and 4 of the file are good; row 3 has no customer code, so the second order sent is the file's row 4
FILE = batch_csv({"customer_code": "C00001", "erp_order_number": "SO-4711"},
                 {"customer_code": "", "erp_order_number": "SO-4712"},
                 {"customer_code": "C00002", "erp_order_number": "SO-4713"})


def test_an_upload_lists_each_order_by_its_erp_number_and_file_row(
        db: Database, settings: Settings, fast_polling: Polling) -> None:
    batch = parse_orders(FILE, "csv")
    assert [e.row for e in batch.errors] == [3]
    job_id = orders.submit_upload(db, OPERATOR, batch.inputs, rows=[p.row for p in batch.orders])
    job = run_inline(db, job_id, partial(orders.run_upload, db, settings, polling=fast_polling))
    assert job.status == "done"
    rows = orders.uploads_for_job(db, job_id)
    assert [(r["erp_order_number"], r["source_row"]) for r in rows] == [("SO-4711", 2), ("SO-4713", 4)]
    assert [orders.upload_name(r) for r in rows] == ["SO-4711 (row 2)", "SO-4713 (row 4)"]
    assert all(r["order_identifier"].startswith("OPS-") for r in rows)  # the key Qargo deduplicates on stays


def test_an_order_from_the_form_has_its_number_and_no_row(db: Database) -> None:
    inputs = parse_orders(FILE, "csv").inputs[:1]
    job_id = orders.submit_upload(db, OPERATOR, inputs)  # no rows: the one-order form
    job = jobs.get(db, job_id)
    assert job is not None and "rows" not in job.payload
    assert orders.source_row(job, 0) is None
    assert orders.erp_order_number(inputs[0]) == "SO-4711"
    assert orders.upload_name({"erp_order_number": "SO-4711", "source_row": None}) == "SO-4711"


@pytest.mark.sqlite_only("PostgreSQL databases start at the baseline of 0001-0025 (store/pg_schema.py): "
                        "none from before 0025 exists")
def test_the_migration_gives_earlier_upload_lines_their_erp_number(tmp_path: Path) -> None:
    db = connect(tmp_path / "old.db")
    try:
        MIGRATIONS.apply(db, stop_before="0025_upload_erp_numbers")
        payload = {"orders": [o.payload() for o in parse_orders(FILE, "csv").inputs]}
        db.execute("INSERT INTO jobs (job_id, kind, payload, status, created_at) VALUES (7, 'upload_orders', ?, "
                   "'done', '2026-12-01T10:00:00Z')", [json.dumps(payload)])
        for line, ident in enumerate(("OPS-a", "OPS-b")):
            db.execute("INSERT INTO order_uploads (upload_id, order_identifier, operation, status, job_id, line, "
                       "created_at, updated_at) VALUES (?, ?, 'CREATE', 'COMPLETED', 7, ?, 'x', 'x')",
                       [f"U{line}", ident, line])
        db.execute("INSERT INTO order_uploads (upload_id, order_identifier, operation, status, created_at, "
                   "updated_at) VALUES ('U9', 'OPS-c', 'CREATE', 'COMPLETED', 'x', 'x')")  # before lines: no job
        assert "0025_upload_erp_numbers" in migrate(db)
        got = db.execute("SELECT upload_id, erp_order_number, source_row FROM order_uploads ORDER BY upload_id")
        assert got.fetchall() == [("U0", "SO-4711", None), ("U1", "SO-4713", None), ("U9", None, None)]
    finally:
        db.close()
