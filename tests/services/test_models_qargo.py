"""Qargo models: the upload body validates against the vendor's OpenAPI schema; answers parse."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from services.qargo import models as m
from tests import vendor_docs

ORDER_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
STOP_ID = "8b4f3c1e-1d2a-4c5b-9e6f-7a8b9c0d1e2f"


class Spec:
    """Validates instances against ``#/components/schemas/<name>`` of one OpenAPI document."""

    def __init__(self, document: dict[str, Any], uri: str) -> None:
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry = Registry().with_resource(uri, resource)
        self.uri = uri

    def errors(self, schema_name: str, instance: Any) -> list[str]:
        validator = OAS31Validator(
            {"$ref": f"{self.uri}#/components/schemas/{schema_name}"}, registry=self.registry
        )
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(vendor_docs.qargo_openapi("2026"), "urn:qargo-2026")  # trimmed copy, tests/fixtures/vendor_docs


@pytest.fixture(scope="module")
def spec_2025() -> Spec:
    return Spec(vendor_docs.qargo_openapi("2025-09"), "urn:qargo-2025")


def _stop(name: str, day: date, reference: str) -> m.StopInput:
    location = m.Location(
        name=name, address="Gaston Crommenlaan 4", postal_code="9050", city="Ghent", country="BE"
    )
    window = m.TimeWindow(start_time=time(9, 30), end_time=time(16, 30))
    return m.StopInput(location=location, date=day, time_window=window, reference_number=reference)


def _order(operation: m.Operation = m.Operation.CREATE) -> m.OrderInput:
    adr = m.ADRInput(
        un_number="1956",
        packaging_type="BOX",
        emergency_phone_number="+32456789010",
        technical_name_by_locale={"en": "Dangerous goods"},
    )
    good = m.GoodInput(
        quantity=1,
        product=m.Product(name="FUEL"),
        adr_type="ADR",
        total_weight_kg=100.5,
        packaged_items=[m.PackagedItemInput(quantity=5, adr=adr, total_volume_l=100)],
    )
    consignment = m.ConsignmentInput(
        pickup_stop=_stop("APM terminals", date(2024, 8, 20), "P1"),
        delivery_stop=_stop("Qargo Ghent", date(2024, 8, 21), "D1"),
        goods=[good],
    )
    container = m.ContainerInput(
        container_scenario="IMPORT",
        container_number="MSCU5285725",
        container_type=m.ContainerType(code="22G0"),
    )
    return m.OrderInput(
        operation=operation,
        order_identifier="ord-12332423",
        customer=m.Entity(code="00083"),
        consignments=[consignment],
        customer_reference_number="C2325995",
        transport_service=m.Entity(name="Container"),
        container=container,
        teardown_stops=[_stop("Container yard", date(2024, 8, 22), "T1")],
    )


@pytest.mark.parametrize("operation", list(m.Operation))
def test_order_input_validates_against_the_spec(spec: Spec, operation: m.Operation) -> None:
    payload = _order(operation).payload()
    assert spec.errors("OrderInput", payload) == []
    assert payload["operation"] == operation.value


def test_order_payload_has_no_nulls_and_vendor_formats() -> None:
    payload = _order().payload()
    pickup = payload["consignments"][0]["pickup_stop"]
    assert pickup["date"] == "2024-08-20"
    assert pickup["time_window"] == {"start_time": "09:30:00", "end_time": "16:30:00"}
    assert "latitude" not in pickup["location"]
    assert payload["consignments"][0]["goods"][0]["packaged_items"][0]["adr"]["un_number"] == "1956"
    assert payload["container"]["container_scenario"] == "IMPORT"


def test_spec_rejects_a_broken_payload(spec: Spec) -> None:
    """Guard that the validator really checks: drop a required field."""
    payload = _order().payload()
    del payload["customer"]
    assert any("'customer' is a required property" in e for e in spec.errors("OrderInput", payload))


def test_guide_examples_parse_into_order_input() -> None:
    """The guide's update example (seeds/000 "Update an order") reads into the model unchanged."""
    example = {
        "order_identifier": "QARGO_TEST_0001",
        "operation": "UPDATE",
        "customer": {"name": "UPS SCS Coventry"},
        "consignments": [
            {
                "pickup_stop": {"location": {"name": "Qargo HQ", "country": "BE"}, "date": "2024-08-20"},
                "delivery_stop": {"location": {"name": "Grocery store"}, "date": "2024-08-21"},
                "goods": [{"description": "4 boxes of pasta", "quantity": 4}],
            }
        ],
        "transport_service": {"code": "CONTAINER_BOOKING"},
    }
    order = m.OrderInput.model_validate(example)
    assert order.operation is m.Operation.UPDATE
    assert order.consignments[0].goods[0].quantity == 4  # type: ignore[index]


