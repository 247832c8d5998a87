"""The one error tree of the vendor clients, and the one function that maps a response to it.

The tree is drawn in `services.core`'s docstring. Every message says which vendor failed and
what a staff member can try; no message, repr or body excerpt ever carries a secret (callers
pass the secret values to redact, and token-looking JSON fields are masked regardless).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import httpx

BODY_EXCERPT_CHARS = 500
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id")
_TOKEN_FIELDS = re.compile(
    r'("(?:access_token|refresh_token|token|secret|password)"\s*:\s*")[^"]*(")', re.IGNORECASE
)
_AUTH_VALUES = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)


class VendorError(Exception):
    """Base of every error a vendor client raises. `str(exc)` is the staff-facing message."""

    def __init__(
        self,
        message: str,
        *,
        vendor: str,
        status: int | None = None,
        request_id: str | None = None,
        body: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.vendor = vendor
        self.status = status
        self.request_id = request_id
        self.body = body

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(vendor={self.vendor!r}, status={self.status!r}, "
            f"request_id={self.request_id!r}, message={self.message!r})"
        )


class VendorConnectionError(VendorError):
    """No HTTP answer: DNS, refused connection, reset, TLS."""


class VendorTimeout(VendorConnectionError):
    """The vendor did not answer within the client's timeouts."""


class VendorReadError(VendorError):
    """The vendor answered (status and headers arrived) but the connection broke while the body was being
    read: the answer was cut off on the way. Not "could not reach": the base URL is fine."""


class AuthError(VendorError):
    """The vendor rejected the credentials (401, or 403 where the vendor means it that way)."""


class PermissionDenied(AuthError):
    """403 where the vendor means "these credentials may not see this" (Quaderno: "the record
    requested is hidden for administrators only", seeds/001 lines 91-93): the key works, its user
    lacks a permission. Not retried, not rate limiting."""


class NotFoundError(VendorError):
    """404/410: the record or the path does not exist."""


class ValidationError(VendorError):
    """400/422: the vendor refused the input; `fields` maps a field name ("" if unknown) to messages."""

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.fields: dict[str, list[str]] = fields or {}


