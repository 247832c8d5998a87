"""What the webhook receiver refuses before it looks at a password, and how it says so in its log.

The rule (issue 22): a lockout is a lockout. An address over its failure budget is refused (429)
WITHOUT its credentials being checked, so a guesser learns nothing while locked out, not even that
its next guess was right. Two budgets:

- per address: more than `budget` failures in `window` seconds locks that address until the oldest
  of them leaves the window;
- in total: more than `total_budget` failures in `window` seconds from all addresses together (a
  guesser spreading over many addresses) locks every address that has not authenticated successfully
  in the last `trusted_for` seconds. The real sender, which delivers with the right password, keeps
  its trust and is still checked; everyone else is refused until the total drops below the budget.

Guesses are thereby bounded to `budget` per address and `total_budget` overall per window (defaults:
10 and 100 per minute) whatever the number of connections or addresses.

`RefusalLog`: every refusal is counted, and at most one line per refusal kind per `every` seconds
is written (with the count since the previous line), so a flood costs the log a few lines a minute,
not one per connection.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

log = logging.getLogger("opsdash.webhooks")
Clock = Callable[[], float]


class RefusalLog:
    """At most one log line per refusal kind per `every` seconds, carrying the count since the last."""

    def __init__(self, every: float = 60.0, clock: Clock = time.monotonic, logger: logging.Logger = log) -> None:
        self.every, self.clock, self.logger = every, clock, logger
        self.counts: dict[str, int] = {}  # every refusal ever, per kind (for tests and benches)
        self._unlogged: dict[str, int] = {}
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def note(self, kind: str, detail: str) -> None:
        """Count one refusal of `kind`; log it when this kind has not been logged for `every` seconds."""
        now = self.clock()
        with self._lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self._unlogged[kind] = self._unlogged.get(kind, 0) + 1
            last = self._last.get(kind)
            if last is not None and now - last < self.every:
                return
            count, self._unlogged[kind], self._last[kind] = self._unlogged[kind], 0, now
        self.logger.warning("webhooks: refused %d request%s (%s) in the last %.0f s; latest: %s",
                            count, "" if count == 1 else "s", kind, self.every, detail)


class AuthFailures:
    """Failed authentications per client address and in total, and the lockouts they cause (module doc).

    `locked(address)` is asked BEFORE the credentials are checked; `fail` and `succeed` after. At most
    `max_addresses` addresses are tracked (least recently seen dropped), so a flood from many
    addresses cannot grow memory without bound."""

    def __init__(self, budget: int = 10, window: float = 60.0, max_addresses: int = 10_000,
                 clock: Clock = time.monotonic, pause: float = 1.0, total_budget: int = 100,
                 trusted_for: float = 3600.0, refusals: RefusalLog | None = None) -> None:
        self.budget, self.window, self.max_addresses, self.clock = budget, window, max_addresses, clock
        self.total_budget, self.trusted_for = total_budget, trusted_for
        self.pause = pause  # seconds a refused request waits before its 429: holds no thread
        self.refusals = refusals or RefusalLog(clock=clock)
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._total: deque[float] = deque()
        self._trusted: OrderedDict[str, float] = OrderedDict()  # address -> last successful authentication
        self._lock = threading.Lock()
        self.refused = 0  # requests answered 401 or 429 without being served, for tests and benches

    def locked(self, address: str) -> float | None:
        """Seconds until `address` may try again, or None when its credentials may be checked."""
        now = self.clock()
        with self._lock:
            own = self._expire(self._failures.get(address, deque()), now)
            if len(own) >= self.budget:
                return self._refuse("address locked out", address, own[0] + self.window - now)
            total = self._expire(self._total, now)
            if len(total) >= self.total_budget and not self._is_trusted(address, now):
                return self._refuse("all untrusted addresses locked out", address, total[0] + self.window - now)
            return None

    def fail(self, address: str) -> None:
        """Count a failed authentication (answered 401) from `address`."""
        now = self.clock()
        with self._lock:
            self.refused += 1
            times = self._expire(self._failures.pop(address, deque()), now)
            times.append(now)
            while len(times) > self.budget:
                times.popleft()  # `budget` entries are enough to decide: memory per address stays bounded
            self._failures[address] = times
            self._total.append(now)
            while len(self._total) > self.total_budget:
                self._total.popleft()
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)
        self.refusals.note("wrong credentials", address)

    def succeed(self, address: str) -> None:
        """The right credentials from `address`: trusted during a total lockout for `trusted_for` seconds."""
        with self._lock:
            self._trusted.pop(address, None)
            self._trusted[address] = self.clock()
            while len(self._trusted) > self.max_addresses:
                self._trusted.popitem(last=False)

    def _refuse(self, kind: str, address: str, wait: float) -> float:
        self.refused += 1
        self.refusals.note(kind, address)
        return max(1.0, wait)

    def _expire(self, times: deque[float], now: float) -> deque[float]:
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def _is_trusted(self, address: str, now: float) -> bool:
        seen = self._trusted.get(address)
        return seen is not None and now - seen < self.trusted_for
