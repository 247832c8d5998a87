"""A tax-ID batch whose worker died is resumed, not run again (issue 20, bench_cluster figure 3: a worker killed
-9 after a batch's last row but before the job's end was written left the batch recorded twice)."""

from __future__ import annotations

from functools import partial

from sqlite_utils import Database

from actions import taxids
from actions.inline import run_inline
from services.settings import Settings
from tests.actions.conftest import OPERATOR, CountRequests

VALID_DE = "DE856138800"  # sandbox world customer C00003


def test_a_rerun_records_only_the_numbers_the_dead_run_did_not(
        db: Database, settings: Settings, count_requests: CountRequests) -> None:
    rows = [taxids.TaxIdRow("DE", VALID_DE, "A"), taxids.TaxIdRow("DE", "123", "B"),
            taxids.TaxIdRow("DE", "DE1", "C")]
    job_id = taxids.submit_validation_batch(db, OPERATOR, rows)
    # the dead run: the first two rows recorded under this job, then the worker was killed
    db.conn.execute("INSERT INTO tax_id_validations (country, tax_id, name, offline_ok, result, message, "
                    "checked_at, checked_by, job_id) VALUES ('DE', ?, 'A', 1, 'valid', 'registered', "
                    "'2026-12-06T10:00:00Z', ?, ?), ('DE', 'DE123', 'B', 0, 'malformed', 'too short', "
                    "'2026-12-06T10:00:01Z', ?, ?)", [VALID_DE, OPERATOR.name, job_id, OPERATOR.name, job_id])
    job = run_inline(db, job_id, partial(taxids.run_batch, db, settings))
    assert job.result == {"total": 3, "valid": 1, "invalid": 0, "unavailable": 0, "malformed": 2, "refused": 0,
                          "vendor_calls": 0}
    recorded = db.conn.execute("SELECT tax_id, result FROM tax_id_validations WHERE job_id = ? ORDER BY id",
                               [job_id]).fetchall()
    assert recorded == [(VALID_DE, "valid"), ("DE123", "malformed"), ("DE1", "malformed")]  # each number once
    assert count_requests("quaderno") == 0  # the valid number was asked by the dead run, not again
