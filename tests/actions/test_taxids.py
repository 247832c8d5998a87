"""Tax-ID validation: valid / invalid / malformed / unavailable stored; a malformed number never reaches Quaderno."""

from __future__ import annotations

from functools import partial

import httpx
import pytest
from sqlite_utils import Database

from actions import taxids
from actions.inline import run_inline
from actions.roles import PermissionDenied
from services.clients import make_client
from services.settings import Settings
from store import audit
from tests.actions.conftest import OPERATOR, VIEWER, CountRequests

VALID_DE = "DE856138800"  # sandbox world customer C00003
VALID_IT = "IT00743110157"  # well formed; Italy's service is "down" in the sandbox by default


def stored(db: Database) -> list[tuple[str, str, int, str, str]]:
    return list(db.conn.execute(
        "SELECT country, tax_id, offline_ok, result, checked_by FROM tax_id_validations ORDER BY id"))


def test_valid_number_is_checked_with_quaderno_and_stored(
        db: Database, settings: Settings, count_requests: CountRequests) -> None:
    result = taxids.validate_one(db, OPERATOR, "DE", "de 856 138 800", "Falcon", settings=settings)
    assert (result.result, result.tax_id, result.vendor_called) == ("valid", VALID_DE, True)
    assert stored(db) == [("DE", VALID_DE, 1, "valid", OPERATOR.name)]
    assert count_requests("quaderno") == 1
    assert audit.search(db, action="quaderno.validate_tax_id")[0].result == "valid"


def test_malformed_number_is_malformed_not_invalid_and_costs_no_call(
        db: Database, settings: Settings, count_requests: CountRequests) -> None:
    result = taxids.validate_one(db, OPERATOR, "DE", "DE856138801", settings=settings)
    assert (result.result, result.offline_ok, result.vendor_called) == ("malformed", False, False)
    assert "check digit" in result.message
    assert stored(db) == [("DE", VALID_DE[:-1] + "1", 0, "malformed", OPERATOR.name)]
    assert count_requests("quaderno") == 0


def test_service_down_is_unavailable_never_invalid_and_listed_for_retry(
        db: Database, settings: Settings) -> None:
    result = taxids.validate_one(db, OPERATOR, "IT", VALID_IT, settings=settings)
    assert (result.result, result.offline_ok) == ("unavailable", True)
    assert taxids.pending_retries(db) == [taxids.TaxIdRow("IT", VALID_IT, None)]


def test_authority_saying_no_is_invalid(db: Database, settings: Settings) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"valid": False}))
    with make_client(settings, "quaderno", transport=transport) as client:
        result = taxids.validate_one(db, OPERATOR, "DE", VALID_DE, client=client)
    assert (result.result, result.offline_ok, result.message) == (
        "invalid", True, "well formed, but the tax authority does not know this number")


def test_quaderno_unreachable_is_unavailable(db: Database, settings: Settings) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with make_client(settings, "quaderno", transport=httpx.MockTransport(refuse)) as client:
        result = taxids.validate_one(db, OPERATOR, "DE", VALID_DE, client=client)
    assert result.result == "unavailable" and "retry later" in result.message


def test_csv_batch_runs_as_a_job_with_progress(
        db: Database, settings: Settings, count_requests: CountRequests) -> None:
    data = (f"country,tax_id,name\nDE,{VALID_DE},A\nDE,123,B\nIT,{VALID_IT},C\nDE,{VALID_DE},A again\n"
            ",,\nNL,,D\n").encode()
    rows, errors = taxids.parse_csv(data)
    assert errors == ["row 7: country and tax_id are both required"]
    job_id = taxids.submit_validation_batch(db, OPERATOR, rows)
    job = run_inline(db, job_id, partial(taxids.run_batch, db, settings))
    assert job.result == {"total": 4, "valid": 2, "invalid": 0, "unavailable": 1, "malformed": 1, "refused": 0,
                          "vendor_calls": 2}
    assert (job.done, job.total) == (4, 4)
    assert count_requests("quaderno") == 2  # the repeat and the malformed number cost nothing
    assert [r[3] for r in stored(db)] == ["valid", "malformed", "unavailable"]


