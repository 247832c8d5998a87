"""Sync & health queries (no streamlit): webhook outcomes, client-side rate budgets, runs.

`rate_buckets` belongs to the HTTP core (services/core/store.py) and only exists once a vendor
was called; until then there is nothing to report. Two shapes live in it
(services/core/ratelimit.py): a token bucket is one row `<name>` (tokens left, `blocked_until`
after a 429); a sliding-window limiter is one row per call slot `<name>#<n>` holding the time of
that slot's last call, plus an optional `<name>` row for its hold-off.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlite_utils import Database

from store.db import iso


@dataclass(frozen=True)
class RateBudget:
    name: str
    tokens_left: float | None  # token bucket: calls that may go out at once
    calls_last_minute: int | None  # sliding window: slots used in the last 60 s
    blocked_for_s: float  # seconds still to wait after the vendor said 429 (0: not blocked)


def webhook_outcomes(db: Database, now: datetime, window: timedelta = timedelta(days=1)) -> list[dict[str, object]]:
    """Events per source and outcome (accepted, duplicate, stale, rejected) received in `window`."""
    rows = db.conn.execute(
        "SELECT source, outcome, count(*), sum(deliveries) FROM webhook_events WHERE received_at >= ? "
        "GROUP BY source, outcome ORDER BY source, outcome", [iso(now - window)]).fetchall()
    return [{"source": s, "outcome": o, "events": n, "deliveries": d} for s, o, n, d in rows]


def rate_budgets(db: Database, now: datetime) -> list[RateBudget]:
    if "rate_buckets" not in db.table_names():
        return []
    moment = now.timestamp()
    rows = db.conn.execute("SELECT key, tokens, updated_at, blocked_until FROM rate_buckets ORDER BY key")
    budgets: dict[str, RateBudget] = {}
    for key, tokens, updated_at, blocked_until in rows:
        name, slot, _ = key.partition("#")
        old = budgets.get(name, RateBudget(name, None, None, 0.0))
        if slot:
            recent = int(moment - float(updated_at) < 60)
            budgets[name] = RateBudget(name, old.tokens_left, (old.calls_last_minute or 0) + recent,
                                       old.blocked_for_s)
        else:
            budgets[name] = RateBudget(name, tokens, old.calls_last_minute,
                                       max(0.0, float(blocked_until) - moment))
    # A window limiter's `<name>` row only carries its hold-off; its tokens mean nothing.
    return [replace(b, tokens_left=None) if b.calls_last_minute is not None else b for b in budgets.values()]
