"""HTTP plumbing of the Qasida simulator: the bearer + `MandantId` guard, RFC 7807 problem bodies,
case-insensitive query parameters and the `{data, pageNumber, pageSize, nextPage, previousPage}` page.

Qasida is an ASP.NET service, so errors are ASP.NET-style problem details (`type`, `title`, `status`,
`detail`, `traceId`, and for validation errors an `errors` map keyed by the offending parameter) and
query parameter names bind case-insensitively (`PageNumber` = `pageNumber`).
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.context import SandboxContext

MAX_PAGE_SIZE = 1000  # larger PageSize values are clamped; the envelope's pageSize says what was served
DEFAULT_PAGE_SIZE = 100
SERVER_TIME_HEADER = "X-Server-Time"  # business "now" with microseconds: the next sync's `since`

_TYPES = {
    400: "https://tools.ietf.org/html/rfc7231#section-6.5.1",
    401: "https://tools.ietf.org/html/rfc7235#section-3.1",
    403: "https://tools.ietf.org/html/rfc7231#section-6.5.3",
    404: "https://tools.ietf.org/html/rfc7231#section-6.5.4",
}
PAGE_EXPIRED_TYPE = "urn:qasida:problem:paging-expired"

Handler = Callable[[Request, "Query"], Awaitable[Any]]


class Problem(Exception):
    """An error answered as `application/problem+json`."""

    def __init__(self, status: int, title: str, detail: str, errors: dict[str, list[str]] | None = None,
                 type_: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.errors = status, title, detail, errors
        self.type = type_ or _TYPES.get(status, "about:blank")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status,
                                "detail": self.detail, "traceId": f"00-{uuid.uuid4().hex}-01"}
        if self.errors:
            body["errors"] = self.errors
        return body


def invalid(name: str, message: str) -> Problem:
    return Problem(400, "One or more validation errors occurred.", message, {name: [message]})


class Query:
    """Query parameters looked up case-insensitively, parsed or answered with a 400 problem."""

    def __init__(self, request: Request) -> None:
        self._values = {k.lower(): v for k, v in request.query_params.multi_items()}

    def text(self, name: str) -> str | None:
        value = self._values.get(name.lower())
        return value if value not in (None, "") else None

    def integer(self, name: str, required: bool = False) -> int | None:
        raw = self.text(name)
        if raw is None:
            if required:
                raise invalid(name, f"The {name} field is required.")
            return None
        try:
            return int(raw)
        except ValueError:
            raise invalid(name, f"The value '{raw}' is not valid for {name}.") from None

    def flag(self, name: str) -> bool | None:
        raw = self.text(name)
        if raw is None:
            return None
        if raw.lower() in ("true", "1", "y", "yes"):
            return True
        if raw.lower() in ("false", "0", "n", "no"):
            return False
        raise invalid(name, f"The value '{raw}' is not valid for {name}.")

    def since(self) -> datetime | None:
        """`since` as an aware UTC datetime; a value without a zone is read as UTC."""
        raw = self.text("since")
        if raw is None:
            return None
        parsed = _iso(raw) or _iso(raw.replace(" ", "+"))  # an unencoded "+01:00" arrives as " 01:00"
        if parsed is None:
            raise invalid("since", f"The value '{raw}' is not a valid date-time for since.")
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _iso(raw: str) -> datetime | None:
    try:
        return datetime.fromisoformat(raw)  # 3.11 reads a trailing Z
    except ValueError:
        return None


def check_access(request: Request, ctx: SandboxContext) -> None:
    """Bearer token first (401), then `MandantId`: missing 400, foreign 403. The document lists it among
    the query parameters (seeds/003 line 152); the header is accepted too (the query wins)."""
    creds = ctx.config.credentials
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), creds.qasida_token.encode()):
        raise Problem(401, "Unauthorized", "A valid JWT bearer token is required: Authorization: Bearer <token>.")
    mandant = (Query(request).text("MandantId") or request.headers.get("mandantid", "")).strip()
    if not mandant:
        raise invalid("MandantId", "The MandantId field is required.")
    if not mandant.isdigit():
        raise invalid("MandantId", f"The value '{mandant}' is not valid for MandantId.")
    if mandant != creds.qasida_mandant_id:
        raise Problem(403, "Forbidden", f"The token has no access to mandant {mandant}.")


def endpoint(ctx: SandboxContext, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler with the guard, problem answers and the server-time header."""

    async def route(request: Request) -> Response:
        headers = {SERVER_TIME_HEADER: ctx.clock.now().isoformat()}
        try:
            check_access(request, ctx)
            body = await handler(request, Query(request))
        except Problem as problem:
            if problem.status == 401:
                headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return JSONResponse(problem.body(), status_code=problem.status, headers=headers,
                                media_type="application/problem+json")
        return JSONResponse(body, headers=headers)

    return route


def page_request(query: Query, ctx: SandboxContext) -> tuple[int, int]:
    """(PageNumber, PageSize), 1-based; arms the vendor's expired-paging error on later pages."""
    number, size = query.integer("PageNumber"), query.integer("PageSize")
    number = 1 if number is None else number
    size = DEFAULT_PAGE_SIZE if size is None else size
    if number < 1:
        raise invalid("PageNumber", "PageNumber must be 1 or greater.")
    if size < 1:
        raise invalid("PageSize", "PageSize must be 1 or greater.")
    if number > 1 and ctx.switch("qasida").take_expired_cursor():
        raise Problem(400, "Paging context expired",
                      f"The paging context for PageNumber={number} has expired; restart from PageNumber=1.",
                      {"PageNumber": ["The paging context has expired."]}, PAGE_EXPIRED_TYPE)
    return number, min(size, MAX_PAGE_SIZE)


def page(request: Request, ids: Sequence[int], number: int, size: int,
         render: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    """One page of `ids` rendered; nextPage/previousPage are absolute URLs, null at the ends."""
    start = (number - 1) * size
    return {
        "data": [render(i) for i in ids[start:start + size]],
        "pageNumber": number,
        "pageSize": size,
        "nextPage": _page_url(request, number + 1, size) if start + size < len(ids) else None,
        "previousPage": _page_url(request, number - 1, size) if number > 1 else None,
    }


def _page_url(request: Request, number: int, size: int) -> str:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k.lower() not in ("pagenumber", "pagesize")]
    query = urlencode([*kept, ("PageNumber", str(number)), ("PageSize", str(size))])
    return str(request.url.replace(query=query))
