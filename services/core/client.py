"""`VendorClient`: one sync httpx client per vendor, declared by a `VendorSpec`.

Every call goes: shared rate limiter → auth headers → send → classify. Failures are retried per
the spec's `RetryPolicy` only when resending is safe: idempotent methods (GET/HEAD/OPTIONS/PUT/
DELETE by default, or a POST the caller marks `idempotent=True`, e.g. Qargo order upload keyed on
`order_identifier`), or a connection that failed before anything was sent. A 401 gets one retry
with fresh credentials when the auth strategy can fetch them (OAuth tokens).
"""

from __future__ import annotations

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
)
from services.core.pagination import Page, PageRequest, Paginator, iter_records, paginate
from services.core.ratelimit import RateLimiter
from services.core.retry import RetryPolicy, default_idempotent

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
        return self.parse_json(self.request("GET", url, params=params))

    def post_json(self, url: str, *, json: Any, idempotent: bool = False) -> Any:
        return self.parse_json(self.request("POST", url, json=json, idempotent=idempotent))

    def parse_json(self, response: httpx.Response) -> Any:
        """The body as JSON (None for an empty body), or `MalformedResponse`."""
        if not response.content:
            return None
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            raise MalformedResponse(
                f"{self.name} answered {response.request.method} {response.request.url.path} with "
                f"something that is not JSON (HTTP {response.status_code}): {self.spec.base_url_hint}",
                vendor=self.name,
                status=response.status_code,
                body=body_excerpt(response, self.spec.auth.secret_values()),
            ) from None

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        paginator: Paginator,
        *,
        start: PageRequest | None = None,
        max_pages: int = 1000,
    ) -> Iterator[Page]:
        return paginate(self, path, params, paginator, start=start, max_pages=max_pages)

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
        response = self._http.request(
            method,
            url,
            params=dict(params) if params else None,
            json=json,
            headers={**(headers or {}), **used},
        )
        return response, used

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
        self._pause(wait if wait is not None else policy.backoff(attempt), where, f"HTTP {status}", attempt)

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
        log.warning(
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
