"""One rule for re-reading what a vendor can change without telling us (Quaderno's open invoices, Qasida's
per-customer open items): how many units one run re-reads, oldest-checked first.

Each unit (an open invoice, a customer's open list) must be read again within `check_within`. A run every
`run_every` takes its share of the units, `spread` times per `check_within` (so a late run still keeps the
bound), or every unit that would pass the bound before the next run if more, never more than `cap` units.
Units read less than `min_age` ago are not re-read: a run right after a full read costs nothing (the caller
applies that cutoff, `fresh_cutoff`, when it picks units).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from store.db import iso


@dataclass(frozen=True)
class Recheck:
    run_every: timedelta
    check_within: timedelta
    spread: float
    min_age: timedelta
    cap: int  # units per run, at most
    floor: int = 1  # units per run, at least (a listing page: it costs the same)

    def share(self, count: int) -> int:
        """Units one run takes so that `count` units are each read `spread` times per `check_within`."""
        return math.ceil(count * self.spread * (self.run_every / self.check_within))

    def per_run(self, count: int, overdue: int = 0) -> int:
        """Its share, or every unit due to pass the bound before the next run (`overdue`) if more; at least
        `floor`, at most `cap`."""
        return max(self.floor, min(max(overdue, self.share(count)), self.cap))

    def overdue(self, checked: Iterable[str | None], now: datetime) -> int:
        """Units that would be older than `check_within` at the next run if this one skipped them (a unit
        never checked is overdue)."""
        limit = iso(now - (self.check_within - self.run_every))
        return sum(1 for c in checked if c is None or c <= limit)

    def fresh_cutoff(self, now: datetime) -> str:
        """Units checked after this are not re-read."""
        return iso(now - self.min_age)
