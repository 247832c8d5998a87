"""Quaderno readings of issue 18 (points 3, 5, 6, 9), each against values computed by hand from seeds/001 or a
recorded answer (vendor-specs/quaderno/extracted). The payloads are transcribed here, each citing its source;
nothing is read from ../shared.

Hand computations:
- validate_tax_rate__0 (taxable, rate 20.0, taxable_part 100.0, tax_amount null), amount 100.00 EUR:
  100.00 x 20.0/100 x 100.0/100 = 20.00 EUR -> tax 2000 cents, total 12000, "computed by opsdash".
- seeds/001 lines 1138-1150 (rate 8.875, taxable_part 100), amount 12.00 USD: 12.00 x 0.08875 = 1.065 ->
  1.07 half up (half-even would give 1.06): tax 107 cents. Amount 19.99: 1.7741125 -> 1.77.
- Inclusive, 120.00 EUR at 20.0 %: 120 x 0.2 / 1.2 = 20.00 -> 2000 cents, subtotal 10000.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlite_utils import Database

from actions import taxids
from actions.inline import run_inline
from actions.roles import Actor
from actions.tax import TaxParams, calculate
from exports.export import export
from figures.details import with_explanations
from services.core import AuthError, ValidationError, VendorError
from services.quaderno.client import make_client
from services.quaderno.models import TaxCalculation
from services.settings import Settings
from store import config_errors
from store.db import connect
from store.schema import migrate
from store.statuses import quaderno_outstanding
from store.store import upsert_records
from sync.engine import run_resource
from sync.resources import resources_for
from ui import format as fmt
from ui import tables

OPERATOR = Actor("ops@example.com", "operator")

# vendor-specs/quaderno/extracted/validate_tax_rate__0.json lines 25-41 (cassette validate_tax_rate.yml line 65).
VALIDATE_TAX_RATE = {
    "country": "FR", "currency": "EUR", "name": "TVA", "notes": None, "product_type": "service", "rate": 20.0,
    "region": None, "tax_behavior": "exclusive", "tax_code": "standard", "taxable_part": 100.0, "import": False,
    "subtotal": None, "tax_amount": None, "total_amount": None, "status": "taxable",
}
# seeds/001 lines 1138-1158, the "Calculate a tax rate" response sample (its tax_amount dropped: the shape above).
SEED_RATE_SAMPLE = {"name": "Sales tax", "rate": 8.875, "taxable_part": 100, "country": "US", "region": "NY",
                    "tax_code": "eservice", "tax_behavior": "exclusive", "status": "taxable"}
# vendor-specs/quaderno/extracted/wrong_token__0.json lines 118-126: status 401.
WRONG_TOKEN = (401, {"error": "Wrong API key or the user does not exist."})
# seeds/001 lines 1161-1162: "true (valid) ... false (invalid) or null (the external validation service is
# temporarily unavailable)".
VALIDATE_NULL = (200, {"valid": None})
# seeds/001 lines 106-108: 422 "The requested method cannot process for the record in question". The body's
# shape is not in the document: `{"field": ["message"]}` as services/quaderno/models.py ErrorBody reads it.
REFUSED = (422, {"tax_id": ["is not supported for this country"]})
# seeds/001 lines 103-105: 410 Gone "The record requested has been removed from our servers"; lines 94-96: 404.
GONE = (410, {"error": "The record requested has been removed from our servers"})
NOT_FOUND = (404, {"error": "The specified record could not be found"})

Answer = tuple[int, dict[str, Any]]


@pytest.fixture
def db(db_path: Path | str) -> Iterator[Database]:
    conn = connect(db_path)
    migrate(conn)
    yield conn
    conn.close()


def client_answering(db_path: Path | str, answer: Callable[[httpx.Request], Answer] | Answer) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        status, body = answer(request) if callable(answer) else answer
        return httpx.Response(status, json=body)
    settings = Settings(opsdash_db=db_path, quaderno_base_url="https://acme.quadernoapp.com/api",
                        quaderno_api_key="sk_test")  # type: ignore[arg-type]
    return make_client(settings, transport=httpx.MockTransport(handle), sleep=lambda _: None)


# --- point 3: a taxable answer without tax_amount -----------------------------------------------------------


def test_recorded_taxable_answer_without_tax_amount_is_computed_never_zero(db: Database, db_path: Path | str) -> None:
    with client_answering(db_path, (200, VALIDATE_TAX_RATE)) as client:
        result = calculate(db, OPERATOR, TaxParams("FR", Decimal("100.00"), "EUR", from_country="FR"), client=client)
    assert result.tax is not None and result.total is not None
    assert (result.tax.amount_minor, result.total.amount_minor, result.tax_computed) == (2000, 12000, True)
    assert result.tax_note == "computed by opsdash"
    row = db.conn.execute("SELECT amount, rate, tax_amount, tax_amount_computed FROM tax_calculations").fetchone()
    assert row == (10000, "20.0", 2000, 1)
    out = io.BytesIO()
    export(db, "tax_calculations", "json", out)
    [exported] = json.loads(out.getvalue())
    assert (exported["tax_amount"], exported["tax_amount_computed"]) == ("20.00", 1)
    stored = dict(zip(("tax_amount", "tax_amount_computed", "status", "notice"), db.conn.execute(
        "SELECT tax_amount, tax_amount_computed, status, notice FROM tax_calculations").fetchone(), strict=True))
    shown = with_explanations([stored], "tax_calculations")[0]["explanation"]
    assert "computed by opsdash" in shown


@pytest.mark.parametrize(("amount", "cents"), [("12.00", 107), ("19.99", 177), ("100", 888)])
def test_seed_rate_sample_rounds_half_up_to_the_cent(amount: str, cents: int) -> None:
    """12.00 x 8.875 % = 1.065 -> 1.07; 19.99 -> 1.7741125 -> 1.77; 100 -> 8.875 -> 8.88."""
    assert TaxCalculation.model_validate(SEED_RATE_SAMPLE).computed_tax_minor(Decimal(amount), "USD") == cents


def test_inclusive_amount_holds_the_tax() -> None:
    answer = TaxCalculation.model_validate(VALIDATE_TAX_RATE | {"tax_behavior": "inclusive"})
    assert answer.computed_tax_minor(Decimal("120.00"), "EUR") == 2000


def test_without_a_rate_the_tax_is_unknown_not_zero(db: Database, db_path: Path | str) -> None:
    with client_answering(db_path, (200, VALIDATE_TAX_RATE | {"rate": None})) as client:
        result = calculate(db, OPERATOR, TaxParams("FR", Decimal("100.00"), "EUR"), client=client)
    assert (result.tax, result.total) == (None, None)
    assert db.conn.execute("SELECT tax_amount, tax_amount_computed FROM tax_calculations").fetchone() == (None, 0)


def test_a_status_that_collects_no_tax_stays_zero(db: Database, db_path: Path | str) -> None:
    """seeds/001 lines 160-167: reverse_charge collects no tax; Quaderno's null amount means 0, not computed."""
    body = VALIDATE_TAX_RATE | {"status": "reverse_charge", "rate": 0.0}
    with client_answering(db_path, (200, body)) as client:
        result = calculate(db, OPERATOR, TaxParams("FR", Decimal("100.00"), "EUR"), client=client)
    assert result.tax is not None and (result.tax.amount_minor, result.tax_computed) == (0, False)


