"""Quaderno contract, from seeds/001 and the recorded exchanges (vendor-specs/quaderno) only:
every recorded invoice parses and maps to the row computed by hand, the documented `state` filter,
pagination and version header are sent as documented, and every documented state has a meaning."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from actions.tax import TaxParams
from services.core import PermissionDenied
from services.quaderno import resources as qr
from services.quaderno.client import make_client
from services.quaderno.models import Invoice
from services.settings import Settings
from store.statuses import (
    QUADERNO_MEANING,
    QUADERNO_OPEN_STATES,
    InvoiceMeaning,
    quaderno_outstanding,
)
from sync import mappers
from tests.vendor_docs import seed_lines, spec_path

# seeds/001 and the recordings, transcribed in tests/fixtures/vendor_docs (seed lines 88-93, 1124-1136, 1491).
SEED = seed_lines("001")
EXTRACTED = spec_path("vendor-specs/quaderno/extracted")


def recorded_invoices() -> dict[tuple[str, int], dict[str, Any]]:
    """Every invoice-shaped body in the recordings, by (recording, id)."""
    found = {}
    for path in sorted(EXTRACTED.glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8")).get("body")
        for doc in body if isinstance(body, list) else [body]:
            if isinstance(doc, dict) and "total_cents" in doc and "state" in doc:
                found[(path.stem, doc["id"])] = doc
    return found


def documented_states() -> list[str]:
    """The `state` filter of "List all invoices" (seeds/001 line 1491)."""
    line = next(s for s in SEED[1480:1500] if s.startswith("state | string Enum:"))
    return re.findall(r'"([a-z_]+)"', line)


def test_every_documented_state_has_a_meaning() -> None:
    states = documented_states()
    assert states == ["outstanding", "late", "uncollectible", "paid", "refunded", "archived"]
    assert set(QUADERNO_MEANING) == set(states)  # fails when a documented state is unmapped
    assert QUADERNO_OPEN_STATES == {"outstanding", "late"}


def test_every_recorded_invoice_parses_and_maps() -> None:
    docs = recorded_invoices()
    assert len(docs) >= 20
    for key, doc in docs.items():
        row = mappers.quaderno_invoice(Invoice.model_validate(doc))
        assert row["invoice_id"] == str(doc["id"]) and row["state"] == doc["state"], key
        assert 0 <= row["amount_due"] <= row["total"], key


# Computed by hand from each recording: total_cents minus the payments' amount_cents.
HAND = [
    (("all_invoices__0", 1968), {"state": "paid", "currency": "EUR", "total": 3600, "amount_due": 0}, False),
    (("all_invoices__0", 1976), {"state": "outstanding", "currency": "EUR", "total": 123000, "amount_due": 123000},
     True),
    (("all_invoices__0", 1987), {"state": "outstanding", "currency": "EUR", "total": 0, "amount_due": 0}, False),
    # `new_sale`: state "outstanding", one payment of the whole 108.00 USD: nothing is due (issue 9 point 6).
    (("new_sale__0", 4), {"state": "outstanding", "currency": "USD", "total": 10800, "amount_due": 0}, False),
    (("paginated_invoices__0", 1925214), {"state": "outstanding", "currency": "USD", "total": 6000,
                                          "amount_due": 6000}, True),
]


@pytest.mark.parametrize(("key", "expected", "outstanding"), HAND, ids=[f"{k[0]}:{k[1]}" for k, _, _ in HAND])
def test_recorded_invoices_map_to_the_hand_computed_row(key: tuple[str, int], expected: dict[str, Any],
                                                        outstanding: bool) -> None:
    row = mappers.quaderno_invoice(Invoice.model_validate(recorded_invoices()[key]))
    assert {k: row[k] for k in expected} == expected
    assert quaderno_outstanding(row["state"], row["amount_due"]) is outstanding


def test_the_documents_fractional_payment_keeps_the_remainder() -> None:
    """seeds/001 line 1587: `"amount_cents": 56.6` on a payment."""
    doc = Invoice.model_validate({"id": 1, "state": "outstanding", "currency": "USD", "total_cents": 1000,
                                  "payments": [{"id": 92732431, "amount_cents": 56.6, "date": "2020-06-27"}]})
    assert mappers.quaderno_invoice(doc)["amount_due"] == 943  # 943.4 cents, whole cents half-even


@pytest.mark.parametrize(("state", "meaning"), [("outstanding", InvoiceMeaning.OUTSTANDING),
                                                ("late", InvoiceMeaning.OUTSTANDING),
                                                ("paid", InvoiceMeaning.SETTLED),
                                                ("uncollectible", InvoiceMeaning.VOID)])
def test_state_meanings(state: str, meaning: InvoiceMeaning) -> None:
    assert QUADERNO_MEANING[state] is meaning


# --- requests --------------------------------------------------------------------------------------


class Recorder:
    def __init__(self, status: int = 200, body: Any = None) -> None:
        self.requests: list[httpx.Request] = []
        self.status, self.body = status, body

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=[] if self.body is None else self.body,
                              headers={"X-Pages-HasMore": "false"})


def client(db_path: Path | str, recorder: Recorder) -> Any:
    settings = Settings(opsdash_db=db_path, quaderno_base_url="https://acme.quadernoapp.com/api",
                        quaderno_api_key=SecretStr("sk_live_abcdef"))
    return make_client(settings, transport=httpx.MockTransport(recorder))


def test_the_state_filter_and_pagination_are_sent_as_documented(db_path: Path | str) -> None:
    recorder = Recorder()
    with client(db_path, recorder) as c:
        list(qr.invoices(c, state="outstanding", created_before=1925185, limit=100))
    [request] = recorder.requests
    assert request.method == "GET" and request.url.path.removesuffix(".json") == "/api/invoices"
    # seeds/001 lines 64-75 (created_before, limit: cap 100) and line 1491 (state), all query parameters.
    assert dict(request.url.params) == {"state": "outstanding", "created_before": "1925185", "limit": "100"}
    # Lines 11-16: the API key as the Basic user; lines 144-150: the version in Accept.
    assert request.headers["authorization"].startswith("Basic ")
    assert request.headers["accept"] == "application/json; api_version=20220325"


def test_a_recorded_list_request_has_our_path_and_parameters(db_path: Path | str) -> None:
    recorded = json.loads((EXTRACTED / "paginated_invoices__1.json").read_text(encoding="utf-8"))["request"]
    recorder = Recorder()
    with client(db_path, recorder) as c:
        list(qr.invoices(c, created_before=1925185))
    want = httpx.URL(recorded["uri"])
    got = recorder.requests[0].url
    assert got.path.removesuffix(".json") == want.path.removesuffix(".json")
    assert got.params["created_before"] == want.params["created_before"]


def test_403_is_the_documented_permission_error(db_path: Path | str) -> None:
    """seeds/001 lines 91-93: 403 Forbidden "The record requested is hidden for administrators only"."""
    row = next(i for i, s in enumerate(SEED) if s.strip() == "403 |")
    assert "hidden for administrators" in SEED[row + 2]
    recorder = Recorder(403, {"error": "Forbidden"})
    with client(db_path, recorder) as c, pytest.raises(PermissionDenied, match="hidden for administrators"):
        qr.get_invoice(c, 1987)
    assert len(recorder.requests) == 1  # not retried as rate limiting


def documented_query(first_line: str, until: str) -> set[str]:
    """Parameter names of one endpoint's "query Parameters" table in seeds/001 (`name | type ...`)."""
    start = next(i for i, s in enumerate(SEED) if s.startswith(first_line))
    names = set()
    for line in SEED[start:]:
        if line.startswith(until):
            return names
        match = re.match(r"^([a-z_]+)(?: required)? \|", line)
        if match:
            names.add(match.group(1))
    raise AssertionError(f"no end marker {until!r}")