UPLOAD = {
    "upload_id": ORDER_ID,
    "upload_status": "IN_PROGRESS",
    "upload_url": "/v1/orders/order/upload/x",
    "order_id": None,
    "order_url": None,
}


@pytest.mark.parametrize(
    ("status", "final", "failed"),
    [
        ("TODO", False, False),
        ("IN_PROGRESS", False, False),
        ("READY_TO_UPSERT", False, False),
        ("UPSERT_IN_PROGRESS", False, False),
        ("COMPLETED", True, False),
        ("ERROR", True, True),
        ("SKIPPED", True, True),
        ("DUPLICATE", True, False),
    ],
)
def test_upload_status(spec: Spec, status: str, final: bool, failed: bool) -> None:
    body = {**UPLOAD, "upload_status": status}
    assert spec.errors("OrderImport", body) == []
    upload = m.OrderImport.model_validate(body)
    assert upload.upload_status == status and isinstance(upload.upload_status, m.UploadStatus)
    assert (upload.is_final, upload.failed) == (final, failed)


def test_unknown_upload_status_is_data() -> None:
    upload = m.OrderImport.model_validate({**UPLOAD, "upload_status": "QUEUED_FOR_REVIEW"})
    assert upload.upload_status == "QUEUED_FOR_REVIEW" and not upload.is_final


def _stop_out(status: str) -> dict[str, Any]:
    return {
        "id": STOP_ID,
        "status": status,
        "date": "2024-12-31",
        "activity_label": "PICKUP",
        "location": {"name": "Qargo HQ", "city": "Ghent", "country": "BE"},
        "time_window": {"start_time": "09:30", "end_time": "16:30"},
        "start_timestamp": "2024-12-31T08:00:00Z",
        "end_timestamp": None,
    }


ORDER_STATUS = {
    "id": ORDER_ID,
    "order_identifier": "ord-1",
    "customer_reference_number": "C1",
    "status": "PLANNED",
    "customer": {"id": ORDER_ID, "name": "Acme", "currency": "EUR", "vat_number": "BE1234.123.123"},
    "created_timestamp": "2024-12-30T10:00:00Z",
    "stops": [_stop_out("PLANNED")],
    "consignments": [
        {
            "id": ORDER_ID,
            "pickup_stop": _stop_out("PLANNED"),
            "delivery_stop": _stop_out("TO_PLAN"),
            "goods": [{"id": ORDER_ID, "quantity": 4, "total_weight_kg": 12.5, "packaged_items": []}],
            "signatures": [],
        }
    ],
}


def test_order_with_status(spec: Spec) -> None:
    assert spec.errors("OrderWithStatus", ORDER_STATUS) == []
    order = m.OrderWithStatus.model_validate(ORDER_STATUS)
    assert order.status is m.OrderStatus.PLANNED
    assert order.customer is not None and order.customer.name == "Acme"
    assert order.stops[0].start_timestamp == datetime(2024, 12, 31, 8, tzinfo=UTC)
    assert order.stops[0].date == date(2024, 12, 31)
    assert order.consignments[0].goods[0].total_weight_kg == Decimal("12.5")


def test_order_status_unknown_value_is_kept() -> None:
    order = m.OrderWithStatus.model_validate({**ORDER_STATUS, "status": "ON_HOLD", "stops": None})
    assert order.status == "ON_HOLD" and order.stops == []


CHARGES = {
    "charges": [
        {
            "id": ORDER_ID,
            "code": "FREIGHT",
            "name": "Freight",
            "currency": "EUR",
            "amount_excl_tax": "100.00",
            "amount_tax": "21.00",
            "amount_incl_tax": "121.00",
            "status": "CREATED",
            "approval_status": "REQUESTED",
        },
        {
            "id": None,
            "currency": "JPY",
            "amount_excl_tax": "1500",
            "status": "INVOICED",
            "approval_status": None,
        },
    ]
}


def test_charges_from_the_2025_schema(spec_2025: Spec) -> None:
    assert spec_2025.errors("OrderChargesOutput", CHARGES) == []
    charges = m.OrderCharges.model_validate(CHARGES).charges
    assert charges is not None
    first, second = charges
    assert first.amount_incl_tax == Decimal("121.00")
    assert first.total is not None and first.total.amount_minor == 12100
    assert first.approval_status is m.ChargeApprovalStatus.REQUESTED
    assert second.total is not None and second.total.amount_minor == 1500  # JPY has no minor unit
    assert second.status is m.ChargeStatus.INVOICED


