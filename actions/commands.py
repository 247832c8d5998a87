"""`opsdash upload-orders FILE` and `opsdash validate-tax-ids FILE`: the job runs in this process.

The acting user is the local single user (actions.roles.local_actor: `OPSDASH_LOCAL_USER` with the role
`OPSDASH_LOCAL_ROLE`, an operator by default; `opsdash` refuses a viewer before reading the file).
Exit codes: 0 all good; 1 some rows or orders failed (upload-orders) or some rows could not be read
(validate-tax-ids: an invalid or unavailable number is a result, not a failure); 2 unusable file, vendor
not configured, or a viewer. A long wait (a vendor's Retry-After, another holder of the job) is said on stderr.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import TextIO

from sqlite_utils import Database

from actions import orders, taxids
from actions.inline import run_inline
from actions.order_file import FileRejected, detect_format, parse_orders, read_order_file
from actions.roles import PermissionDenied, local_actor
from jobs.jobs import Job
from services.core.retry import tell_waits
from services.settings import Settings
from store.schema import open_store


def upload_orders(path: Path, settings: Settings, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if not settings.configured("qargo"):
        print("qargo is not configured: set QARGO_BASE_URL", file=err)
        return 2
    try:
        fmt = detect_format(path.name)
        batch = parse_orders(read_order_file(path), fmt)  # size bounded before reading
    except (OSError, FileRejected) as exc:
        print(f"{path}: {exc}", file=err)
        return 2
    for error in batch.errors:
        print(error, file=err)
    print(f"{len(batch.orders)} valid orders, {len(batch.errors)} errors", file=out)
    if not batch.orders:
        return 1
    db, quiet = open_store(settings), tell_waits(partial(print, file=err, flush=True))
    try:
        job_id = orders.submit_upload(db, local_actor(), batch.inputs, rows=[p.row for p in batch.orders])
        job = run_inline(db, job_id, partial(orders.run_upload, db, settings), say=partial(print, file=err))
        for row in orders.uploads_for_job(db, job_id):
            name = orders.upload_name(row) or row["order_identifier"]
            print(f"{name}  {row['order_identifier']}  {row['status']:<20} {row['order_id'] or '-'}  "
                  f"{row['error'] or ''}", file=out)
    except PermissionDenied as exc:
        print(exc, file=err)
        return 2
    finally:
        quiet()
        db.close()
    return _upload_exit(job, bool(batch.errors), out, err)


def _upload_exit(job: Job, had_errors: bool, out: TextIO, err: TextIO) -> int:
    result = job.result or {}
    if job.error:
        print(f"upload job failed: {job.error}", file=err)
        return 1
    print(orders.message(result), file=out)
    return 1 if had_errors or result.get("failed") or result.get("pending") else 0


def validate_tax_ids(path: Path, settings: Settings, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        rows, errors = taxids.parse_csv(path.read_bytes())
    except (OSError, ValueError) as exc:
        print(f"{path}: {exc}", file=err)
        return 2
    for error in errors:
        print(error, file=err)
    if not rows:
        print("no tax IDs to validate", file=err)
        return 1 if errors else 0
    db, quiet = open_store(settings), tell_waits(partial(print, file=err, flush=True))
    try:
        job_id = taxids.submit_validation_batch(db, local_actor(), rows)
        job = run_inline(db, job_id, partial(taxids.run_batch, db, settings), say=partial(print, file=err))
        _print_results(db, job_id, out)
    except PermissionDenied as exc:
        print(exc, file=err)
        return 2
    finally:
        quiet()
        db.close()
    if job.error:
        print(f"validation job failed: {job.error}", file=err)
        return 1
    counts = job.result or {}
    print(", ".join(f"{counts.get(k, 0)} {k}" for k in
                    ("total", "valid", "invalid", "unavailable", "malformed", "refused", "vendor_calls")), file=out)
    if counts.get("stopped"):  # a 401/403: the rest was not checked (actions/taxids.py)
        print(f"{counts['stopped']}; {counts.get('not_checked', 0)} not checked", file=err)
        return 1
    return 1 if errors else 0


def _print_results(db: Database, job_id: int, out: TextIO) -> None:
    cursor = db.conn.execute(
        "SELECT country, tax_id, result, message FROM tax_id_validations WHERE job_id = ? ORDER BY id", [job_id])
    for country, tax_id, result, message in cursor:
        print(f"{country} {tax_id:<16} {result:<12} {message}", file=out)
