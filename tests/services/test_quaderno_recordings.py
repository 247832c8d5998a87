"""Replay-parse every recorded Quaderno response (vendor-specs/quaderno/extracted) into its model."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic import BaseModel, TypeAdapter

from services.quaderno import models as q
from tests.vendor_docs import spec_path

EXTRACTED = spec_path("vendor-specs/quaderno/extracted")  # copies, tests/fixtures/vendor_docs
RECORDINGS = sorted(EXTRACTED.glob("*.json"))

# (method, path after /api/ without .json and ids) -> model of a 2xx body
_ROUTES: dict[tuple[str, str], Any] = {
    ("GET", "contacts"): list[q.Contact],
    ("POST", "contacts"): q.Contact,
    ("GET", "contacts/{id}"): q.Contact,
    ("GET", "invoices"): list[q.Invoice],
    ("POST", "invoices"): q.Invoice,
    ("GET", "invoices/{id}"): q.Invoice,
    ("PUT", "invoices/{id}"): q.Invoice,
    ("POST", "invoices/{id}/payments"): q.PaymentReceipt,
    ("GET", "tax_ids"): list[q.TaxId],
    ("POST", "tax_ids"): q.TaxId,
    ("GET", "tax_ids/validate"): q.TaxIdValidation,
    ("GET", "tax_rates"): list[q.TaxRate],
    ("GET", "tax_rates/calculate"): q.TaxCalculation,
    ("GET", "jurisdictions"): list[q.Jurisdiction],
    ("GET", "tax_codes"): list[q.TaxCode],
    ("GET", "ping"): q.Ping,
}


def _load(name: str) -> dict[str, Any]:
    return json.loads((EXTRACTED / f"{name}.json").read_text())


def _route(recording: dict[str, Any]) -> tuple[str, str]:
    path = urlsplit(recording["request"]["uri"]).path.removeprefix("/api/").removesuffix(".json")
    parts = ["{id}" if p.isdigit() else p for p in path.split("/")]
    return recording["request"]["method"], "/".join(parts)


def parse_recording(recording: dict[str, Any]) -> Any:
    """What a client would return for this exchange: a model, a list of models, an error body or None."""
    status, body = recording["status"], recording["body"]
    if status == 204:
        return None
    if status >= 400:
        return q.ErrorBody.from_body(body)
    method, path = _route(recording)
    if path == "transactions":  # a sale answers an Invoice, a refund a Credit
        return (q.Credit if body["type"] == "Credit" else q.Invoice).model_validate(body)
    return TypeAdapter(_ROUTES[(method, path)]).validate_python(body)


def test_there_are_recordings() -> None:
    assert len(RECORDINGS) >= 38


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.stem)
def test_every_recording_parses(path: Path) -> None:
    recording = json.loads(path.read_text())
    parsed = parse_recording(recording)
    if recording["status"] == 204:
        assert parsed is None
    elif isinstance(recording["body"], list):
        assert len(parsed) == len(recording["body"])
        assert all(isinstance(item, BaseModel) for item in parsed)
    else:
        assert isinstance(parsed, BaseModel)


def test_paginated_invoice_prefers_integer_cents() -> None:
    invoices = parse_recording(_load("paginated_invoices__0"))
    first = invoices[0]
    assert (first.id, first.number, first.currency) == (1925214, "000200", "USD")
    assert first.total_cents == 6000 and first.total_minor == 6000
    assert first.subtotal_cents == 6000  # "6000.0" on the wire
    assert first.items[0].unit_price_cents == Decimal("1200.0")
    assert first.items[0].quantity == Decimal("5.0")
    assert first.state == q.InvoiceState.OUTSTANDING
    assert first.issue_date == date(2021, 2, 19)
    assert first.counterparty == "Teenage Mutant Ninja Turtles"
    assert first.exchange_rate == Decimal("0.827541")


def test_sale_and_refund_transactions() -> None:
    sale = parse_recording(_load("new_sale__0"))
    assert type(sale) is q.Invoice
    assert (sale.total_minor, sale.subtotal_cents, sale.taxes[0].amount_cents) == (10800, 10075, 725)
    assert sale.taxes[0].rate == Decimal("8.875")
    assert sale.amount_due_cents == Decimal(0)  # paid by card at once
    refund = parse_recording(_load("new_refund__0"))
    assert isinstance(refund, q.Credit) and refund.number == "00001"


def test_payment_receipt_amount() -> None:
    receipt = parse_recording(_load("paid_invoice__1"))
    assert receipt.amount_cents == Decimal(10000000000)
    assert receipt.payment_method == "cash"


@pytest.mark.parametrize(
    ("name", "valid", "outcome"),
    [
        ("validate_valid_tax_ID__0", True, "valid"),
        ("validate_tax_id__0", True, "valid"),
        ("validate_invalid_tax_ID__0", False, "invalid"),
        ("validate_tax_id__1", False, "invalid"),
    ],
)
def test_tax_id_validations(name: str, valid: bool, outcome: str) -> None:
    result = parse_recording(_load(name))
    assert result.valid is valid and result.outcome == outcome


def test_null_validation_means_unavailable_not_invalid() -> None:
    result = q.TaxIdValidation.model_validate({"valid": None})
    assert result.valid is None and result.outcome == "unavailable"


def test_tax_calculation() -> None:
    calc = parse_recording(_load("validate_tax_rate__0"))
    assert calc.status == q.TaxStatus.TAXABLE
    assert calc.rate == Decimal("20.0") and isinstance(calc.rate, Decimal)
    assert (calc.country, calc.name, calc.currency, calc.is_import) == ("FR", "TVA", "EUR", False)
    assert calc.taxable_part == Decimal("100.0")
    assert calc.tax_amount is None


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("not_registered", "no tax is collected because the account is not registered in that jurisdiction"),
        ("reverse_charge", "no tax is collected: reverse charge, the customer accounts for the tax"),
        ("non_taxable", "no tax applies: the product is not taxable there or the territory is exempted"),
        ("brand_new", "Quaderno answered status 'brand_new', which this version does not know"),
    ],
)
def test_tax_calculation_reason_in_words(status: str, reason: str) -> None:
    assert q.TaxCalculation.model_validate({"status": status, "rate": 0}).reason == reason


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("wrong_token__0", 401, "Wrong API key or the user does not exist."),
        ("delete_default_tax_rate__1", 401, "Unauthorized access or the tax rate does not exist."),
        ("all_address_on_standard_account__0", 406, "Unsupported account type"),
        ("delivered_invoice__2", 422, "delivery_recipients can't be blank; is invalid"),
    ],
)
def test_error_bodies(name: str, status: int, message: str) -> None:
    recording = _load(name)
    assert recording["status"] == status
    assert parse_recording(recording).message == message


def test_tax_ids_and_jurisdictions() -> None:
    tax_ids = parse_recording(_load("all_tax_ids__0"))
    assert tax_ids[0].jurisdiction.country == "ES" and tax_ids[0].state == "unavailable"
    assert tax_ids[0].valid_from == date(2022, 1, 1)
    rates = parse_recording(_load("all_tax_rates__0"))
    assert rates[1].value == Decimal("5.5") and rates[1].tax_code == "ebook"
    contact = parse_recording(_load("found_contact__1"))
    assert contact.id == 673
