"""Parse an ``onCarrierInvoiceEvent`` body into a typed event, or say exactly which field is wrong.

The webhook receiver stores the raw body first and then calls :func:`parse_event`; a bad event is
recorded with the message of :class:`EventValidationError`, e.g. ``payload.new.total_amount: not an integer``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from services.upwell.models import CarrierInvoiceEvent, Operation

# Which row images each operation must carry: an INSERT has no "before", a DELETE no "after".
_REQUIRED_IMAGE = {Operation.INSERT: "new", Operation.UPDATE: "new", Operation.DELETE: "old"}


class EventValidationError(ValueError):
    """The body is not a valid carrier invoice event. ``problems`` lists ``(dotted.path, message)``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))


def parse_event(body: bytes | str | dict[str, Any]) -> CarrierInvoiceEvent:
    """Validate one webhook body (raw bytes or already-decoded JSON)."""
    data = _decode(body)
    try:
        event = CarrierInvoiceEvent.model_validate(data)
    except ValidationError as exc:
        raise EventValidationError(_problems(exc)) from None
    _check_images(event)
    return event


def _decode(body: bytes | str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EventValidationError([("body", f"not valid JSON ({exc})")]) from None
    if not isinstance(body, dict):
        raise EventValidationError([("body", "expected a JSON object")])
    return body


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Pydantic errors as (dotted path in the vendor's field names, short message)."""
    problems = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or "body"
        message = error["msg"].removeprefix("Value error, ")
        problems.append((path, "missing" if error["type"] == "missing" else message))
    return problems


def _check_images(event: CarrierInvoiceEvent) -> None:
    image = _REQUIRED_IMAGE[event.operation]
    if getattr(event.payload, image) is None:
        raise EventValidationError([(f"payload.{image}", f"required for {event.operation.value} events")])
