"""Issue 18 points 1, 2, 7 (Qargo) and 11 (Qasida): which document field is the plan, the ETA, the reference,
the promised date and "not fulfilled", and the late / expected-late figures a person counts from them by hand.

The payloads below are the vendors' documented shapes, carried here as fixture data (nothing is read from
../shared): Qargo's OpenAPI (vendor-specs/qargo/qargo-tms-openapi-v1.2.0-2026.yml) and Qasida's reference
(seeds/003). Where a document's example is a placeholder ("string"), the values are chosen by hand and said so.

Readings (docs/vendor-readings.md, docs/figures.md):
- Planned delivery = the status endpoint's last delivery stop `date`, "Requested date of the stop, as shown in
  the planning UI" (OrderStatusStopOutput.date, yml line 17042, example '2024-12-31' line 17044). A calendar
  date without a zone ("Date fields have no timezone. They represent a calendar date (e.g. a planned delivery
  date)", yml line 4, "Date and time formats").
- ETA = the visibility delivery stop's `eta_start_time`, "Estimated arrival time (ETA) at the stop in UTC"
  (VisibilityStop, yml line 26512), else `eta_end_time` (line 26521); its day in OPSDASH_TIMEZONE
  ("Datetime fields are always in UTC. Convert to local time on the client side", yml line 4).
- `customer_reference_number` is nullable in the webhook (VisibilityOrder, yml lines 26355-26360) and the status
  answer (OrderWithStatus, line 17295); `order_name` is required (line 26396): a null keeps the known number.
- Qasida promised date = `fulfillmentDate`, "Customer order supposed fulfillment date" (seeds/003 line 1784);
  not fulfilled = listed under `onlyNotFulfilled=true`, "Return only not fulfilled orders" (seeds/003 line
  1196): the document names no field or status value meaning fulfilled or shipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlite_utils import Database

from figures import kpis
from services.qargo.models import OrderWithStatus
from services.qasida.client import make_client
from services.qasida.models import CustomerOrder
from services.settings import Settings, get_settings
from store.calendar import clock
from store.datasets import BUSINESS_ORDERS
from store.db import connect
from store.schema import migrate
from store.store import upsert_records
from sync import mappers
from sync.engine import run_resource
from sync.resources import resources_for
from webhooks.ingest import Outcome, ingest_qargo

ORDER_ID = "7c0d1f6e-0000-4000-8000-000000000001"  # OrderWithStatus.id is a uuid (yml); value by hand
NUMBER = "SO-0000042"  # our ERP order number in customer_reference_number (value by hand)


@pytest.fixture
def db(db_path: Path | str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("OPSDASH_TIMEZONE", "Europe/Berlin")
    get_settings.cache_clear()
    conn = connect(db_path)
    migrate(conn)
    yield conn
    conn.close()
    get_settings.cache_clear()


def status_answer(reference: str | None = NUMBER, date: str = "2024-12-31", status: str = "IN_TRANSIT",
                  created: str = "2024-12-20T23:30:00Z") -> dict[str, Any]:
    """GET /v1/orders/order/{id}/status (OrderWithStatus): the stop `date` example '2024-12-31' (yml line 17044),
    the start/end timestamp examples '2024-12-31T08:00:00Z'/'...08:15:00Z' (OrderStatusStopOutput)."""
    stop = {"id": "5c1b0000-0000-4000-8000-000000000002", "location": {"name": "Ghent DC"}, "date": date,
            "start_timestamp": "2024-12-31T08:00:00Z", "end_timestamp": "2024-12-31T08:15:00Z", "status": "PLANNED"}
    return {"id": ORDER_ID, "order_identifier": "TMS-42", "customer_reference_number": reference,
            "status": status, "created_timestamp": created, "stops": [stop], "last_delivery_stop": stop}


def visibility(eta: str | None, at: str, reference: str | None = NUMBER, status: str = "IN_TRANSIT") -> bytes:
    """An OperationalVisibilityUpdate: `order_name` 'INV-7980' is the schema's example (yml line 26354)."""
    drop = {"id": "5c1b0000-0000-4000-8000-000000000002", "location": {"name": "Ghent DC"}, "status": "PLANNED",
            "stop_type": "DELIVERY", "eta_start_time": eta, "eta_end_time": None}
    return json.dumps({
        "events": [{"timestamp": at, "update": {"type": "Order", "update_type": "STATUS", "status": status}}],
        "order": {"id": ORDER_ID, "order_name": "INV-7980", "customer_reference_number": reference,
                  "status": status, "stops": [drop]}}).encode()


