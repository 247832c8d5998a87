"""Tax-ID validation: offline check first, then Quaderno's authority check, every answer stored.

Outcomes in `tax_id_validations.result`:
- valid       the authority knows the number;
- malformed   fails our offline format / check-digit test (python-stdnum): NO vendor call, `offline_ok` = 0;
              our verdict, not the authority's, so it never counts as "invalid";
- invalid     well formed, and the tax authority says it does not know the number (its answer);
- unavailable the authority's service is down (`valid` null, seeds/001 lines 1161-1172), or Quaderno did not
              answer (5xx, timeout, no connection, rate limited): never recorded as invalid, and
              `pending_retries` lists these numbers to check again later;
- refused     Quaderno refused the request (400/422, seeds/001 lines 97, 106): stored with Quaderno's message,
              not retried (asking again the same way gets the same answer).
A 401/403 (seeds/001 lines 88-93: the API key or its user's rights) is a configuration error, not an answer
about the number: nothing is stored for it, it is recorded for the Vendors page (store/config_errors.py) and
raised (a batch stops there and says so); it is not retried hourly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from actions.roles import Actor, require
from jobs import jobs
from jobs.worker import Worker, handler, scheduled
from services.clients import make_client
from services.core import ValidationError, VendorClient, VendorError
from services.quaderno.models import ErrorBody
from services.quaderno.resources import validate_tax_id_online
from services.settings import Settings, get_settings
from services.taxid import check_tax_id
from store import audit, config_errors
from store.changes import note_write
from store.db import iso, transaction, utcnow

KIND = "validate_tax_ids"
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000
_ISO_OF_VAT_PREFIX = {"EL": "GR", "XI": "GB"}  # Quaderno takes ISO country codes


@dataclass(frozen=True)
class TaxIdRow:
    country: str
    tax_id: str
    name: str | None = None


@dataclass(frozen=True)
class Validation:
    country: str
    tax_id: str
    name: str | None
    offline_ok: bool
    result: str  # valid | invalid | malformed | unavailable
    message: str
    checked_at: str
    checked_by: str
    vendor_called: bool


# ----------------------------------------------------------------------------- one number


def validate_one(db: Database, actor: Actor, country: str, tax_id: str, name: str | None = None, *,
                 settings: Settings | None = None, client: VendorClient | None = None,
                 job_id: int | None = None) -> Validation:
    """Check one number and store the outcome; `PermissionDenied` below operator, before any call."""
    require(actor, "operator", "validating tax IDs")
    if not (country or "").strip():
        raise ValueError("Country is empty: enter the country that issued the tax ID (e.g. DE)")
    if not (tax_id or "").strip():
        raise ValueError("Tax ID is empty: enter the number to check")
    own = client is None
    try:
        return _validate(db, actor.name, TaxIdRow(country, tax_id, name), lambda: client or _open(settings), job_id)
    finally:
        if own and client is not None:
            client.close()


def _open(settings: Settings | None) -> VendorClient:
    return make_client(settings or get_settings(), "quaderno")


def _validate(db: Database, who: str, row: TaxIdRow, get_client: Any, job_id: int | None) -> Validation:
    offline = check_tax_id(row.country, row.tax_id)
    if not offline.ok:
        return _record(db, who, row, offline.country, offline.number or row.tax_id.strip(), False,
                       "malformed", offline.message, job_id, called=False)
    iso_country = _ISO_OF_VAT_PREFIX.get(offline.country, offline.country)
    try:
        valid = validate_tax_id_online(get_client(), iso_country, offline.number)
    except VendorError as exc:
        if config_errors.is_config_error(exc):
            config_errors.record(db, "quaderno", exc, "validating tax IDs")
            raise
        result, message = failure(exc)
        return _record(db, who, row, offline.country, offline.number, True, result, message, job_id, called=True)
    config_errors.clear(db, "quaderno")
    result, message = _outcome(valid)
    return _record(db, who, row, offline.country, offline.number, True, result, message, job_id, called=True)


def failure(exc: VendorError) -> tuple[str, str]:
    """A Quaderno error that is not a configuration error: its refusal (400/422, with its message), or no
    answer ("unavailable": 5xx, timeout, connection, rate limited; never "invalid")."""
    if isinstance(exc, ValidationError):
        return "refused", f"Quaderno refused the request: {ErrorBody.from_text(exc.body).message}"
    return "unavailable", f"could not ask Quaderno ({exc}); retry later"



def _outcome(valid: bool | None) -> tuple[str, str]:
    if valid is None:
        return "unavailable", "the tax authority's service is unavailable; retry later"
    if valid:
        return "valid", "registered with the tax authority"
    return "invalid", "well formed, but the tax authority does not know this number"


def _record(db: Database, who: str, row: TaxIdRow, country: str, number: str, offline_ok: bool, result: str,
            message: str, job_id: int | None, *, called: bool) -> Validation:
    checked = Validation(country, number, row.name, offline_ok, result, message, iso(utcnow()), who, called)
    with transaction(db):
        note_write(db, "tax_id_validations")
        db.conn.execute(
            "INSERT INTO tax_id_validations (country, tax_id, name, offline_ok, result, message, checked_at, "
            "checked_by, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [country, number, row.name, int(offline_ok), result, message, checked.checked_at, who, job_id])
        audit.record(db, who, "quaderno.validate_tax_id", f"{country} {number}",
                     {"country": row.country, "tax_id": row.tax_id}, result,
                     "GET /tax_ids/validate" if called else None)
    return checked


# ----------------------------------------------------------------------------- batches


def parse_csv(data: bytes) -> tuple[list[TaxIdRow], list[str]]:
    """CSV with columns `country,tax_id` and optional `name` -> (rows, errors with row numbers)."""
    if len(data) > MAX_BYTES:
        raise ValueError(f"the file has {len(data) / 1e6:.1f} MB; the limit is 5 MB: split it")
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), strict=True)
        lines = [(reader.line_num, line) for line in reader]  # line_num: blank lines keep their number
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"the CSV cannot be read ({exc}); save it as 'CSV UTF-8'") from None
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    missing = [c for c in ("country", "tax_id") if c not in fields]
    if missing:
        raise ValueError(f"required column missing: {', '.join(missing)} (columns: country,tax_id[,name])")
    if len(lines) > MAX_ROWS:
        raise ValueError(f"the file has {len(lines)} rows; the limit is {MAX_ROWS}: split it")
    rows, errors = [], []
    for number, line in lines:
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in line.items() if isinstance(v, str)}
        if not any(values.values()):
            continue  # a row of empty cells is not a tax ID
        if not values.get("country") or not values.get("tax_id"):
            errors.append(f"row {number}: country and tax_id are both required")
            continue
        rows.append(TaxIdRow(values["country"], values["tax_id"], values.get("name") or None))
    return rows, errors


def submit_validation_batch(db: Database, actor: Actor, rows: Sequence[TaxIdRow]) -> int:
    """Queue a "validate_tax_ids" job; the same list still pending returns the same job."""
    require(actor, "operator", "validating tax IDs")
    if not rows:
        raise ValueError("no tax IDs to validate")
    payload = {"rows": [asdict(r) for r in rows]}
    job_id = jobs.enqueue(db, KIND, payload, actor.name, dedupe_key=f"{KIND}:{audit.payload_digest(payload)}")
    audit.record(db, actor.name, "quaderno.validate_tax_ids.queue", f"job {job_id}", payload,
                 f"queued {len(rows)} tax ID{'s' if len(rows) != 1 else ''}")
    return job_id


def customer_rows(db: Database) -> list[TaxIdRow]:
    """Every cached ERP customer's VAT number (qasida_customers), for "validate all customers"."""
    cursor = db.conn.execute(
        "SELECT country, vat_number, name FROM qasida_customers "
        "WHERE coalesce(vat_number, '') != '' ORDER BY customer_id")
    return [TaxIdRow(_country_of(country, vat), vat, name) for country, vat, name in cursor]