class RateLimited(VendorError):
    """The vendor (or our own shared limiter) says slow down; `retry_after` in seconds when known."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(VendorError):
    """5xx: a vendor-side failure, usually transient."""


class MalformedResponse(VendorError):
    """The vendor answered, but not with what its docs promise (invalid JSON, wrong shape, page loops)."""


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask known secret values, token-like JSON fields and credentials in auth-header form."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _TOKEN_FIELDS.sub(r"\1***\2", text)
    return _AUTH_VALUES.sub(r"\1 ***", text)


def body_excerpt(response: httpx.Response, secrets: Iterable[str] = ()) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    return redact(text[: BODY_EXCERPT_CHARS * 2], secrets)[:BODY_EXCERPT_CHARS]


def request_id_of(response: httpx.Response) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        if value := response.headers.get(name):
            return value
    return None


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def parse_field_errors(body: Any) -> dict[str, list[str]]:
    """Field messages from the error bodies the vendors use.

    Quaderno: `{"errors": {"field": ["msg"]}}` or the bare `{"field": ["msg"]}` (recorded 422);
    Qargo 400 `ValidationErrorResponse`: `{"message", "errors": [{"message", "field", "path"}]}`;
    Qargo/FastAPI 422 `HTTPValidationError`: `{"detail": [{"loc": [...], "msg"}]}`;
    problem details: `{"errors": {...}}` like Quaderno.
    """
    if not isinstance(body, dict):
        return {}
    if "errors" in body:
        return _fields_from(body["errors"])
    if isinstance(body.get("detail"), list):
        return _fields_from_fastapi(body["detail"])
    if body and all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body.values()):
        return {str(k): list(v) for k, v in body.items()}
    return {}


def _fields_from(errors: Any) -> dict[str, list[str]]:
    if isinstance(errors, dict):
        return {str(k): [str(m) for m in v] if isinstance(v, list) else [str(v)] for k, v in errors.items()}
    fields: dict[str, list[str]] = {}
    for item in errors if isinstance(errors, list) else []:
        if isinstance(item, dict):
            key = item.get("field") or item.get("path") or ""
            fields.setdefault(str(key), []).append(str(item.get("message") or item.get("detail") or ""))
        else:
            fields.setdefault("", []).append(str(item))
    return fields


def _fields_from_fastapi(detail: list[Any]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for item in detail:
        if isinstance(item, dict):
            loc = [str(p) for p in item.get("loc", []) if p not in ("body", "query", "path")]
            fields.setdefault(".".join(loc), []).append(str(item.get("msg", "")))
    return fields


def vendor_message(body: Any) -> str:
    """The vendor's own one-line explanation, when its body has one."""
    if isinstance(body, dict):
        for key in ("error", "message", "detail", "title"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return ""


def error_for_response(
    vendor: str,
    response: httpx.Response,
    *,
    credential: str = "credentials",
    auth_hint: str = "check the credentials in the settings",
    rate_limit_statuses: Iterable[int] = (429,),
    retry_after: float | None = None,
    secrets: Iterable[str] = (),
    forbidden_hint: str | None = None,
) -> VendorError:
    """The one place that maps an HTTP error status to a class and a staff-facing message.
    `forbidden_hint` given: a 403 is a `PermissionDenied` whose message is that hint."""
    secrets = tuple(secrets)
    status, body = response.status_code, json_or_none(response)
    said = redact(vendor_message(body), secrets)
    where = f"{response.request.method} {response.request.url.path}"
    common: dict[str, Any] = {
        "vendor": vendor,
        "status": status,
        "request_id": request_id_of(response),
        "body": body_excerpt(response, secrets),
    }
    if status in set(rate_limit_statuses):
        return RateLimited(_rate_message(vendor, retry_after), retry_after=retry_after, **common)
    if status == 403 and forbidden_hint is not None:
        return PermissionDenied(f"{vendor} refused {where} (HTTP 403){_said(said)}: {forbidden_hint}", **common)
    if status in (401, 403):
        return AuthError(f"{vendor} rejected the {credential} (HTTP {status}): {auth_hint}", **common)
    if status in (404, 410):
        return NotFoundError(f"{vendor} has nothing at {where} (HTTP {status}): check the id", **common)
    if status in (400, 422):
        return _validation_error(vendor, status, body, said, secrets, common)
    if status >= 500:
        return ServerError(
            f"{vendor} failed on {where} (HTTP {status}): a vendor-side problem, retry later", **common
        )
    return VendorError(f"{vendor} refused {where} (HTTP {status}){_said(said)}", **common)


def _rate_message(vendor: str, retry_after: float | None) -> str:
    when = f"retry after {retry_after:.0f} s" if retry_after is not None else "retry in a minute"
    return f"{vendor} is rate limiting: {when}"


def _said(said: str) -> str:
    return f": {said}" if said else ""


def _validation_error(
    vendor: str, status: int, body: Any, said: str, secrets: tuple[str, ...], common: dict[str, Any]
) -> ValidationError:
    fields = {k: [redact(m, secrets) for m in v] for k, v in parse_field_errors(body).items()}
    detail = "; ".join(f"{k or 'request'}: {', '.join(v)}" for k, v in fields.items()) or said
    message = f"{vendor} rejected the request (HTTP {status}){_said(detail)}. Fix the input and try again"
    return ValidationError(message, fields=fields, **common)


def read_error(vendor: str, exc: httpx.TransportError, where: str, status: int, received: int,
               tried: str) -> VendorReadError:
    """A body cut mid-way (`VendorReadError`); the httpx message is left out like in `connection_error`."""
    return VendorReadError(
        f"{vendor} answered {where} (HTTP {status}) but the connection broke after {received} bytes of the body "
        f"({type(exc).__name__}), {tried}: the answer was cut off on the way (network, proxy or the vendor); "
        "try again later", vendor=vendor, status=status)


def connection_error(vendor: str, exc: httpx.TransportError, where: str, base_url_hint: str) -> VendorError:
    """Map an httpx transport failure; the httpx message is left out (it may echo URLs or hosts)."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return VendorTimeout(f"{vendor} did not answer {where} in time ({kind}): retry later", vendor=vendor)
    return VendorConnectionError(
        f"Could not reach {vendor} for {where} ({kind}): {base_url_hint} and the network", vendor=vendor
    )
