"""Upwell onCarrierInvoiceEvent: the vendor's docs example parses, bad events name the bad field."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.upwell import CarrierInvoiceEvent, EventValidationError, parse_event
from services.upwell.models import Operation
from tests.vendor_docs import spec_path

PARTIAL = spec_path("vendor-specs/upwell/onCarrierInvoiceEvent.docs-example.partial.txt")  # copy, tests/fixtures

# The stored copy stops inside payload.old.source_system_meta; the rest is completed from the same page's
# schema (the truncation note in the file) and the untruncated example of seeds/002 lines 71-93.
_COMPLETION = """mote_updated_at": "2023-01-26T20:54:08Z",
        "remote_was_deleted": false,
        "tracking_categories": []
      },
      "customer_invoice_id": null,
      "created_from_email_message_id": null,
      "documents_type_or_customer_visibility_updated_at": null
    }
  },
  "table": "carrier_invoices",
  "webhookSubscriptionId": "whs_example",
  "resourceId": "cari_example",
  "retryOfId": null,
  "retries": []
}"""


@pytest.fixture(scope="module")
def docs_example() -> dict[str, Any]:
    text = PARTIAL.read_text().split("\n[... TRUNCATED")[0]
    assert text.endswith('"re')
    return json.loads(text + _COMPLETION)


def test_docs_example_parses(docs_example: dict[str, Any]) -> None:
    event = parse_event(docs_example)
    assert event.id == "whe_example"
    assert event.operation is Operation.UPDATE
    assert event.status == "PENDING"
    assert event.created_at == datetime(2024, 11, 17, 18, 23, 3, 945732, tzinfo=UTC)  # naive -> UTC
    assert event.resource_id == "cari_example"
    assert event.retry_of_id is None
    new, old = event.payload.new, event.payload.old
    assert new is not None and old is not None
    assert (new.total_amount, new.currency, new.total_tax_amount) == (250741, "EUR", 0)
    assert old.total_tax_amount == 0  # "0" in the old image
    assert old.currency == "USD"
    assert new.due_date == date(2024, 12, 19)
    assert new.invoice_number == "1027"
    assert str(event.invoice.total) == "2507.41 EUR"


def test_raw_bytes_parse_like_dicts(docs_example: dict[str, Any]) -> None:
    event = parse_event(json.dumps(docs_example).encode())
    assert isinstance(event, CarrierInvoiceEvent)
    assert event.invoice.load_number == "LOAD-2343"


def _mutated(example: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(example)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    if value is _DROP:
        del node[last]
    else:
        node[last] = value
    return data


_DROP = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("payload.new.total_amount", "2507.41", "payload.new.total_amount: not an integer"),
        ("payload.new.total_amount", "abc", "payload.new.total_amount: not an integer"),
        ("payload.old.total_tax_amount", 1.5, "payload.old.total_tax_amount: not an integer"),
        ("payload.new.currency", _DROP, "payload.new.currency: missing"),
        ("payload.new.id", _DROP, "payload.new.id: missing"),
        ("createdAt", "yesterday", "createdAt: not an ISO date or time"),
        ("id", _DROP, "id: missing"),
        ("operation", "UPSERT", "operation: Input should be 'INSERT', 'UPDATE' or 'DELETE'"),
    ],
)
def test_bad_field_is_named_by_dotted_path(
    docs_example: dict[str, Any], path: str, value: Any, message: str
) -> None:
    with pytest.raises(EventValidationError) as caught:
        parse_event(_mutated(docs_example, path, value))
    assert message in str(caught.value)
    assert caught.value.problems[0][0] == message.split(":")[0]


@pytest.mark.parametrize(
    ("operation", "drop", "message"),
    [
        ("INSERT", "new", "payload.new: required for INSERT events"),
        ("UPDATE", "new", "payload.new: required for UPDATE events"),
        ("DELETE", "old", "payload.old: required for DELETE events"),
    ],
)
def test_operation_needs_its_image(
    docs_example: dict[str, Any], operation: str, drop: str, message: str
) -> None:
    data = _mutated(docs_example, "operation", operation)
    data["payload"][drop] = None
    with pytest.raises(EventValidationError, match=message):
        parse_event(data)


@pytest.mark.parametrize(
    ("operation", "keep", "number"), [("INSERT", "new", "LOAD-2343"), ("DELETE", "old", "LOAD-1027")]
)
def test_operation_picks_the_right_image(
    docs_example: dict[str, Any], operation: str, keep: str, number: str
) -> None:
    data = _mutated(docs_example, "operation", operation)
    data["payload"] = {keep: data["payload"][keep]}
    assert parse_event(data).invoice.load_number == number


def test_update_without_old_is_fine(docs_example: dict[str, Any]) -> None:
    data = copy.deepcopy(docs_example)
    del data["payload"]["old"]
    assert parse_event(data).payload.old is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "body: not valid JSON"),
        (b"[1, 2]", "body: expected a JSON object"),
        (b"\xff", "body: not valid JSON"),
    ],
)
def test_unreadable_bodies(body: bytes, message: str) -> None:
    with pytest.raises(EventValidationError, match=message):
        parse_event(body)
