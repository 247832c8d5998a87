"""Client-side token buckets that keep us under a vendor's limit *before* it answers 429.

`SqliteRateLimiter` keeps the bucket in the shared SQLite file, updated inside `BEGIN IMMEDIATE`
transactions, so the worker, the dashboard and the CLI together stay within one budget. With a PostgreSQL
`OPSDASH_DB` (issue 20) the bucket is one row per vendor, locked while it is refilled and spent, and its time is
the database's clock (services/core/store.py `hold_row`): processes on several machines share one budget.
`MemoryRateLimiter` is the same bucket for one process (tests, scripts).

Choosing rate/burst: a bucket admits at most `burst + rate * T` calls in any T seconds.
Qargo allows 2/s sustained, 3/s bursts (seeds/000 line 142): rate=2, burst=1 never exceeds 3 in
any second; Quaderno 100 calls / 15 s (seeds/001 line 60): rate=6, burst=10 stays under 100.

`SqliteWindowLimiter` enforces "at most `limit` calls in any `window` seconds" exactly (a sliding
log). It is the right shape for a vendor that counts calls per fixed window (Quaderno): a bucket
safe for every window alignment must refill at limit/window with no burst (250 calls: 37.5 s),
while the sliding log may spend a full window's calls at once and then wait (250 calls: ~30 s),
and is still safe whatever the vendor's window alignment, since any window of `window` seconds
sees at most `limit` calls. Pad `window` by the network jitter (client send time vs vendor arrival).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from services.core.errors import RateLimited
from services.core.retry import announce_wait
from services.core.store import Target, hold_row, immediate, target

Connection = Any  # a sqlite3 connection, or services.core.postgres.PgConnection
# One row per key, replaced whole (SQLite's INSERT OR REPLACE on a table whose only constraint is its key)
_REPLACE = ("ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at, "
            "blocked_until = excluded.blocked_until")


def _now(database_clock: float | None, clock: Callable[[], float]) -> float:
    """The database's clock when it has one to share (PostgreSQL), else this process's (SQLite, one host). A clock
    given to the limiter (tests in virtual time) wins: it is the clock its `sleep` advances."""
    return clock() if database_clock is None or clock is not time.time else database_clock


class RateLimiter(Protocol):
    def acquire(self) -> float:
        """Block until one call may go out; return the seconds waited."""
        ...

    def hold_off(self, seconds: float) -> None:
        """The vendor said 429 + Retry-After: make every user of this bucket wait that long."""
        ...


@dataclass
class Bucket:
    tokens: float
    updated_at: float
    blocked_until: float = 0.0


def take(bucket: Bucket, now: float, rate: float, burst: float) -> float:
    """Refill, then take one token. Returns 0 when taken, else the seconds to wait (bucket refilled
    but nothing taken). Mutates `bucket`."""
    bucket.tokens = min(burst, bucket.tokens + max(0.0, now - bucket.updated_at) * rate)
    bucket.updated_at = max(bucket.updated_at, now)
    if now < bucket.blocked_until:
        return bucket.blocked_until - now
    if bucket.tokens >= 1.0:
        bucket.tokens -= 1.0
        return 0.0
    return (1.0 - bucket.tokens) / rate


class _Waiter:
    """The blocking loop both limiters share, bounded by `max_wait`."""

    name: str
    max_wait: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]

    def _try(self) -> float:
        raise NotImplementedError

    def acquire(self) -> float:
        waited = 0.0
        while (wait := self._try()) > 0:
            if waited + wait > self.max_wait:
                raise RateLimited(
                    f"{self.name}: the shared rate limit is exhausted; retry after {wait:.0f} s",
                    vendor=self.name,
                    retry_after=wait,
                )
            announce_wait(self.name, wait, "the shared rate limit is exhausted, or the vendor asked every caller "
                          "to hold off (429 with Retry-After)", time.time())
            self.sleep(wait)
            waited += wait
        return waited


class MemoryRateLimiter(_Waiter):
    def __init__(
        self,
        name: str,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 300.0,
    ) -> None:
        self.name, self.rate, self.burst, self.max_wait = name, rate, burst, max_wait
        self.clock, self.sleep = clock, sleep
        self._bucket = Bucket(tokens=burst, updated_at=clock())
        self._lock = threading.Lock()

    def _try(self) -> float:
        with self._lock:
            return take(self._bucket, self.clock(), self.rate, self.burst)

    def hold_off(self, seconds: float) -> None:
        with self._lock:
            self._bucket.blocked_until = max(self._bucket.blocked_until, self.clock() + seconds)

    def __repr__(self) -> str:
        return f"MemoryRateLimiter(name={self.name!r}, rate={self.rate}, burst={self.burst})"


class SqliteRateLimiter(_Waiter):
    """One bucket per `name` in `rate_buckets`, shared by every process using `db_path`."""

    def __init__(
        self,
        db_path: Path | str,
        name: str,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 300.0,
    ) -> None:
        self.db_path: Target = target(db_path)
        self.name, self.rate, self.burst = name, rate, burst
        self.clock, self.sleep, self.max_wait = clock, sleep, max_wait

    def _try(self) -> float:
        with immediate(self.db_path) as conn:
            now = _now(hold_row(conn, self.name, self.burst), self.clock)
            bucket = self._load(conn, now)
            wait = take(bucket, now, self.rate, self.burst)
            self._save(conn, bucket)
        return wait

    def _load(self, conn: Connection, now: float) -> Bucket:
        row = conn.execute(
            "SELECT tokens, updated_at, blocked_until FROM rate_buckets WHERE key = ?", (self.name,)
        ).fetchone()
        return Bucket(*row) if row else Bucket(tokens=self.burst, updated_at=now)

    def _save(self, conn: Connection, bucket: Bucket) -> None:
        conn.execute(
            f"INSERT INTO rate_buckets (key, tokens, updated_at, blocked_until) VALUES (?,?,?,?) {_REPLACE}",
            (self.name, bucket.tokens, bucket.updated_at, bucket.blocked_until),
        )

    def hold_off(self, seconds: float) -> None:
        with immediate(self.db_path) as conn:
            now = _now(hold_row(conn, self.name, self.burst), self.clock)
            bucket = self._load(conn, now)
            bucket.blocked_until = max(bucket.blocked_until, now + seconds)
            self._save(conn, bucket)

    def __repr__(self) -> str:
        return f"SqliteRateLimiter(name={self.name!r}, rate={self.rate}, burst={self.burst})"


class SqliteWindowLimiter(_Waiter):
    """At most `limit` calls in any `window` seconds, shared through SQLite by every process.

    Stored in `rate_buckets` without a schema change: one row per call slot (`<name>#<n>`, the slot's
    last call time in `updated_at`) and one row `<name>` for `hold_off`. A call takes the oldest slot
    once that slot's call is `window` seconds old."""

    def __init__(
        self,
        db_path: Path | str,
        name: str,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 300.0,
    ) -> None:
        self.db_path: Target = target(db_path)
        self.name, self.limit, self.window = name, limit, window
        self.clock, self.sleep, self.max_wait = clock, sleep, max_wait

    def _try(self) -> float:
        with immediate(self.db_path) as conn:
            now = _now(hold_row(conn, self.name, 0), self.clock)  # the `<name>` row: the limiter's lock
            blocked = self._blocked_until(conn)
            if now < blocked:
                return blocked - now
            slots = self._slots(conn)
            slot, last = (
                (len(slots), -math.inf) if len(slots) < self.limit else min(slots, key=lambda s: s[1])
            )
            if last + self.window > now:
                return last + self.window - now
            conn.execute(
                f"INSERT INTO rate_buckets (key, tokens, updated_at, blocked_until) VALUES (?,0,?,0) {_REPLACE}",
                (f"{self.name}#{slot}", now),
            )
        return 0.0

    def _slots(self, conn: Connection) -> list[tuple[int, float]]:
        # '#' < '$': the key range holds exactly this limiter's slot rows.
        rows = conn.execute(
            "SELECT key, updated_at FROM rate_buckets WHERE key > ? AND key < ?",
            (f"{self.name}#", f"{self.name}$"),
        ).fetchall()
        slots = [(int(key.rsplit("#", 1)[1]), float(at)) for key, at in rows]
        return [(n, at) for n, at in slots if n < self.limit]  # a lowered limit leaves stale slots

    def _blocked_until(self, conn: Connection) -> float:
        row = conn.execute("SELECT blocked_until FROM rate_buckets WHERE key = ?", (self.name,)).fetchone()
        return float(row[0]) if row else 0.0

    def hold_off(self, seconds: float) -> None:
        with immediate(self.db_path) as conn:
            now = _now(hold_row(conn, self.name, 0), self.clock)
            until = max(self._blocked_until(conn), now + seconds)
            conn.execute(
                f"INSERT INTO rate_buckets (key, tokens, updated_at, blocked_until) VALUES (?,0,?,?) {_REPLACE}",
                (self.name, now, until),
            )

    def __repr__(self) -> str:
        return f"SqliteWindowLimiter(name={self.name!r}, limit={self.limit}, window={self.window})"
