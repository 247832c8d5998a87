"""Qargo contract, from the vendor's own material only (vendor-specs/qargo, seeds/000; transcribed in
tests/fixtures/vendor_docs).

- every status value of the OpenAPI's VisibilityOrderStatus has a meaning (store/statuses.py);
- every request our client makes is a documented path and verb, with documented parameter names in
  their documented place, and documented request bodies;
- a visibility event built from the schema (and valid against it) maps to the row a person computes;
- a ChargeWithApproval (2025-09 copy, the only one that spells it out) maps exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from pydantic import SecretStr
from sqlite_utils import Database

from services.core import VendorError
from services.qargo import resources as qr
from services.qargo.client import make_client
from services.qargo.models import Charge, OrderInput, OrderStatus
from services.settings import Settings
from store.db import connect
from store.schema import migrate
from store.statuses import QARGO_FINAL, QARGO_JOURNEY_ENDED, QARGO_ORDER_PHASE, OrderPhase, qargo_phase
from sync import mappers
from tests import vendor_docs
from webhooks.ingest import Outcome, ingest_qargo

ORDER_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(db_path: Path | str) -> Iterator[Database]:
    conn = connect(db_path)
    migrate(conn)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return vendor_docs.qargo_openapi("2026")  # trimmed copy of vendor-specs/qargo/...-2026.yml


@pytest.fixture(scope="module")
def spec_2025() -> dict[str, Any]:
    return vendor_docs.qargo_openapi("2025-09")  # trimmed copy of vendor-specs/qargo/...-2025-09.json


def valid(document: dict[str, Any], schema: dict[str, Any], body: Any) -> list[str]:
    validator = OAS31Validator({**schema, "components": document["components"]}, format_checker=oas31_format_checker)
    return [f"{list(e.absolute_path)}: {e.message[:160]}" for e in validator.iter_errors(body)]


# --- statuses -----------------------------------------------------------------------------------


def test_every_documented_order_status_has_a_meaning_and_no_other(spec: dict[str, Any]) -> None:
    documented = set(spec["components"]["schemas"]["VisibilityOrderStatus"]["enum"])
    assert set(QARGO_ORDER_PHASE) == documented  # fails when the document adds a status we do not map
    assert {s.value for s in OrderStatus} == documented
    assert QARGO_FINAL <= QARGO_JOURNEY_ENDED <= documented


@pytest.mark.parametrize(("status", "phase"), [
    ("IN_TRANSIT", OrderPhase.OPEN), ("COMPLETED", OrderPhase.DELIVERED), ("INVOICED", OrderPhase.DELIVERED),
    ("INVOICE_POSTED", OrderPhase.CLOSED), ("CANCELLED", OrderPhase.CLOSED), ("in_transit", OrderPhase.OPEN),
    ("SOMETHING_NEW", OrderPhase.OPEN), (None, OrderPhase.OPEN),
])
def test_phase_of_a_status(status: str | None, phase: OrderPhase) -> None:
    assert qargo_phase(status) is phase


# --- requests: documented path, verb, parameter names and places ---------------------------------


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/v1/auth/token"):
            return httpx.Response(200, json={"access_token": "tok-123456", "token_type": "Bearer", "expires_in": 3600})
        self.requests.append(request)
        return httpx.Response(404, json={"detail": "Not found"})


def postman_upload_body() -> dict[str, Any]:
    """The Postman collection's POST /v1/orders/order/upload example body (tests/fixtures/vendor_docs)."""
    return vendor_docs.postman_upload_body()


CALLS: dict[str, Callable[[Any], Any]] = {
    "get_order": lambda c: qr.get_order(c, ORDER_ID),
    "order_status": lambda c: qr.order_status(c, ORDER_ID),
    "order_charges": lambda c: qr.order_charges(c, ORDER_ID),
    "approve_charges": lambda c: qr.approve_charges(c, ORDER_ID, [ORDER_ID], True, "ok"),
    "order_export": lambda c: qr.order_export(c, ORDER_ID),
    "order_documents": lambda c: qr.order_documents(c, ORDER_ID),
    "download_document": lambda c: qr.download_document(c, ORDER_ID),
    "sync_tasks": lambda c: list(qr.sync_tasks(c, billing_entity_code="QARGO")),
    "sync_task": lambda c: qr.sync_task(c, ORDER_ID),
    "resources": lambda c: list(qr.resources(c, updated_after=NOW, resource_type="DRIVER", external_ids=["a"])),
    "get_resource": lambda c: qr.get_resource(c, ORDER_ID),
    "unavailabilities": lambda c: list(qr.unavailabilities(c, ORDER_ID, start_time=NOW, end_time=NOW)),
    "upload_status": lambda c: qr.upload_status(c, ORDER_ID),
    "upload_order": lambda c: qr.upload_order(c, OrderInput.model_validate(postman_upload_body())),
}


