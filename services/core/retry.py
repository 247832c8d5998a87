"""One retry policy: capped exponential backoff with full jitter, honouring the vendor's wait hints.

Retried: connection errors and timeouts, rate-limit statuses (429, plus the vendor's extras, e.g.
Quaderno's official client also treats 403/503 as rate limiting) and 5xx. A server-requested wait
(`Retry-After` seconds or HTTP date; Quaderno's `X-RateLimit-Reset`) is honoured exactly; one that
exceeds `max_wait` is not slept through: the client raises `RateLimited` instead.
`sleep`, `clock` and `random` are injectable so tests assert the exact schedule without sleeping.
A wait of `ANNOUNCE_SECONDS` or more is told to whoever registered with `tell_waits` (the CLI prints it:
what is waited for, how long, until when), besides the log.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

# X-RateLimit-Reset came in two generations (vendor-specs/quaderno cassettes): seconds left
# ("15", 2017) and UTC epoch seconds ("1689939315", 2023; seeds/001 line 57). No window lasts
# 30 years, so anything above 10^9 is an epoch.
EPOCH_THRESHOLD = 1_000_000_000

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
ANNOUNCE_SECONDS = 5.0  # a person watching a command is told of a wait this long, not left guessing

Listener = Callable[[str], None]
_listeners: list[Listener] = []


def tell_waits(listener: Listener) -> Callable[[], None]:
    """Have `listener` told of every long wait (retry or shared rate limit) in this process; returns the
    function that stops it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def announce_wait(vendor: str, seconds: float, what: str, now: float) -> bool:
    """"quaderno: waiting 45 s, until 07:12:03 UTC: ...", only for waits of ANNOUNCE_SECONDS or more;
    True when some listener was told."""
    if seconds < ANNOUNCE_SECONDS or not _listeners:
        return False
    until = datetime.fromtimestamp(now + seconds, UTC).strftime("%H:%M:%S")
    for listener in tuple(_listeners):  # a copy: a listener may stop itself
        listener(f"{vendor}: waiting {seconds:.0f} s, until {until} UTC: {what}")
    return True


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_wait: float = 60.0
    rate_limit_statuses: frozenset[int] = frozenset({429})
    server_error_statuses: frozenset[int] = frozenset({500, 502, 503, 504})
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False)
    random: Callable[[], float] = field(default=_random.random, repr=False)

    def is_rate_limited(self, status: int) -> bool:
        return status in self.rate_limit_statuses

    def is_retryable(self, status: int) -> bool:
        return self.is_rate_limited(status) or status in self.server_error_statuses

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**(attempt-1))]."""
        return self.random() * min(self.max_delay, self.base_delay * 2 ** (attempt - 1))

    def server_wait(self, response: httpx.Response) -> float | None:
        """Seconds the vendor asked us to wait, or None when it gave no usable hint."""
        wait = parse_retry_after(response.headers.get("retry-after"), self.clock())
        if wait is None and self.is_rate_limited(response.status_code):
            # Quaderno sends X-RateLimit-Reset on every answer; it means "wait" only on a refusal.
            wait = parse_ratelimit_reset(response.headers.get("x-ratelimit-reset"), self.clock())
        return wait

    def delay(self, response: httpx.Response, attempt: int) -> float:
        hint = self.server_wait(response)
        return hint if hint is not None else self.backoff(attempt)


def default_idempotent(method: str) -> bool:
    return method.upper() in IDEMPOTENT_METHODS


def parse_retry_after(value: str | None, now: float) -> float | None:
    """`Retry-After` as delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def parse_ratelimit_reset(value: str | None, now: float) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    if number is None:
        return None
    return max(0.0, number - now) if number > EPOCH_THRESHOLD else max(0.0, number)