# --- point 5: removed at the vendor --------------------------------------------------------------------------


def stored_invoice(doc_id: int) -> dict[str, Any]:
    return {"invoice_id": str(doc_id), "number": f"INV-{doc_id}", "currency": "EUR", "total": 5000,
            "amount_due": 5000, "state": "late", "raw": "{}", "synced_at": "2026-11-20T10:00:00.000Z"}


@pytest.mark.parametrize("answer", [GONE, NOT_FOUND])
def test_an_invoice_removed_at_quaderno_leaves_outstanding(db: Database, db_path: Path | str, answer: Answer) -> None:
    upsert_records(db, "quaderno_invoices", [stored_invoice(41)], "invoice_id")

    def vendor(request: httpx.Request) -> Answer:
        return (200, []) if request.url.path.endswith("/invoices") else answer
    res = next(r for r in resources_for(db, ["quaderno"]) if r.name == "open_invoices")
    with client_answering(db_path, vendor) as client:
        assert run_resource(db, client, res).ok
    state, due, removed_at = db.conn.execute(
        "SELECT state, amount_due, removed_at FROM quaderno_invoices WHERE invoice_id = '41'").fetchone()
    assert (state, due) == ("late", 5000) and removed_at is not None
    assert quaderno_outstanding(state, due, removed_at) is False
    assert db.conn.execute("SELECT count(*) FROM receivables_outstanding").fetchone()[0] == 0
    [(result,)] = db.conn.execute("SELECT result FROM audit_log WHERE target = 'invoice INV-41'").fetchall()
    assert f"{answer[0]}" in result


# --- point 6: rates as the vendor gives them -----------------------------------------------------------------


@pytest.mark.parametrize(("value", "shown"), [(Decimal("8.875"), "8.875 %"), ("8.875", "8.875 %"),
                                              (Decimal("20.0"), "20.0 %"), (21, "21 %"), (None, fmt.BLANK)])
