"""Operational visibility events (seeds/000 line 322-337, spec: OperationalVisibilityUpdate) and the
passage of time that produces them.

Each status change becomes one webhook POST whose `events[0].update.id` is a fresh UUID: receivers
de-duplicate on it (a failed delivery is retried on the next tick with the same id).
"""

from __future__ import annotations

import random
import uuid
import zlib
from collections import deque
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sandbox.context import SandboxContext
from sandbox.qargo.common import iso, stable_uuid
from sandbox.qargo.orders import TERMINAL, Order, OrderBook
from sandbox.qargo.render import stop_status

ON_THE_ROAD = frozenset({"TO_PLAN", "PLANNED", "DEPARTED", "IN_TRANSIT"})
OUTBOX_LIMIT = 10_000  # undeliverable events beyond this are dropped, oldest first


class Visibility:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.outbox: deque[dict[str, Any]] = deque(maxlen=OUTBOX_LIMIT)
        self.delivered = 0
        self.sent: deque[dict[str, Any]] = deque(maxlen=OUTBOX_LIMIT)  # delivered bodies (/_admin/qargo/visibility)

    def order_status(self, order: Order, status: str) -> None:
        """Queue an OrderUpdate event; `order` is the order's state after the change."""
        update = {"id": str(uuid.uuid4()), "type": "Order", "update_type": "STATUS", "status": status}
        event = {"timestamp": iso(self.ctx.clock.now()), "update": update}
        self.outbox.append({"events": [event], "order": self._snapshot(order)})

    async def flush(self) -> None:
        """POST queued events in order; stop at the first failure and keep the rest for the next tick."""
        target = self.ctx.config.qargo_webhook
        if not target.url:  # nobody subscribed: the vendor would not keep them either
            self.outbox.clear()
            return
        while self.outbox:
            status = await self.ctx.post_webhook(target, self.outbox[0])
            if status is None or status >= 500 or status == 429:
                return
            self.sent.append(self.outbox.popleft())
            self.delivered += 1

    def _snapshot(self, order: Order) -> dict[str, Any]:
        seed = self.ctx.config.seed
        stops = [self._stop(order, s) for c in order.consignments for s in (c.pickup, c.delivery)]
        return {"id": order.id, "order_name": order.identifier, "customer_reference_number": _reference(order),
                "customer": {"id": stable_uuid(seed, "customer", order.customer.id), "name": order.customer.name},
                "status": order.status, "stops": stops}

    @staticmethod
    def _stop(order: Order, stop: Any) -> dict[str, Any]:
        loc = stop.location
        location = {"name": str(loc.get("name") or loc.get("city") or "?"), "address": loc.get("address"),
                    "city": loc.get("city"), "postal_code": loc.get("postal_code"),
                    "country_code": loc.get("country")}
        status = stop_status(order, stop)
        return {"id": stop.id, "location": location, "status": status,
                "stop_type": stop.kind, "stop_reference": stop.reference, **_times(order, stop, status)}


def _reference(order: Order) -> str | None:
    """`customer_reference_number` is nullable (OpenAPI VisibilityOrder): one delivery in four (by order and
    status, so replays agree) carries null, as installations that do not echo the reference do."""
    return None if zlib.crc32(f"{order.id}:{order.status}".encode()) % 4 == 0 else order.reference


def _times(order: Order, stop: Any, status: str) -> dict[str, str | None]:
    """ETA (eta_start_time, arrival; eta_end_time, departure) until the stop is completed, then the actual
    times. A delivery's ETA is its planned day plus the order's slip, at its ETA hour:30 UTC."""
    if stop.day is None or status == "CANCELLED":
        return {}
    slip = order.eta_slip if stop.kind == "DELIVERY" else 0
    start = datetime.combine(stop.day + timedelta(days=slip), time(order.eta_hour, 30), tzinfo=UTC)
    stamps = {"start": iso(start), "end": iso(start + timedelta(minutes=30))}
    if status == "COMPLETED":
        return {"actual_start_timestamp": stamps["start"], "actual_end_timestamp": stamps["end"]}
    return {"eta_start_time": stamps["start"], "eta_end_time": stamps["end"]}


class Progress:
    """Moves orders along their lifecycle, one step per tick: every live uploaded order, and a few
    pre-existing ones chosen by a seeded stream (so two sandboxes with one seed move alike)."""

    def __init__(self, ctx: SandboxContext, book: OrderBook, visibility: Visibility) -> None:
        self.ctx, self.book, self.visibility = ctx, book, visibility
        self.ticks = 0
        self._live: list[int] | None = None  # indexes not yet ended, as of the last step (a living world grows)

    def step(self) -> None:
        self.ticks += 1
        rng = self.ctx.world.rng("qargo", "tick", self.ticks)
        for order_id in self.book.uploaded:
            self._advance(self.book.orders[order_id], cancel=False)
        # Among the orders still moving (a pick of a finished one would be wasted, and the dashboard, which learns
        # of orders from these events, would seldom hear of one still on the road: issue 18's shapes).
        # Half the picks from the orders still on the road (before COMPLETED), half from any unfinished one.
        known = self._live if self._live is not None else range(1, self.book.total + 1)
        live = self._live = [i for i in known if self.book.preexisting(i).status not in TERMINAL]
        road = [i for i in live if self.book.preexisting(i).status in ON_THE_ROAD]
        wanted = max(1, self.book.count // 20)
        picks = rng.sample(road, min(len(road), (wanted + 1) // 2))
        rest = [i for i in live if i not in picks]
        ended = 0
        for i in picks + rng.sample(rest, min(len(rest), wanted - len(picks))):
            order = self.book.preexisting(i)
            self._advance(order, cancel=rng.random() < 0.1)
            ended += order.status in TERMINAL
        if self.ctx.config.living:
            self._arrivals(rng, ended)

    def _arrivals(self, rng: random.Random, count: int) -> None:
        """As many new orders as ended (a steady state). One in three is keyed in 1-6 days after its ERP order,
        so its planned days may already be past: the late and expected-late figures stay alive."""
        now = self.ctx.clock.now()
        for _ in range(count):
            backdated = rng.random() < 1 / 3
            ordered = now - timedelta(days=rng.uniform(1, 6)) if backdated else now
            order = self.book.arrive(ordered, now)
            if self._live is not None:
                self._live.append(self.book.total)
            self.visibility.order_status(order, order.status)

    def _advance(self, order: Order, cancel: bool) -> None:
        nxt = "CANCELLED" if cancel and order.status == "TO_PLAN" else order.next_status()
        if nxt is None:
            return
        if order.eta_slip and nxt in ("DEPARTED", "IN_TRANSIT"):
            order.eta_slip += 1  # an ETA that keeps slipping past the plan (issue 18 point 1)
        order.status = nxt
        self.visibility.order_status(order, nxt)