def test_tax_calculation_sends_only_documented_query_parameters(db_path: Path | str) -> None:
    """seeds/001 lines 1124-1136: the query parameters of GET /tax_rates/calculate."""
    documented = documented_query("from_country | string The seller's country", "Responses")
    assert {"to_country", "amount", "currency", "tax_code", "date", "tax_id"} <= documented
    params = TaxParams(to_country="de", amount=Decimal("99.99"), currency="eur", to_postal_code="10115",
                       from_country="fr", on=date(2026, 11, 20), tax_id="DE811907980")
    recorder = Recorder(200, {"rate": 19.0, "country": "DE", "tax_code": "standard"})
    with client(db_path, recorder) as c:
        qr.calculate_tax(c, **params.query())
    [request] = recorder.requests
    assert request.url.path.removesuffix(".json") == "/api/tax_rates/calculate"
    assert set(request.url.params) <= documented
    assert request.url.params["amount"] == "99.99" and request.url.params["to_country"] == "DE"


def test_tax_id_validation_matches_the_recorded_request(db_path: Path | str) -> None:
    recorded = httpx.URL(json.loads((EXTRACTED / "validate_valid_tax_ID__0.json").read_text())["request"]["uri"])
    recorder = Recorder(200, {"valid": True})
    with client(db_path, recorder) as c:
        assert qr.validate_tax_id_online(c, "IE", "IE6388047V") is True
    got = recorder.requests[0].url
    assert got.path.removesuffix(".json") == recorded.path.removesuffix(".json")
    assert dict(got.params) == dict(recorded.params)