def test_documents_tasks_resources_unavailabilities(spec: Spec) -> None:
    document = {
        "id": ORDER_ID,
        "name": "CMR.pdf",
        "type": "CMR",
        "subject_type": "ORDER",
        "download_url": "/v1/documents/document/x/download",
        "content_type": "application/pdf",
    }
    tasks = {
        "tasks": [{"id": ORDER_ID, "invoice_id": ORDER_ID, "task_type": "POST_INVOICE", "status": "TODO"}]
    }
    resources = {
        "items": [
            {
                "row_id": ORDER_ID,
                "name": "Jan Peeters",
                "driver": {},
                "is_active": True,
                "extras": [],
                "resource_groups": [],
                "custom_fields": {},
            },
            {
                "row_id": STOP_ID,
                "name": "1-ABC-123",
                "trailer": {},
                "extras": [],
                "resource_groups": [],
                "custom_fields": {},
            },
        ],
        "next_cursor": "abc",
    }
    unavailabilities = {
        "items": [
            {
                "id": ORDER_ID,
                "reason": "DRIVER_HOLIDAY",
                "start_time": "2025-01-08T00:00:00+00:00",
                "end_time": "2025-01-12T00:00:00+00:00",
                "external_id": "YOUR_REFERENCE_00001",
            }
        ]
    }
    for name, body in [
        ("Document", document),
        ("AvailableTasks", tasks),
        ("ListResourceOutput", resources),
        ("ListResourceUnavailabilityOutput", unavailabilities),
    ]:
        assert spec.errors(name, body) == [], name
    assert m.Document.model_validate(document).name == "CMR.pdf"
    task = m.AvailableTasks.model_validate(tasks).tasks[0]
    assert (task.task_type, task.status) == ("POST_INVOICE", m.TaskStatus.TODO)
    listed = m.ResourceList.model_validate(resources)
    assert [r.kind for r in listed.items] == ["driver", "trailer"] and listed.next_cursor == "abc"
    gap = m.UnavailabilityList.model_validate(unavailabilities).items[0]
    assert gap.reason == "DRIVER_HOLIDAY" and gap.end_time == datetime(2025, 1, 12, tzinfo=UTC)


def test_task_detail(spec: Spec) -> None:
    body = {"id": ORDER_ID, "status": "WAITING", "task_type": "PAID_INVOICE", "invoice_id": None}
    assert spec.errors("TaskDetail", body) == []
    assert m.TaskDetail.model_validate(body).status is m.TaskStatus.WAITING


VISIBILITY = {
    "events": [
        {
            "timestamp": "2024-08-20T10:00:00Z",
            "update": {"type": "Order", "id": ORDER_ID, "status": "ACCEPTED"},
        },
        {
            "timestamp": "2024-08-21T10:00:00Z",
            "update": {"type": "Order", "id": ORDER_ID, "status": "COMPLETED"},
        },
        {
            "timestamp": "2024-08-21T09:00:00Z",
            "update": {
                "type": "Stop",
                "id": STOP_ID,
                "stop": {
                    "id": STOP_ID,
                    "status": "AT_STOP",
                    "stop_type": "DELIVERY",
                    "location": {"name": "Qargo HQ"},
                },
            },
        },
    ],
    "order": {
        "id": ORDER_ID,
        "order_name": "INV-7980",
        "customer_reference_number": "T1234393",
        "customer": {"name": "Acme"},
        "status": "COMPLETED",
        "stops": [
            {"id": STOP_ID, "status": "COMPLETED", "stop_type": "DELIVERY", "location": {"name": "Qargo HQ"}}
        ],
    },
}


def test_visibility_webhook(spec: Spec) -> None:
    assert spec.errors("OperationalVisibilityUpdate", VISIBILITY) == []
    update = m.OperationalVisibilityUpdate.model_validate(VISIBILITY)
    assert update.latest_order_status == "COMPLETED"
    assert update.order is not None and update.order.customer_reference_number == "T1234393"
    assert update.events[2].update.stop is not None and update.events[2].update.stop.status == "AT_STOP"


def test_error_bodies() -> None:
    body = {"message": "Validation failed", "errors": [{"message": "is required", "field": "customer"}]}
    assert m.ErrorBody.model_validate(body).summary == "Validation failed; customer: is required"
    assert "field required" in m.ErrorBody.model_validate({"detail": [{"msg": "field required"}]}).summary
