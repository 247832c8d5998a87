"""Issue 21: on the Upload page and in the audit log an uploaded order is named by the ERP order number the user
typed or uploaded, with the file row it came from; never by our identifier's hash (OPS-…) or Qargo's UUID."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from store import audit
from store.db import connect
from tests.pages.conftest import run_page
from tests.pages.test_actions import HEADER, ROW, upload

SECOND = ROW.replace("SO-1001", "SO-1002")


def test_confirming_keeps_each_orders_file_row_and_the_results_name_the_erp_number(seeded_db: Path) -> None:
    assert "SO-1001" in ROW  # the template's example order
    at = upload(f"{HEADER}\n{ROW}\n{SECOND}\n".encode())
    at.button(key="upload.confirm").click().run()
    with contextlib.closing(connect(seeded_db)) as conn:
        job_id, payload = conn.execute("SELECT job_id, payload FROM jobs WHERE kind = 'upload_orders'").fetchone()
        assert json.loads(payload)["rows"] == [2, 3]  # the spreadsheet's rows: the header is row 1
        for line, (number, row) in enumerate((("SO-1001", 2), ("SO-1002", 3))):  # what the worker writes
            conn.execute("INSERT INTO order_uploads (upload_id, order_identifier, operation, status, order_id, job_id, "
                         "line, erp_order_number, source_row, created_at, updated_at) VALUES (?, ?, 'CREATE', "
                         "'COMPLETED', ?, ?, ?, ?, ?, '2026-12-01T10:00:00Z', '2026-12-01T10:00:00Z')",
                         [f"u-{line}", f"OPS-{line:016x}", f"0b9c2f4e-5d6a-4b7c-8d9e-0f1a2b3c4d5{line}", job_id,
                          line, number, row])
    at.run()
    progress, recent = (t.value for t in at.dataframe[-2:])  # this upload's results; the recent uploads
    assert list(progress.columns[:3]) == ["erp_order_number", "row", "result"]  # the three a phone shows first
    assert list(progress["erp_order_number"]) == ["SO-1001", "SO-1002"]
    assert list(progress["row"]) == ["2", "3"]
    assert sorted(recent["erp_order_number"]) == ["SO-1001", "SO-1002"]
    assert set(recent["upload"]) == {f"/upload?job={job_id}"}
    for table in (progress, recent):
        assert "OPS-" not in table.to_string() and "0b9c2f4e" not in table.to_string()
    assert any(s.value == "Recent uploads" for s in at.subheader)


def test_no_uploads_yet_is_said(seeded_db: Path) -> None:
    at = run_page("pages/upload.py")
    assert any(c.value.startswith("No orders uploaded yet.") for c in at.caption)


def test_the_audit_log_names_an_uploaded_order_by_its_erp_number_and_row(seeded_db: Path) -> None:
    db = connect(seeded_db)
    db["order_uploads"].insert({"upload_id": "u-1", "order_identifier": "OPS-688c5c7ea41a2817", "operation": "CREATE",
                                "status": "COMPLETED", "erp_order_number": "SO-4711", "source_row": 7,
                                "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z"})
    audit.record(db, "dora", "qargo.upload_order.create", "OPS-688c5c7ea41a2817", {"order": 1}, "COMPLETED",
                 "upload u-1")
    db.close()
    at = run_page("pages/audit.py", before={"audit.actor": "dora"})
    assert list(at.dataframe[0].value["target"]) == ["order SO-4711 (row 7)"]