def test_all_customers_come_from_the_erp_cache(db: Database) -> None:
    db["qasida_customers"].insert_all([
        {"customer_id": "1", "name": "A", "vat_number": "NL687393863B01", "country": "DE", "synced_at": "x"},
        {"customer_id": "2", "name": "US Co", "vat_number": None, "country": "US", "synced_at": "x"}])
    assert taxids.customer_rows(db) == [taxids.TaxIdRow("NL", "NL687393863B01", "A")]


def test_csv_without_tax_id_column_is_refused() -> None:
    with pytest.raises(ValueError, match="required column missing: tax_id"):
        taxids.parse_csv(b"country,number\nDE,1\n")


def test_viewer_cannot_validate(db: Database, settings: Settings, count_requests: CountRequests) -> None:
    with pytest.raises(PermissionDenied):
        taxids.validate_one(db, VIEWER, "DE", VALID_DE, settings=settings)
    with pytest.raises(PermissionDenied):
        taxids.submit_validation_batch(db, VIEWER, [taxids.TaxIdRow("DE", VALID_DE)])
    assert stored(db) == [] and count_requests("quaderno") == 0


def test_unavailable_numbers_are_queued_again_at_most_hourly(db_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from pydantic import SecretStr

    from actions.taxids import KIND, retry_unavailable
    from services.settings import Settings
    from store.schema import session

    settings = Settings(opsdash_db=db_path, quaderno_base_url="http://127.0.0.1:9/api",
                        quaderno_api_key=SecretStr("k"))
    t0 = datetime.now(UTC)  # jobs are stamped with the real clock
    with session(settings.opsdash_db) as db:
        db.execute("INSERT INTO tax_id_validations (country, tax_id, offline_ok, result, checked_at, checked_by) "
                   "VALUES ('IT', 'IT00743110157', 1, 'unavailable', '2026-11-20T07:00:00.000Z', 'local'), "
                   "('DE', 'DE136695976', 1, 'valid', '2026-11-20T07:00:00.000Z', 'local')")
        first = retry_unavailable(db, settings, t0)
        assert first is not None
        [payload] = [r[0] for r in db.execute("SELECT payload FROM jobs WHERE kind = ?", [KIND]).fetchall()]
        assert '"IT00743110157"' in payload and "DE136695976" not in payload
        db.execute("UPDATE jobs SET status = 'done'")
        assert retry_unavailable(db, settings, t0 + timedelta(minutes=30)) is None  # not before an hour
        assert retry_unavailable(db, settings, t0 + timedelta(minutes=61)) is not None


@pytest.mark.parametrize(("country", "number", "problem"), [
    ("", VALID_DE, "Country is empty"), ("  ", VALID_DE, "Country is empty"), ("DE", " ", "Tax ID is empty")])
def test_an_empty_field_is_a_form_error_and_nothing_is_stored(
        db: Database, settings: Settings, count_requests: CountRequests, country: str, number: str,
        problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        taxids.validate_one(db, OPERATOR, country, number, settings=settings)
    assert stored(db) == [] and count_requests("quaderno") == 0


@pytest.mark.sqlite_only("PostgreSQL databases start at the baseline of 0001-0025 (store/pg_schema.py): "
                        "none from before 0010 exists")
def test_migration_0010_turns_earlier_offline_failures_into_malformed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A database from before 0010: offline failures were stored as 'invalid' with offline_ok = 0."""
    from store.db import connect
    from store.migrations import MIGRATIONS
    from store.schema import migrate

    conn = connect(tmp_path / "old.db")
    MIGRATIONS.apply(conn, stop_before="0010_ui")
    conn.execute("INSERT INTO tax_id_validations (country, tax_id, offline_ok, result, checked_at) VALUES "
                 "('DE', 'DE1', 0, 'invalid', 't1'), ('DE', 'DE2', 1, 'invalid', 't2'), "
                 "('IT', 'IT3', 1, 'unavailable', 't3')")
    assert "0010_ui" in migrate(conn)
    assert list(conn.execute("SELECT tax_id, result FROM tax_id_validations ORDER BY id")) == [
        ("DE1", "malformed"), ("DE2", "invalid"), ("IT3", "unavailable")]
    conn.close()