def operation_for(document: dict[str, Any], request: httpx.Request) -> tuple[str, dict[str, Any]]:
    path = request.url.path.removeprefix("/qargo")
    for template, item in document["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and request.method.lower() in item:
            return template, item[request.method.lower()]
    raise AssertionError(f"{request.method} {path} is not in the OpenAPI document")


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_request_is_documented(spec: dict[str, Any], db_path: Path | str, name: str) -> None:
    recorder = Recorder()
    settings = Settings(opsdash_db=db_path, qargo_base_url="https://api.qargo.com",
                        qargo_client_id="id", qargo_client_secret=SecretStr("secret-123456"))
    with make_client(settings, transport=httpx.MockTransport(recorder)) as client:
        try:
            CALLS[name](client)
        except VendorError:
            pass  # the answer is not what this test is about
    assert recorder.requests, name
    for request in recorder.requests:
        template, operation = operation_for(spec, request)
        documented = {(p["name"], p["in"]) for p in operation.get("parameters", [])}
        sent = {(key, "query") for key in request.url.params}
        assert sent <= documented, f"{template}: {sorted(sent - documented)} not documented as query parameters"
        if request.content:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert valid(spec, schema, json.loads(request.content)) == [], template


# --- responses and events -------------------------------------------------------------------------


def visibility_body() -> dict[str, Any]:
    """An OrderUpdate delivery using the schema's own example values (VisibilityEvent.timestamp,
    VisibilityOrder.order_name, VisibilityStop eta/actual times)."""
    stop = {"id": "5c1b0000-0000-4000-8000-000000000001", "location": {"name": "Ghent DC"}, "status": "COMPLETED", "stop_type": "PICKUP",
            "eta_start_time": "2024-12-31T14:30:00Z", "eta_end_time": "2024-12-31T16:00:00Z",
            "actual_start_timestamp": "2024-12-31T14:45:00Z", "actual_end_timestamp": "2024-12-31T15:30:00Z"}
    drop = {**stop, "id": "5c1b0000-0000-4000-8000-000000000002", "stop_type": "DELIVERY", "status": "PLANNED", "eta_start_time": "2025-01-02T08:00:00Z",
            "eta_end_time": "2025-01-02T10:00:00Z", "actual_start_timestamp": None, "actual_end_timestamp": None}
    return {"events": [{"timestamp": "2024-12-31T14:30:00Z",
                        "update": {"type": "Order", "id": None, "update_type": "STATUS", "status": "IN_TRANSIT"}}],
            "order": {"id": ORDER_ID, "order_name": "INV-7980", "customer_reference_number": "SO-0000042",
                      "customer": {"name": "Qargo"}, "status": "IN_TRANSIT", "stops": [stop, drop]}}


def test_a_documented_visibility_event_maps_to_the_hand_computed_row(spec: dict[str, Any], db: Database) -> None:
    body = visibility_body()
    assert valid(spec, spec["components"]["schemas"]["OperationalVisibilityUpdate"], body) == []
    assert ingest_qargo(db, json.dumps(body).encode(), NOW) == Outcome.ACCEPTED
    [row] = db.query("SELECT order_id, reference, customer, status, pickup_date, delivery_date, eta_date, "
                     "last_event_at, last_event_type FROM qargo_orders")
    # The visibility stop has no planned date (VisibilityStop: eta_*/actual_* only): the plan comes from the
    # status endpoint's `date`, so the event leaves both planned dates unknown. The ETA is its own column: the
    # delivery stop's eta_start_time 2025-01-02T08:00:00Z, the 2nd in UTC and Europe/Berlin (issue 18 point 1).
    assert row == {"order_id": ORDER_ID, "reference": "SO-0000042", "customer": "Qargo", "status": "IN_TRANSIT",
                   "pickup_date": None, "delivery_date": None, "eta_date": "2025-01-02",
                   "last_event_at": "2024-12-31T14:30:00.000000Z", "last_event_type": "Order"}


def test_a_documented_charge_maps_exactly(spec_2025: dict[str, Any]) -> None:
    charge = {"id": ORDER_ID, "code": "WAIT", "name": "Waiting time", "currency": "EUR", "amount_excl_tax": "100.10",
              "amount_tax": "21.021", "amount_incl_tax": "121.121", "description": None, "status": "CREATED",
              "approval_status": "REQUESTED"}
    assert valid(spec_2025, spec_2025["components"]["schemas"]["ChargeWithApproval"], charge) == []
    row = mappers.qargo_charge(mappers.Owned("order-1", Charge.model_validate(charge)))
    assert {k: v for k, v in row.items() if k != "raw"} == {
        "charge_id": ORDER_ID, "order_id": "order-1", "description": "Waiting time", "amount": "121.121",
        "currency": "EUR", "status": "CREATED", "approval_status": "REQUESTED"}


def test_every_documented_charge_status_is_read(spec_2025: dict[str, Any]) -> None:
    schemas = spec_2025["components"]["schemas"]
    for status in schemas["ChargeStatus"]["enum"]:
        for approval in schemas["ChargeApprovalStatus"]["enum"]:
            charge = Charge.model_validate({"status": status, "approval_status": approval})
            assert (str(charge.status), str(charge.approval_status)) == (status, approval)