def test_rates_keep_every_digit(value: Any, shown: str) -> None:
    """8.875 (seeds/001 line 1140) was shown "8.88 %" on the tax page and "8.9 %" in tables."""
    assert fmt.rate(value) == shown
    if value is not None:
        assert tables.cell("rate", {"rate": value}) == shown


# --- point 9: which Quaderno errors are "unavailable" ---------------------------------------------------------


VALID_DE = "DE856138800"  # well formed (offline check passes), so Quaderno is asked


def latest(db: Database) -> list[tuple[str, str]]:
    return list(db.conn.execute("SELECT result, message FROM tax_id_validations ORDER BY id"))


def test_401_is_a_configuration_error_shown_on_vendors_not_retried(db: Database, db_path: Path | str) -> None:
    with client_answering(db_path, WRONG_TOKEN) as client, pytest.raises(AuthError):
        taxids.validate_one(db, OPERATOR, "DE", VALID_DE, client=client)
    assert latest(db) == [] and taxids.pending_retries(db) == []
    [error] = config_errors.current(db)
    assert (error.vendor, error.status, error.action) == ("quaderno", 401, "validating tax IDs")
    assert "sk_test" not in error.message
    with client_answering(db_path, (200, {"valid": True})) as client:
        taxids.validate_one(db, OPERATOR, "DE", VALID_DE, client=client)
    assert config_errors.current(db) == []  # a call that works clears it


def test_a_batch_stops_at_a_configuration_error_and_says_so(db: Database, db_path: Path | str) -> None:
    """Two well-formed numbers, Quaderno answers 401 (wrong_token__0): one call, nothing stored, both unchecked."""
    calls: list[httpx.Request] = []

    def vendor(request: httpx.Request) -> Answer:
        calls.append(request)
        return WRONG_TOKEN
    rows = [taxids.TaxIdRow("DE", VALID_DE), taxids.TaxIdRow("DE", "DE136695976")]
    job_id = taxids.submit_validation_batch(db, OPERATOR, rows)
    with client_answering(db_path, vendor) as client:
        job = run_inline(db, job_id, partial(taxids.run_batch, db, Settings(), client=client))  # type: ignore[call-arg]
    assert job.result["not_checked"] == 2 and "configuration error" in job.result["stopped"]
    assert len(calls) == 1 and latest(db) == [] and taxids.pending_retries(db) == []


def test_403_is_a_configuration_error_too(db: Database, db_path: Path | str) -> None:
    with client_answering(db_path, (403, {"error": "Forbidden"})) as client, pytest.raises(AuthError):
        calculate(db, OPERATOR, TaxParams("FR", Decimal("1.00"), "EUR"), client=client)
    assert [(e.status, e.action) for e in config_errors.current(db)] == [(403, "calculating tax")]


def test_422_is_a_refusal_with_quadernos_message(db: Database, db_path: Path | str) -> None:
    with client_answering(db_path, REFUSED) as client:
        checked = taxids.validate_one(db, OPERATOR, "DE", VALID_DE, client=client)
    assert checked.result == "refused"
    assert checked.message == "Quaderno refused the request: tax_id is not supported for this country"
    assert taxids.pending_retries(db) == []
    with client_answering(db_path, REFUSED) as client, pytest.raises(ValidationError, match="refused the calc"):
        calculate(db, OPERATOR, TaxParams("FR", Decimal("1.00"), "EUR"), client=client)


@pytest.mark.parametrize("answer", [VALIDATE_NULL, (503, {"error": "Service Unavailable"}), "timeout"])
def test_only_null_5xx_and_timeouts_are_unavailable(db: Database, db_path: Path | str, answer: Any) -> None:
    def vendor(request: httpx.Request) -> Answer:
        if answer == "timeout":
            raise httpx.ReadTimeout("no answer", request=request)
        return answer  # type: ignore[no-any-return]
    with client_answering(db_path, vendor) as client:
        checked = taxids.validate_one(db, OPERATOR, "DE", VALID_DE, client=client)
    assert checked.result == "unavailable"
    assert [r.tax_id for r in taxids.pending_retries(db)] == [VALID_DE]
    assert config_errors.current(db) == []


def test_a_calculation_quaderno_cannot_answer_is_unavailable(db: Database, db_path: Path | str) -> None:
    with client_answering(db_path, (503, {"error": "down"})) as client, pytest.raises(VendorError,
                                                                                      match="unavailable"):
        calculate(db, OPERATOR, TaxParams("FR", Decimal("1.00"), "EUR"), client=client)
    assert db.conn.execute("SELECT count(*) FROM tax_calculations").fetchone()[0] == 0


def test_payloads_are_json() -> None:
    json.dumps([VALIDATE_TAX_RATE, SEED_RATE_SAMPLE, WRONG_TOKEN, REFUSED, GONE])