def poll(db: Database, answer: dict[str, Any]) -> None:
    """What the status poll stores (sync/vendors/qargo.py): the mapped row, with the number we hold."""
    known = db.execute("SELECT reference FROM qargo_orders WHERE order_id = ?", [ORDER_ID]).fetchone()
    order = OrderWithStatus.model_validate(answer)
    row = mappers.qargo_polled_order(mappers.Polled(order, known[0] if known else None))
    upsert_records(db, "qargo_orders", [{**row, "synced_at": "2024-12-20T10:00:00.000Z"}], "order_id")


def row(db: Database) -> dict[str, Any]:
    return dict(next(iter(db.query("SELECT reference, delivery_date, eta_date, created_date FROM qargo_orders"))))


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+00:00")


# --- point 1: the plan comes from the status endpoint, the ETA is its own column ------------------------------

def test_an_eta_that_keeps_slipping_never_moves_the_plan_and_the_order_becomes_late(db: Database) -> None:
    poll(db, status_answer())
    for i, eta in enumerate(("2025-01-01T09:00:00Z", "2025-01-02T09:00:00Z", "2025-01-03T09:00:00Z")):
        assert ingest_qargo(db, visibility(eta, f"2024-12-2{i + 1}T10:00:00Z"), at("2024-12-23")) == Outcome.ACCEPTED
        assert row(db)["delivery_date"] == "2024-12-31"  # the event does not flip the plan to its ETA
        poll(db, status_answer())
    # By hand: plan 2024-12-31 (the stop's requested date), ETA the last estimate's Berlin day 2025-01-03.
    assert row(db) == {"reference": NUMBER, "delivery_date": "2024-12-31", "eta_date": "2025-01-03",
                       "created_date": "2024-12-21"}  # created 2024-12-20T23:30Z = 00:30 on the 21st in Berlin
    # On 2024-12-30 the plan has not passed: not late; the ETA is after the plan while moving: expected late.
    assert (kpis.late_orders(db, at("2024-12-30")), kpis.expected_late_orders(db, at("2024-12-30"))) == (0, 1)
    # On 2024-12-31 (the planned day itself) still not late; on 2025-01-01 late, and no longer "expected".
    assert (kpis.late_orders(db, at("2024-12-31")), kpis.expected_late_orders(db, at("2024-12-31"))) == (0, 1)
    assert (kpis.late_orders(db, at("2025-01-01")), kpis.expected_late_orders(db, at("2025-01-01"))) == (1, 0)


def test_an_eta_on_or_before_the_plan_is_not_expected_late_and_an_ended_journey_is_neither(db: Database) -> None:
    poll(db, status_answer())
    ingest_qargo(db, visibility("2024-12-31T07:00:00Z", "2024-12-21T10:00:00Z"), at("2024-12-23"))
    assert (kpis.late_orders(db, at("2024-12-30")), kpis.expected_late_orders(db, at("2024-12-30"))) == (0, 0)
    poll(db, status_answer(status="COMPLETED"))  # COMPLETED: delivered (VisibilityOrderStatus)
    assert (kpis.late_orders(db, at("2025-01-05")), kpis.expected_late_orders(db, at("2025-01-05"))) == (0, 0)


# --- point 2: a null reference never replaces a known one -------------------------------------------------

def test_a_null_reference_in_a_webhook_or_a_poll_keeps_the_erp_number(db: Database) -> None:
    erp = {"order_id": "1", "number": NUMBER, "customer": "Acme", "status": "OPEN", "order_date": "2024-12-20",
           "delivery_date": "2024-12-31", "not_fulfilled": 1, "raw": "{}", "synced_at": "2024-12-20T10:00:00.000Z"}
    upsert_records(db, "qasida_customer_orders", [erp], "order_id")
    poll(db, status_answer())
    assert ingest_qargo(db, visibility("2025-01-02T09:00:00Z", "2024-12-21T10:00:00Z", reference=None),
                        at("2024-12-23")) == Outcome.ACCEPTED
    assert row(db)["reference"] == NUMBER
    poll(db, status_answer(reference=None))
    assert row(db)["reference"] == NUMBER
    # One business order, late on both sides on 2025-01-01 (plan and promise 2024-12-31, neither done).
    rows = list(db.execute(f"SELECT order_number, late, late_side FROM ({BUSINESS_ORDERS.sql})",
                           clock(at("2025-01-01"))).fetchall())
    assert rows == [(NUMBER, 1, "both")]