def _country_of(country: str | None, vat: str) -> str:
    """The VAT number's own prefix when it has one (a customer in DE may hold an NL number)."""
    prefix = vat.strip()[:2].upper()
    return prefix if prefix.isalpha() else (country or "")


def submit_all_customers(db: Database, actor: Actor) -> int:
    require(actor, "operator", "validating tax IDs")
    return submit_validation_batch(db, actor, customer_rows(db))


def pending_retries(db: Database) -> list[TaxIdRow]:
    """Numbers whose LATEST check was "unavailable": to validate again later."""
    cursor = db.conn.execute(
        "SELECT country, tax_id, name FROM tax_id_validations v WHERE result = 'unavailable' AND id = "
        "(SELECT max(id) FROM tax_id_validations w WHERE w.country = v.country AND w.tax_id = v.tax_id) "
        "ORDER BY id")
    return [TaxIdRow(*row) for row in cursor]


SCHEDULER = Actor("scheduler", "operator")  # the worker's own identity in the audit log
RETRY_EVERY = timedelta(hours=1)


@scheduled
def retry_unavailable(db: Database, settings: Settings, now: datetime) -> int | None:
    """Queue the numbers whose authority was down for another check, at most once per RETRY_EVERY."""
    if not settings.configured("quaderno"):
        return None
    last = db.conn.execute("SELECT max(created_at) FROM jobs WHERE kind = ? AND requested_by = ?",
                           [KIND, SCHEDULER.name]).fetchone()[0]
    if last is not None and last > iso(now - RETRY_EVERY):
        return None
    rows = pending_retries(db)
    return submit_validation_batch(db, SCHEDULER, rows) if rows else None


