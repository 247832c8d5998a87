"""`VendorClient`: one sync httpx client per vendor, declared by a `VendorSpec`.

Every call goes: shared rate limiter → auth headers → send → classify. Failures are retried per
the spec's `RetryPolicy` only when resending is safe: idempotent methods (GET/HEAD/OPTIONS/PUT/
DELETE by default, or a POST the caller marks `idempotent=True`, e.g. Qargo order upload keyed on
`order_identifier`), or a connection that failed before anything was sent. A 401 gets one retry
with fresh credentials when the auth strategy can fetch them (OAuth tokens).

A body cut short (a 2xx whose JSON ends mid-document: a proxy or a dropped connection that still
sent a consistent Content-Length) is retried like a transport failure when resending is safe, and
the message names that cause, not the base URL; a body that is not JSON at all (an HTML page from a
wrong base URL) is not retried and points at the setting.
"""

from __future__ import annotations

import json as jsonlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx

from services.core.auth import AuthStrategy
from services.core.errors import (
    MalformedResponse,
    VendorError,
    body_excerpt,
    connection_error,
    error_for_response,
    read_error,
)
from services.core.pagination import Page, PageRequest, Paginator, iter_records, paginate
from services.core.ratelimit import RateLimiter
from services.core.retry import RetryPolicy, announce_wait, default_idempotent

log = logging.getLogger("services.core")

# httpx failures that happen before a byte of the request left: resending cannot duplicate it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 5.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True)
class VendorSpec:
    name: str  # shown in messages: "Qargo"
    base_url: str
    auth: AuthStrategy
    limiter: RateLimiter | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeouts: Timeouts = field(default_factory=Timeouts)
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def base_url_hint(self) -> str:
        return f"check {self.name.upper()}_BASE_URL"


class _BodyCut(Exception):
    """The connection broke while the body of an answer was read (status `status`, `received` bytes in)."""

    def __init__(self, exc: httpx.TransportError, status: int, received: int) -> None:
        super().__init__(str(exc))
        self.exc, self.status, self.received = exc, status, received


class _Truncated(MalformedResponse):
    """A 2xx whose JSON body ends mid-document (retried when resending is safe)."""

    def __init__(self, error: MalformedResponse) -> None:
        super().__init__(error.message, vendor=error.vendor, status=error.status, body=error.body)


def _cut_short(response: httpx.Response, exc: Exception) -> bool:
    """The JSON ran out before it was complete: an unterminated string, a decode error in the last
    fragment (nothing structural after it), or a multi-byte character cut in half. A body that starts
    like JSON and ends early is truncation, not a wrong URL."""
    if isinstance(exc, UnicodeDecodeError):
        return exc.end >= len(response.content) - 1
    if not isinstance(exc, jsonlib.JSONDecodeError) or exc.doc.lstrip()[:1] not in ("{", "["):
        return False
    if exc.msg.startswith("Unterminated string"):
        return True
    rest = exc.doc[exc.pos:].rstrip()  # the fragment the decoder stopped at: no structure after it when cut
    return not any(ch in rest for ch in ",:]}")


