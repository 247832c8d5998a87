"""Vendor clients whose waits pass in virtual time, for tests that pull a whole sandbox world.

The clients keep to each vendor's documented limits on their own (services/core/ratelimit.py: Qargo and
Cargobase 2 calls/s, Quaderno 100 per 15 s), so a test syncing a few hundred pages against the sandbox used to
spend most of its time asleep in the limiter (tests/sandbox/test_living.py: 150 of 230 s). Here the limiter,
the retry policy and the token cache run unchanged on a clock that jumps forward by whatever they would have
slept: the same calls in the same order, none skipped, only no wall time spent waiting. The pacing itself is
tested against a fake clock in tests/services/test_core_ratelimit.py and the vendors' clients tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from services.clients import PULL_VENDORS, make_client
from services.settings import Settings


class VirtualTime:
    """Wall-clock time plus every second slept so far; `sleep` returns at once. Thread-safe."""

    def __init__(self) -> None:
        self.slept = 0.0
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return time.time() + self.slept

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept += max(0.0, seconds)


def clients_in_virtual_time(settings: Settings, vendors: Iterable[str], at: VirtualTime | None = None) -> dict[str, Any]:
    """`sync.resources.clients_for(settings, vendors)`, each client on `at` (a new VirtualTime by default)."""
    at = at or VirtualTime()
    return {v: make_client(settings, v, sleep=at.sleep, clock=at.clock)
            for v in vendors if v in PULL_VENDORS and settings.configured(v)}  # type: ignore[arg-type]