@handler(KIND)
def _validate_job(worker: Worker, db: Database, job: jobs.Job) -> dict[str, Any]:
    return run_batch(db, worker.settings, job)


def run_batch(db: Database, settings: Settings, job: jobs.Job, client: VendorClient | None = None) -> dict[str, Any]:
    """Validate every row of the job, once per distinct number; returns the counts."""
    rows = [TaxIdRow(**r) for r in job.payload["rows"]]
    holder: list[VendorClient] = [client] if client else []

    def get_client() -> VendorClient:  # opened on the first well-formed number only
        if not holder:
            holder.append(make_client(settings, "quaderno"))
        return holder[0]

    try:
        results, stopped = _run_rows(db, job, rows, get_client)
    finally:
        if holder and client is None:
            holder[0].close()
    counts = tally(results)
    if stopped is not None:
        counts["not_checked"] = len(rows) - len(results)
        counts["stopped"] = f"Quaderno configuration error: {stopped} (see the Vendors page)"
    return counts


def _run_rows(db: Database, job: jobs.Job, rows: Sequence[TaxIdRow],
              get_client: Any) -> tuple[list[Validation], VendorError | None]:
    """The rows' validations; stops at a configuration error (401/403), returned second."""
    who = job.requested_by or "unknown"
    seen: dict[tuple[str, str], Validation] = {}
    earlier = _recorded(db, job.job_id)
    results: list[Validation] = []
    for done, row in enumerate(rows):
        offline = check_tax_id(row.country, row.tax_id)
        key = (offline.country, offline.number)
        if key in seen and seen[key].result != "unavailable":
            results.append(replace(seen[key], vendor_called=False))  # the same number twice: asked once
        elif (found := earlier.pop((offline.country, offline.number or row.tax_id.strip()), None)) is not None:
            seen[key] = found  # recorded by this job's run whose worker died: not asked or recorded again
            results.append(found)
        else:
            try:
                seen[key] = _validate(db, who, row, get_client, job.job_id)
            except VendorError as exc:  # only configuration errors leave _validate
                jobs.progress(db, job.job_id, done, len(rows), f"stopped: {exc}")
                return results, exc
            results.append(seen[key])
        jobs.progress(db, job.job_id, done + 1, len(rows), f"{row.country} {row.tax_id}: {results[-1].result}")
    return results, None


def _recorded(db: Database, job_id: int) -> dict[tuple[str, str], Validation]:
    """The numbers an earlier run of this job recorded, by (country, number as stored): a worker killed mid-batch
    (or after its last row, before the job's end was written) leaves them, and the job's next run resumes."""
    rows = db.conn.execute("SELECT country, tax_id, name, offline_ok, result, message, checked_at, checked_by "
                           "FROM tax_id_validations WHERE job_id = ? ORDER BY id", [job_id]).fetchall()
    return {(r[0], r[1]): Validation(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6], r[7], False) for r in rows}


def tally(results: Iterable[Validation]) -> dict[str, Any]:
    counts: dict[str, Any] = {"valid": 0, "invalid": 0, "unavailable": 0, "malformed": 0, "refused": 0,
                              "vendor_calls": 0, "total": 0}
    for v in results:
        counts["total"] += 1
        counts[v.result] += 1
        counts["vendor_calls"] += int(v.vendor_called)
    return counts