# --- point 7: a timestamp's date is its day in OPSDASH_TIMEZONE ---------------------------------------------

@pytest.mark.parametrize(("zone", "day"), [("Europe/Berlin", "2025-01-01"), ("UTC", "2024-12-31")])
def test_an_eta_at_23_30z_is_the_next_day_in_europe(db: Database, monkeypatch: pytest.MonkeyPatch,
                                                      zone: str, day: str) -> None:
    monkeypatch.setenv("OPSDASH_TIMEZONE", zone)
    get_settings.cache_clear()
    ingest_qargo(db, visibility("2024-12-31T23:30:00Z", "2024-12-21T10:00:00Z"), at("2024-12-23"))
    assert row(db)["eta_date"] == day
    poll(db, status_answer(created="2024-12-31T23:30:00Z"))
    assert row(db)["created_date"] == day


# --- point 11: an ERP order past its promised date and not fulfilled is late ------------------------------

def customer_order(number: str, fulfillment: str) -> dict[str, Any]:
    """The CustomerOrder/GetAll row's fields (seeds/003 lines 1199-1240); the example's values are "string"
    placeholders, these are chosen by hand. `fulfillmentDate`: "Customer order supposed fulfillment date"."""
    return {"id": int(number[-2:]), "orderNumber": number, "orderStatus": "anything", "issueDate": "2026-11-01T00:00:00",
            "fulfillmentDate": fulfillment, "currency": "EUR", "customerId": 7, "clientCustomerName": "Acme",
            "price": 10, "customerOrderItems": []}


def test_an_erp_order_is_late_while_qasida_lists_it_not_fulfilled(db: Database, db_path: Path | str) -> None:
    orders = [customer_order("SO-0000011", "2026-11-10T00:00:00"), customer_order("SO-0000012", "2026-11-10T00:00:00"),
              customer_order("SO-0000013", "2026-11-30T00:00:00")]
    upsert_records(db, "qasida_customer_orders",
                   [{**mappers.qasida_customer_order(CustomerOrder.model_validate(o)), "synced_at": "x"} for o in orders],
                   "order_id")
    listed: list[dict[str, Any]] = [orders[0], orders[2]]  # what `onlyNotFulfilled=true` answers
    seen: list[httpx.Request] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": listed, "pageNumber": 1, "pageSize": 100, "nextPage": None})

    settings = Settings(opsdash_db=db_path, qasida_base_url="http://erp.test", qasida_token=SecretStr("jwt"),
                        qasida_mandant_id="3")
    [resource] = [r for r in resources_for(db, ["qasida"]) if r.name == "not_fulfilled_orders"]
    with make_client(settings, transport=httpx.MockTransport(vendor)) as client:
        assert run_resource(db, client, resource).ok
        assert {r.url.params["onlyNotFulfilled"] for r in seen} == {"true"}  # seeds/003 line 1196
        # By hand on 2026-11-21: SO-11 promised 11-10, listed -> late (ERP); SO-12 promised 11-10 but not listed
        # -> fulfilled, not late; SO-13 listed but promised 11-30 -> not late yet.
        sides = dict(db.execute(f"SELECT order_number, late_side FROM ({BUSINESS_ORDERS.sql})",
                                clock(at("2026-11-21"))).fetchall())
        assert sides == {"SO-0000011": "ERP", "SO-0000012": None, "SO-0000013": None}
        assert kpis.late_orders(db, at("2026-11-21")) == 1
        listed[:] = [orders[2]]  # SO-11 shipped: the next complete read no longer lists it
        assert run_resource(db, client, resource, now=datetime(2030, 1, 1, tzinfo=UTC)).ok
    assert kpis.late_orders(db, at("2026-11-21")) == 0
