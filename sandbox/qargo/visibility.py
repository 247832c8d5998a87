"""Operational visibility events (seeds/000 line 322-337, spec: OperationalVisibilityUpdate) and the
passage of time that produces them.

Each status change becomes one webhook POST whose `events[0].update.id` is a fresh UUID: receivers
de-duplicate on it (a failed delivery is retried on the next tick with the same id).
"""

from __future__ import annotations

import uuid
from collections import deque
from typing import Any

from sandbox.context import SandboxContext
from sandbox.qargo.common import iso, stable_uuid
from sandbox.qargo.orders import TERMINAL, Order, OrderBook
from sandbox.qargo.render import stop_status

OUTBOX_LIMIT = 10_000  # undeliverable events beyond this are dropped, oldest first


class Visibility:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.outbox: deque[dict[str, Any]] = deque(maxlen=OUTBOX_LIMIT)
        self.delivered = 0

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
            self.outbox.popleft()
            self.delivered += 1

    def _snapshot(self, order: Order) -> dict[str, Any]:
        seed = self.ctx.config.seed
        stops = [self._stop(order, s) for c in order.consignments for s in (c.pickup, c.delivery)]
        return {"id": order.id, "order_name": order.identifier, "customer_reference_number": order.reference,
                "customer": {"id": stable_uuid(seed, "customer", order.customer.id), "name": order.customer.name},
                "status": order.status, "stops": stops}

    @staticmethod
    def _stop(order: Order, stop: Any) -> dict[str, Any]:
        loc = stop.location
        location = {"name": str(loc.get("name") or loc.get("city") or "?"), "address": loc.get("address"),
                    "city": loc.get("city"), "postal_code": loc.get("postal_code"),
                    "country_code": loc.get("country")}
        return {"id": stop.id, "location": location, "status": stop_status(order, stop),
                "stop_type": stop.kind, "stop_reference": stop.reference}


class Progress:
    """Moves orders along their lifecycle, one step per tick: every live uploaded order, and a few
    pre-existing ones chosen by a seeded stream (so two sandboxes with one seed move alike)."""

    def __init__(self, ctx: SandboxContext, book: OrderBook, visibility: Visibility) -> None:
        self.ctx, self.book, self.visibility = ctx, book, visibility
        self.ticks = 0

    def step(self) -> None:
        self.ticks += 1
        rng = self.ctx.world.rng("qargo", "tick", self.ticks)
        for order_id in self.book.uploaded:
            self._advance(self.book.orders[order_id], cancel=False)
        wanted, moved = max(1, self.book.count // 20), 0
        for _ in range(wanted * 4):  # bounded: terminal picks are skipped
            if moved >= wanted or self.book.count == 0:
                break
            order = self.book.preexisting(rng.randint(1, self.book.count))
            if order.status not in TERMINAL:
                self._advance(order, cancel=rng.random() < 0.1)
                moved += 1

    def _advance(self, order: Order, cancel: bool) -> None:
        nxt = "CANCELLED" if cancel and order.status == "TO_PLAN" else order.next_status()
        if nxt is None:
            return
        order.status = nxt
        self.visibility.order_status(order, nxt)
