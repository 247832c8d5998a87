"""Upwell simulator: no pull API (`routes=[]`), only the `onCarrierInvoiceEvent` webhook (seeds/002),
POSTed with Basic auth to `SandboxConfig.upwell_webhook`.

Each tick sends a few events (new carrier invoices up to the scale's `upwell_invoices`, status and
payment updates, now and then a DELETE) plus one injected anomaly in turn: a retry (`retryOfId`), an
exact duplicate, an out-of-order pair. Admin routes, mounted at /_admin/upwell/:
    POST /_admin/upwell/emit    {"count": n, "inject": ["retry", "duplicate", "out_of_order"]}
                                 -> {"events": [...]}: what was sent now, with the receiver's statuses
    GET  /_admin/upwell/events  [?limit=n] -> {"count": total sent, "events": [...latest n]}
    GET  /_admin/upwell/invoices -> {"invoices": [...]}: every carrier invoice Upwell still holds, as its rows
                                 (deleted ones are gone; settled ones may be forgotten), so a test can compute the
                                 figures from the vendor's own rows
Each listed delivery is {kind, status, sentAt, id, operation, resourceId, retryOfId, event}.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.context import SandboxContext, VendorApp
from sandbox.upwell.emitter import INJECTIONS, Emitter, tick_injection

EVENTS_PER_TICK = 3
MAX_EMIT = 1_000


def build(ctx: SandboxContext) -> VendorApp:
    emitter = Emitter(ctx)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        ticks += 1
        rng = ctx.world.rng("upwell", "tick", ticks) if ctx.config.living else None
        await emitter.emit(EVENTS_PER_TICK, (tick_injection(ticks),), rng=rng)

    return VendorApp(routes=[], tick=tick, admin_routes=_admin_routes(emitter))


def _admin_routes(emitter: Emitter) -> list[BaseRoute]:
    async def emit(request: Request) -> Response:
        body = await request.json() if await request.body() else {}
        if not isinstance(body, dict) or not isinstance(body.get("inject", []), list):
            return JSONResponse({"error": 'expected {"count": n, "inject": [...]}'}, status_code=400)
        count, inject = body.get("count", 1), tuple(body.get("inject", ()))
        if not isinstance(count, int) or not 0 <= count <= MAX_EMIT:
            return JSONResponse({"error": f"count must be an integer 0..{MAX_EMIT}"}, status_code=400)
        unknown = set(inject) - set(INJECTIONS)
        if unknown:
            return JSONResponse({"error": f"unknown injection(s) {sorted(unknown)}; known: {list(INJECTIONS)}"},
                                status_code=400)
        deliveries = await emitter.emit(count, inject)
        return JSONResponse({"events": [d.as_dict() for d in deliveries]})

    async def events(request: Request) -> Response:
        raw = request.query_params.get("limit", "1000")
        limit = int(raw) if raw.isdigit() else 1000
        return JSONResponse({"count": emitter.total_sent, "events": emitter.history(max(0, limit))})

    async def invoices(request: Request) -> Response:
        return JSONResponse({"invoices": list(emitter.invoices.live.values())})

    return [Route("/emit", emit, methods=["POST"]), Route("/events", events, methods=["GET"]),
            Route("/invoices", invoices, methods=["GET"])]
