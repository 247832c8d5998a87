"""Builds `onCarrierInvoiceEvent` envelopes (seeds/002 lines 4-93) and POSTs them to the webhook.

Besides ordinary INSERT/UPDATE/DELETE events it injects, on request, what a receiver must survive:
- "retry": the same event re-sent with a new id and `retryOfId` = the original id;
- "duplicate": the very same envelope (same id) delivered twice;
- "out_of_order": two UPDATEs of one invoice, the newer delivered before the older.
A delivery the receiver did not acknowledge with 2xx is retried (new id, `retryOfId`) on the next emission.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.context import SandboxContext
from sandbox.upwell.invoices import CarrierInvoices

INJECTIONS = ("retry", "duplicate", "out_of_order")
SUBSCRIPTION_ID = "whs_opsdash"
_MAX_ATTEMPTS = 3
_LOG_SIZE = 5_000


@dataclass
class Delivery:
    kind: str  # event | retry | duplicate | out_of_order | redelivery
    event: dict[str, Any]
    status: int | None  # the receiver's status; None when unreachable or no webhook configured
    sent_at: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "status": self.status, "sentAt": self.sent_at, "id": self.event["id"],
                "operation": self.event["operation"], "resourceId": self.event["resourceId"],
                "retryOfId": self.event["retryOfId"], "event": self.event}


def event_time(dt: datetime) -> str:
    """Envelope times have no zone: '2024-11-17T18:23:03.945732' (seeds/002 line 6); UTC here."""
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


class Emitter:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.invoices = CarrierInvoices(ctx.world)
        self.invoices.living = ctx.config.living
        self.rng = ctx.world.rng("upwell", "events")
        self.seq = 0
        self.sent: deque[Delivery] = deque(maxlen=_LOG_SIZE)
        self.total_sent = 0
        self.unacknowledged: list[tuple[dict[str, Any], int]] = []  # (event, attempts)
        self._lock = asyncio.Lock()

    async def emit(self, count: int, inject: tuple[str, ...] = (), rng: random.Random | None = None) -> list[Delivery]:
        """Redeliver unacknowledged events, send `count` new ones, then the requested injections. With `rng`
        (a tick's own stream), what happens after the redeliveries depends on the world alone, not on how the
        receiver answered: a resumed world replays the same invoices (sandbox/living.py)."""
        async with self._lock:  # a batch (and an out-of-order pair) is never interleaved with another
            out = await self._redeliver()
            if rng is not None:
                self.rng = rng
            for _ in range(count):
                event = self._next_event()
                if event is not None:
                    out.append(await self._send(event, "event"))
            for kind in inject:
                out.extend(await self._inject(kind, out))
            return out

    # -- building events -------------------------------------------------------------------------
    def _envelope(self, operation: str, new: dict[str, Any] | None, old: dict[str, Any] | None,
                  when: datetime | None = None) -> dict[str, Any]:
        self.seq += 1
        now = event_time(when or self.ctx.clock.now())
        row = new or old or {}
        if new is not None and self.seq % 4 == 0:
            new["total_tax_amount"] = str(new["total_tax_amount"])  # sometimes a string (seeds/002 line 69)
        if old is not None:
            old["total_tax_amount"] = str(old["total_tax_amount"])
        return {
            "id": f"whe_{self.ctx.world.seed:02d}{self.seq:08d}{self.rng.getrandbits(32):08x}",
            "createdAt": now, "updatedAt": now, "scheduledAt": None, "processedAt": None, "status": "PENDING",
            "operation": operation, "payload": {"new": new, "old": old}, "table": "carrier_invoices",
            "webhookSubscriptionId": SUBSCRIPTION_ID, "resourceId": row.get("id"), "retryOfId": None, "retries": [],
        }

    def _next_event(self) -> dict[str, Any] | None:
        """The next change: mostly new invoices until the scale's count is reached, then updates,
        and now and then a DELETE or a soft delete; None once nothing is left to change."""
        rng, now, invoices = self.rng, self.ctx.clock.now(), self.invoices
        if invoices.can_create() and (not invoices.live or rng.random() < 0.6):
            return self._envelope("INSERT", invoices.create(rng, now), None)
        target = invoices.pick(rng, changeable=True) or invoices.pick(rng)
        if target is None:
            return None
        draw = rng.random()
        if draw < 0.05:  # a DELETE carries the row as it was (`old`), same updated_at as last sent
            return self._envelope("DELETE", None, invoices.delete(target))
        if draw < 0.08:  # a soft delete: an UPDATE whose row has `deleted_at` set
            old, new = invoices.soft_delete(target, now)
            return self._envelope("UPDATE", new, old)
        old, new = invoices.update(rng, target, now)  # a settled invoice is restated (updated_at moves)
        return self._envelope("UPDATE", new, old)

    def _retry_of(self, event: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        retry = copy.deepcopy(event)
        retry["id"] = f"whe_{self.ctx.world.seed:02d}{self.seq:08d}{self.rng.getrandbits(32):08x}"
        retry["retryOfId"] = event["retryOfId"] or event["id"]  # always the original event
        retry["updatedAt"] = event_time(self.ctx.clock.now())
        return retry

    # -- injections ------------------------------------------------------------------------------
    async def _inject(self, kind: str, batch: list[Delivery]) -> list[Delivery]:
        if kind == "out_of_order":
            return await self._out_of_order()
        recent = next((d.event for d in reversed(batch) if d.kind == "event"), None)
        fresh = self._next_event() if recent is None else None
        if fresh is not None:
            recent = (await self._send(fresh, "event")).event
        if recent is None:
            return []
        if kind == "retry":
            return [await self._send(self._retry_of(recent), "retry")]
        return [await self._send(copy.deepcopy(recent), "duplicate")]

    async def _out_of_order(self) -> list[Delivery]:
        now, rng = self.ctx.clock.now(), self.rng
        out = []
        target = self.invoices.pick(rng, changeable=True) or self.invoices.pick(rng)
        if target is None:
            if not self.invoices.can_create():
                return []
            first = await self._send(self._envelope("INSERT", self.invoices.create(rng, now), None), "event")
            out.append(first)
            target = first.event["resourceId"]
        old, new = self.invoices.update(rng, target, now)
        older = self._envelope("UPDATE", new, old, when=now)
        later = now + timedelta(milliseconds=5)
        old, new = self.invoices.update(rng, target, later)
        newer = self._envelope("UPDATE", new, old, when=later)
        out.append(await self._send(newer, "out_of_order"))
        out.append(await self._send(older, "out_of_order"))
        return out

    # -- delivery --------------------------------------------------------------------------------
    async def _send(self, event: dict[str, Any], kind: str, attempts: int = 1) -> Delivery:
        target = self.ctx.config.upwell_webhook
        status = await self.ctx.post_webhook(target, event)
        delivery = Delivery(kind, event, status, self.ctx.clock.now().isoformat())
        self.sent.append(delivery)
        self.total_sent += 1
        acknowledged = status is not None and 200 <= status < 300
        if target.url and not acknowledged and attempts < _MAX_ATTEMPTS:
            self.unacknowledged.append((event, attempts))
        return delivery

    async def _redeliver(self) -> list[Delivery]:
        pending, self.unacknowledged = self.unacknowledged, []
        return [await self._send(self._retry_of(event), "redelivery", attempts + 1) for event, attempts in pending]

    def history(self, limit: int) -> list[dict[str, Any]]:
        return [d.as_dict() for d in list(self.sent)[-limit:]]


def tick_injection(tick: int) -> str:
    """The anomaly injected by tick n: retry, duplicate, out-of-order, retry, ..."""
    return INJECTIONS[(tick - 1) % len(INJECTIONS)]