class VendorClient:
    def __init__(self, spec: VendorSpec, *, transport: httpx.BaseTransport | None = None) -> None:
        self.spec = spec
        self.name = spec.name
        self._http = httpx.Client(
            base_url=spec.base_url,
            transport=transport,
            timeout=spec.timeouts.to_httpx(),
            headers={"User-Agent": "opsdash", **spec.headers},
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send with rate limiting, auth and retries; return a 2xx/3xx response or raise `VendorError`."""
        method = method.upper()
        safe = default_idempotent(method) if idempotent is None else idempotent
        where = f"{method} {self._check_url(url)}"
        refreshed, attempt = False, 1
        for _ in range(self.spec.retry.max_attempts + 1):  # + the one 401 refresh
            try:
                response, used = self._send(method, url, params, json, headers)
            except _BodyCut as cut:
                self._after_body_cut(cut, safe, attempt, where)
                attempt += 1
                continue
            except httpx.TransportError as exc:
                self._after_transport_error(exc, safe, attempt, where)
                attempt += 1
                continue
            if response.status_code == 401 and not refreshed and self.spec.auth.refresh_after_401(used):
                refreshed = True
                continue
            if response.status_code < 400:
                return response
            self._after_error_status(response, safe, attempt, where)
            attempt += 1
        raise VendorError(f"{self.name}: {where} gave up after {attempt - 1} attempts", vendor=self.name)

    def get_json(self, url: str, *, params: Mapping[str, Any] | None = None) -> Any:
        return self.request_json("GET", url, params=params)[1]

    def post_json(self, url: str, *, json: Any, idempotent: bool = False) -> Any:
        return self.request_json("POST", url, json=json, idempotent=idempotent)[1]

    def request_json(
        self, method: str, url: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
        idempotent: bool | None = None,
    ) -> tuple[httpx.Response, Any]:
        """`request`, then the body as JSON; a truncated body is fetched again when resending is safe."""
        safe = default_idempotent(method) if idempotent is None else idempotent
        attempt = 1
        while True:
            response = self.request(method, url, params=params, json=json, idempotent=idempotent)
            try:
                return response, self.parse_json(response, attempts=attempt, resent=safe)
            except _Truncated:
                if not safe or attempt >= self.spec.retry.max_attempts:
                    raise self._truncated(response, attempt, safe) from None
                self._pause(self.spec.retry.backoff(attempt), f"{method.upper()} {self._check_url(url)}",
                            "body cut short", attempt)
                attempt += 1

    def parse_json(self, response: httpx.Response, *, attempts: int = 1, resent: bool = False) -> Any:
        """The body as JSON (None for an empty body), or `MalformedResponse` (`_Truncated` when cut short)."""
        if not response.content:
            return None
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError) as exc:
            if _cut_short(response, exc):
                raise _Truncated(self._truncated(response, attempts, resent)) from None
            raise MalformedResponse(
                f"{self.name} answered {response.request.method} {response.request.url.path} with "
                f"something that is not JSON (HTTP {response.status_code}): {self.spec.base_url_hint}",
                vendor=self.name,
                status=response.status_code,
                body=body_excerpt(response, self.spec.auth.secret_values()),
            ) from None

    def _truncated(self, response: httpx.Response, attempts: int, resent: bool) -> MalformedResponse:
        request = response.request
        tried = (f"{attempts} times in a row" if attempts > 1 else
                 "once" if resent else f"once (not resent: {request.method} is not safe to repeat)")
        return MalformedResponse(
            f"{self.name} answered {request.method} {request.url.path} with a JSON body cut short after "
            f"{len(response.content)} bytes (HTTP {response.status_code}), {tried}: the answer was truncated on "
            "the way (network, proxy or the vendor); try again later",
            vendor=self.name,
            status=response.status_code,
            body=body_excerpt(response, self.spec.auth.secret_values()),
        )

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        paginator: Paginator,
        *,
        start: PageRequest | None = None,
        max_pages: int = 1000,
        read_ahead: bool = False,
    ) -> Iterator[Page]:
        return paginate(self, path, params, paginator, start=start, max_pages=max_pages, read_ahead=read_ahead)

    def iter_records(
        self, path: str, params: Mapping[str, Any] | None, paginator: Paginator, *, max_pages: int = 1000
    ) -> Iterator[Any]:
        return iter_records(self, path, params, paginator, max_pages=max_pages)

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
    ) -> tuple[httpx.Response, dict[str, str]]:
        if self.spec.limiter is not None:
            self.spec.limiter.acquire()
        used = self.spec.auth.headers(self._http)
        request = self._http.build_request(
            method,
            url,
            params=dict(params) if params else None,
            json=json,
            headers={**(headers or {}), **used},
        )
        response = self._http.send(request, stream=True)  # headers first: a failure after them is a read error
        try:
            response.read()
        except httpx.TransportError as exc:
            response.close()
            raise _BodyCut(exc, response.status_code, response.num_bytes_downloaded) from exc
        return response, used

    def _after_body_cut(self, cut: _BodyCut, safe: bool, attempt: int, where: str) -> None:
        """The request reached the vendor (it answered): resent only when that is safe."""
        if not safe or attempt >= self.spec.retry.max_attempts:
            tried = (f"{attempt} times in a row" if attempt > 1 else
                     "once" if safe else f"once (not resent: {where.split()[0]} is not safe to repeat)")
            raise read_error(self.name, cut.exc, where, cut.status, cut.received, tried) from cut.exc
        self._pause(self.spec.retry.backoff(attempt), where, "body cut mid-way", attempt)

    def _after_transport_error(self, exc: httpx.TransportError, safe: bool, attempt: int, where: str) -> None:
        if not (safe or isinstance(exc, _NOT_SENT)) or attempt >= self.spec.retry.max_attempts:
            raise connection_error(self.name, exc, where, self.spec.base_url_hint) from exc
        self._pause(self.spec.retry.backoff(attempt), where, type(exc).__name__, attempt)

    def _after_error_status(self, response: httpx.Response, safe: bool, attempt: int, where: str) -> None:
        policy, status = self.spec.retry, response.status_code
        wait = policy.server_wait(response)
        if policy.is_rate_limited(status) and wait is not None and self.spec.limiter is not None:
            self.spec.limiter.hold_off(wait)  # every process on this machine waits, not just us
        too_long = wait is not None and wait > policy.max_wait
        if not (safe and policy.is_retryable(status)) or too_long or attempt >= policy.max_attempts:
            raise self._error(response, wait)
        reason = f"HTTP {status}" + (f", the vendor asked to wait {wait:.0f} s" if wait is not None else "")
        self._pause(wait if wait is not None else policy.backoff(attempt), where, reason, attempt)

    def _error(self, response: httpx.Response, wait: float | None) -> VendorError:
        auth = self.spec.auth
        return error_for_response(
            self.name,
            response,
            credential=auth.credential,
            auth_hint=auth.hint,
            rate_limit_statuses=self.spec.retry.rate_limit_statuses,
            retry_after=wait,
            secrets=auth.secret_values(),
        )

    def _pause(self, delay: float, where: str, reason: str, attempt: int) -> None:
        told = announce_wait(self.name, delay, f"{where} answered {reason}; then retry {attempt} of "
                             f"{self.spec.retry.max_attempts - 1} (Ctrl-C stops)", self.spec.retry.clock())
        log.log(
            logging.INFO if told else logging.WARNING,  # a listener printed it already: not twice on stderr
            "%s: %s failed (%s); retry %d of %d in %.2f s",
            self.name,
            where,
            reason,
            attempt,
            self.spec.retry.max_attempts - 1,
            delay,
        )
        self.spec.retry.sleep(delay)

    def _check_url(self, url: str) -> str:
        """Absolute URLs (vendor `next` links) must point at the configured host: the credentials
        go with every request, and must never be sent anywhere else."""
        target = httpx.URL(url)
        base = self._http.base_url
        if target.is_absolute_url and (target.scheme, target.host, target.port) != (
            base.scheme,
            base.host,
            base.port,
        ):
            raise MalformedResponse(
                f"{self.name} pointed to another host ({target.host}); refusing to send credentials there: "
                f"{self.spec.base_url_hint}",
                vendor=self.name,
            )
        if target.is_absolute_url:
            return target.path
        return base.path.rstrip("/") + "/" + target.path.lstrip("/")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"VendorClient(vendor={self.name!r}, base_url={self.spec.base_url!r})"
