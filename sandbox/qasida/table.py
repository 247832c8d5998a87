"""A lazily generated table: records are computed from their index on demand, and the few records
that `tick` changed live in a small overlay. 500k stock cards therefore cost no memory and no start-up
time; only selections that filter (by `since`, a status...) scan indexes, once per distinct query and
overlay version (small LRU cache).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

_M64 = (1 << 64) - 1
_CACHE_SIZE = 16

Predicate = Callable[[int], bool]


def mix(*parts: int) -> int:
    """A cheap deterministic 64-bit hash (splitmix64 rounds): per-record randomness without a Random object."""
    h = 0x9E3779B97F4A7C15
    for part in parts:
        h = ((h ^ (part & _M64)) * 0xBF58476D1CE4E5B9) & _M64
        h = ((h ^ (h >> 31)) * 0x94D049BB133111EB) & _M64
        h ^= h >> 29
    return h


@dataclass
class Table:
    """Indexes 1..n; `base_age(i)` = seconds before `anchor` the record last changed in the seeded world."""

    n: int
    anchor: datetime
    base_age: Callable[[int], int]
    overlay: dict[int, dict[str, Any]] = field(default_factory=dict)
    version: int = 0
    _cache: OrderedDict[Hashable, list[int]] = field(default_factory=OrderedDict)

    def changed(self, i: int) -> datetime:
        over = self.overlay.get(i)
        return over["changed"] if over else self.anchor - timedelta(seconds=self.base_age(i))

    def touch(self, i: int, now: datetime, **fields: Any) -> None:
        """Record a change to index i made at `now` (its lastChange moves to `now`)."""
        self.overlay.setdefault(i, {}).update(fields, changed=now)
        self.version += 1

    def select(self, key: Hashable, since: datetime | None = None, pred: Predicate | None = None,
               domain: range | None = None) -> Sequence[int]:
        """The indexes in `domain` changed at or after `since` and matching `pred`, ascending."""
        domain = domain if domain is not None else range(1, self.n + 1)
        if since is None and pred is None:
            return domain
        if since is not None and since > self.anchor:
            # The seeded world changed nothing after the anchor: only the overlay can match.
            hits = sorted(i for i, o in self.overlay.items() if o["changed"] >= since and i in domain)
            return [i for i in hits if pred is None or pred(i)]
        return self._cached((key, since, domain, self.version), lambda: self._scan(since, pred, domain))

    def _scan(self, since: datetime | None, pred: Predicate | None, ids: Iterable[int]) -> list[int]:
        # Compare ages in seconds, not datetimes: this loop runs over up to 500k stock cards.
        limit = None if since is None else (self.anchor - since).total_seconds()
        overlay, base_age, out = self.overlay, self.base_age, []
        for i in ids:
            if since is not None and limit is not None:
                over = overlay.get(i)
                if (over["changed"] < since) if over else base_age(i) > limit:
                    continue
            if pred is None or pred(i):
                out.append(i)
        return out

    def filter(self, ids: list[int], since: datetime | None, pred: Predicate | None) -> list[int]:
        """`select` over an explicit (small) list of indexes."""
        return self._scan(since, pred, ids)

    def _cached(self, key: Hashable, compute: Callable[[], list[int]]) -> list[int]:
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        value = self._cache[key] = compute()
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return value
