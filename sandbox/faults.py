"""Fault injection and request accounting, one `FaultSwitch` and one `Stats` per vendor.

Faults are set at start (`SandboxConfig.faults`) or at run time through the admin routes
(`PUT /_admin/faults/{vendor}`). Share-based faults use a seeded random stream so a test run is
repeatable. `expire_cursor` is vendor-specific: each vendor's paginator checks it.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class Faults:
    latency_ms: int = 0  # added to every answer
    error_rate: float = 0.0  # share of requests answered 500..503
    storm: bool = False  # every request answered 429 (a "429 storm")
    storm_retry_after: int = 1
    malformed_rate: float = 0.0  # share of 200 answers whose JSON body is cut short
    drop_rate: float = 0.0  # share of answers whose connection drops mid-body
    expire_cursor: bool = False  # the next request carrying a cursor/page token gets the vendor's error
    shrink_while_paging: int = 0  # Cargobase: after each page with a next one, this many invoices already read leave

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Faults:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        return cls(**data)


class FaultSwitch:
    def __init__(self, faults: Faults | None = None, seed: int = 0) -> None:
        self.faults = faults or Faults()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def set(self, faults: Faults) -> None:
        self.faults = faults

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def take_expired_cursor(self) -> bool:
        """True once per arming: the vendor answers this cursor as expired."""
        with self._lock:
            if self.faults.expire_cursor:
                self.faults.expire_cursor = False
                return True
            return False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self.faults)


@dataclass
class Stats:
    """What the sandbox answered: counts per status, and the times of accepted (non-429) requests."""

    by_status: dict[int, int] = field(default_factory=dict)
    accepted_times: deque[float] = field(default_factory=lambda: deque(maxlen=200_000))
    # the accepted requests a vendor's general limit counts: all but token requests (Qargo's 2/s, 3/s in bursts
    # excludes authentication, seeds/000 line 142)
    api_times: deque[float] = field(default_factory=lambda: deque(maxlen=200_000))
    token_requests: int = 0

    def reset(self) -> None:
        self.by_status.clear()
        self.accepted_times.clear()
        self.api_times.clear()
        self.token_requests = 0

    def record(self, status: int, path: str) -> None:
        self.by_status[status] = self.by_status.get(status, 0) + 1
        if status != 429:
            self.accepted_times.append(time.time())
            if not path.endswith("/auth/token"):
                self.api_times.append(self.accepted_times[-1])

    def as_dict(self) -> dict[str, Any]:
        times = list(self.accepted_times)
        return {
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "requests": sum(self.by_status.values()),
            "rate_limited": self.by_status.get(429, 0),
            "token_requests": self.token_requests,
            "max_accepted_per_second": max_in_window(times, 1.0),
            "accepted_times": times[-5000:],
            "api_times": list(self.api_times)[-5000:],
        }


def max_in_window(times: list[float], window: float) -> int:
    """The largest number of events in any half-open window of `window` seconds."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


class FaultMiddleware:
    """Wraps one vendor's app: records every answer and applies the armed faults."""

    def __init__(self, app: ASGIApp, switch: FaultSwitch, stats: Stats) -> None:
        self.app, self.switch, self.stats = app, switch, stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        f = self.switch.faults
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        path = scope.get("path", "")
        if f.storm:
            await _plain(send, 429, b'{"error":"Rate limit exceeded"}', [(b"retry-after", str(f.storm_retry_after).encode())])
            self.stats.record(429, path)
            return
        if self.switch.roll(f.error_rate):
            status = random.choice((500, 502, 503))
            await _plain(send, status, b'{"error":"Internal server error (injected)"}', [])
            self.stats.record(status, path)
            return
        malformed, drop = self.switch.roll(f.malformed_rate), self.switch.roll(f.drop_rate)
        await self.app(scope, receive, self._wrap(send, path, malformed, drop))

    def _wrap(self, send: Send, path: str, malformed: bool, drop: bool) -> Send:
        state: dict[str, Any] = {"status": 200, "body": b"", "headers": []}

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["headers"] = message["status"], list(message.get("headers", []))
                self.stats.record(message["status"], path)
                if not (malformed or drop) or message["status"] != 200:
                    state["passthrough"] = True
                    await send(message)
                return
            if state.get("passthrough"):
                await send(message)
                return
            state["body"] += message.get("body", b"")
            if message.get("more_body"):
                return
            await self._faulty_body(send, state, drop)

        return wrapped

    async def _faulty_body(self, send: Send, state: dict[str, Any], drop: bool) -> None:
        body: bytes = state["body"]
        headers = [(k, v) for k, v in state["headers"] if k.lower() != b"content-length"]
        if drop:
            # Promise the full length, send half, then fail: the client sees a connection cut mid-body.
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": state["status"], "headers": headers})
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            raise ConnectionAbortedError("sandbox: connection dropped mid-response (injected fault)")
        cut = body[: max(1, len(body) // 2)] or b"{"
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({"type": "http.response.start", "status": state["status"], "headers": headers})
        await send({"type": "http.response.body", "body": cut})


async def _plain(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
