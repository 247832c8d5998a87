"""Small helpers shared by the Qargo simulator: stable ids, money, timestamps and the error bodies."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from starlette.responses import JSONResponse

from sandbox.limits import retry_after_header

CENT = Decimal("0.01")


def stable_uuid(seed: int, *parts: object) -> str:
    """A UUID that is the same for the same seed and parts: pre-existing data is repeatable per seed."""
    digest = hashlib.sha256("/".join(str(p) for p in (seed, *parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def valid_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def money(cents: int) -> str:
    """Qargo sends amounts as decimal strings (2025-09 ChargeWithApproval); never a float."""
    return str((Decimal(cents) / 100).quantize(CENT))


def percent_of(cents: int, percentage: int) -> int:
    return int((Decimal(cents) * percentage / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def error(status: int, message: str, field: str | None = None, path: str | None = None) -> JSONResponse:
    """The spec's error body (ValidationErrorResponse): a message and a non-empty `errors` list."""
    detail = {"message": message, "field": field, "path": path}
    return JSONResponse({"message": message, "errors": [detail]}, status_code=status)


def not_found(kind: str, ident: str, field: str) -> JSONResponse:
    return error(404, f"{kind} with id {ident} not found", field=field)


def unprocessable(loc: list[str | int], msg: str, kind: str = "value_error") -> JSONResponse:
    """FastAPI's request validation error (HTTPValidationError), as the spec lists for 422."""
    return JSONResponse({"detail": [{"loc": loc, "msg": msg, "type": kind}]}, status_code=422)


def rate_limited(wait: float) -> JSONResponse:
    # seeds/000 line 148-154: 429 with Retry-After and {"error":"Rate limit exceeded"}
    return JSONResponse({"error": "Rate limit exceeded"}, status_code=429,
                        headers={"Retry-After": retry_after_header(wait)})


def json_ok(body: Any) -> JSONResponse:
    return JSONResponse(body)
