"""Server-side rate limiters used by the vendor simulators.

Each returns `None` when a request may pass, or the seconds the caller must wait (the value a
vendor puts in `Retry-After`). The clock is injectable so tests can drive them without sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass
class TokenBucket:
    """`rate` requests per second sustained, `burst` at once (Qargo: 2/s, burst 3)."""

    rate: float
    burst: int
    clock: Clock = time.monotonic
    _tokens: dict[str, float] = field(default_factory=dict)
    _stamp: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, key: str = "") -> float | None:
        with self._lock:
            now = self.clock()
            tokens = self._tokens.get(key, float(self.burst))
            tokens = min(float(self.burst), tokens + (now - self._stamp.get(key, now)) * self.rate)
            self._stamp[key] = now
            if tokens >= 1.0:
                self._tokens[key] = tokens - 1.0
                return None
            self._tokens[key] = tokens
            return (1.0 - tokens) / self.rate


@dataclass
class SlidingWindow:
    """At most `limit` events in any `window` seconds (Qargo: 5 token requests per rolling hour)."""

    limit: int
    window: float
    clock: Clock = time.monotonic
    _events: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, key: str = "") -> float | None:
        with self._lock:
            now = self.clock()
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) < self.limit:
                events.append(now)
                return None
            return events[0] + self.window - now


@dataclass
class FixedWindow:
    """`limit` calls per `window`-second window, reporting the window like Quaderno does
    (X-RateLimit-Limit / -Remaining / -Reset)."""

    limit: int
    window: float
    clock: Clock = time.time
    _start: dict[str, float] = field(default_factory=dict)
    _count: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, key: str = "") -> float | None:
        with self._lock:
            now = self.clock()
            start = self._start.get(key)
            if start is None or now >= start + self.window:
                self._start[key], self._count[key] = now, 0
                start = now
            if self._count[key] < self.limit:
                self._count[key] += 1
                return None
            return start + self.window - now

    def state(self, key: str = "") -> tuple[int, int, float]:
        """(limit, remaining, seconds until the window resets)."""
        now = self.clock()
        start = self._start.get(key, now)
        remaining = self.limit - self._count.get(key, 0) if now < start + self.window else self.limit
        return self.limit, max(0, remaining), max(0.0, start + self.window - now)


def retry_after_header(seconds: float) -> str:
    """Whole seconds, rounded up, never 0 (a client would retry at once)."""
    return str(max(1, math.ceil(seconds)))
