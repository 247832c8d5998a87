"""One Starlette app serving the four pull vendors under their prefixes, plus the admin routes.

    /qargo/v1/...  /quaderno/api/...  /qasida/api/...  /cargobase/api/1/...
    /_admin/health                 GET   liveness and the seed/scale served
    /_admin/faults[/{vendor}]      GET / PUT (JSON of sandbox.faults.Faults) / DELETE
    /_admin/stats[/{vendor}]       GET; POST /_admin/stats/reset
    /_admin/tick                   POST  run every vendor's tick once (advance statuses, emit events)
    /_admin/clock                  POST {"advance_seconds": n}  move business time forward
    /_admin/run                    POST {"seconds": n, "pace": 5}  live n business seconds: the clock moves
                                   `pace` seconds, then every vendor ticks, until n have passed (sandbox/living.py)
    /_admin/webhooks               PUT {"qargo": {url,user,password}, "upwell": {...}}
    /_admin/pause                  POST {"paused": true|false}  hold the timed ticks (--tick-seconds): the world
                                   stands still while a test compares it with the dashboard; /_admin/run still runs
    /_admin/<vendor>/...           vendor-specific admin routes (e.g. Upwell emission)
Upwell has no pull API: it only pushes `onCarrierInvoiceEvent` envelopes to a webhook URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from sandbox.context import (
    VENDOR_PREFIXES,
    Clock,
    SandboxConfig,
    SandboxContext,
    VendorApp,
    WebhookTarget,
)
from sandbox.faults import FaultMiddleware, Faults, FaultSwitch, Stats
from sandbox.living import PACE_SECONDS, SAVE_EVERY, Muted, load_state, save_state
from sandbox.world import World

log = logging.getLogger("opsdash.sandbox")

ALL_VENDORS = ("qargo", "quaderno", "qasida", "cargobase", "upwell")


def create_app(config: SandboxConfig | None = None) -> Starlette:
    config = config or SandboxConfig()
    saved = load_state(config)
    if saved:  # a resumed world: its own seed, scale and anchor, whatever the command line says
        config.seed, config.scale, config.factor = saved["seed"], saved["scale"], saved["factor"]  # type: ignore[assignment]
    world = World(seed=config.seed, scale=config.scale, factor=config.factor)
    if saved:
        world.anchor = saved["anchor"]
    ctx = SandboxContext(
        config=config,
        world=world,
        clock=Clock(),
        switches={v: FaultSwitch(config.faults.get(v), seed=config.seed) for v in ALL_VENDORS},
        stats={v: Stats() for v in ALL_VENDORS},
    )
    vendors = {v: importlib.import_module(f"sandbox.{v}").build(ctx) for v in ALL_VENDORS}
    routes: list[Any] = [*_admin_routes(ctx, vendors)]
    for name, vendor in vendors.items():
        if vendor.admin_routes:
            routes.append(Mount(f"/_admin/{name}", routes=vendor.admin_routes))
        if name in VENDOR_PREFIXES:
            inner = Starlette(routes=vendor.routes)
            routes.append(Mount(VENDOR_PREFIXES[name], app=FaultMiddleware(inner, ctx.switch(name), ctx.stats[name])))
    app = Starlette(routes=routes, lifespan=_lifespan(ctx, vendors, saved["ticks"] if saved else 0))
    app.state.ctx, app.state.vendors = ctx, vendors
    return app


def _lifespan(ctx: SandboxContext, vendors: dict[str, VendorApp], replay: int) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if replay:
            log.warning("sandbox: resuming the saved world (%d ticks to replay)", replay)
            with Muted(ctx.config):
                for _ in range(replay):
                    await _tick_all(ctx, vendors)
        save_state(ctx)  # a new world's anchor is kept from its first second
        task = asyncio.create_task(_ticker(ctx, vendors)) if ctx.config.tick_seconds > 0 else None
        yield
        save_state(ctx)
        if task:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan


async def _ticker(ctx: SandboxContext, vendors: dict[str, VendorApp]) -> None:
    while True:
        await asyncio.sleep(ctx.config.tick_seconds)
        if not ctx.paused:
            await _tick_all(ctx, vendors)


async def _tick_all(ctx: SandboxContext, vendors: dict[str, VendorApp]) -> None:
    ctx.ticks += 1
    if ctx.ticks % SAVE_EVERY == 0:
        save_state(ctx)
    for name, vendor in vendors.items():
        if vendor.tick is None:
            continue
        try:
            await vendor.tick()
        except Exception:  # a broken tick must not stop the others or the server
            log.exception("sandbox tick failed for %s", name)


def _admin_routes(ctx: SandboxContext, vendors: dict[str, VendorApp]) -> list[Route]:
    return [*_fault_routes(ctx), *_control_routes(ctx, vendors)]


def _fault_routes(ctx: SandboxContext) -> list[Route]:
    async def faults(request: Request) -> Response:
        vendor = request.path_params.get("vendor")
        if vendor is not None and vendor not in ctx.switches:
            return JSONResponse({"error": f"unknown vendor {vendor!r}"}, status_code=404)
        if request.method == "PUT" and vendor is not None:
            try:
                ctx.switches[vendor].set(Faults.parse(await request.json()))
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        elif request.method == "DELETE":
            for name in [vendor] if vendor else list(ctx.switches):
                ctx.switches[name].set(Faults())
        if vendor:
            return JSONResponse(ctx.switches[vendor].as_dict())
        return JSONResponse({name: s.as_dict() for name, s in ctx.switches.items()})

    async def stats(request: Request) -> Response:
        vendor = request.path_params.get("vendor")
        if vendor:
            return JSONResponse(ctx.stats[vendor].as_dict())
        return JSONResponse({name: s.as_dict() for name, s in ctx.stats.items()})

    async def stats_reset(request: Request) -> Response:
        for s in ctx.stats.values():
            s.reset()
        return JSONResponse({"ok": True})

    return [
        Route("/_admin/faults", faults, methods=["GET", "DELETE"]),
        Route("/_admin/faults/{vendor}", faults, methods=["GET", "PUT", "DELETE"]),
        Route("/_admin/stats", stats),
        Route("/_admin/stats/reset", stats_reset, methods=["POST"]),
        Route("/_admin/stats/{vendor}", stats),
    ]


def _control_routes(ctx: SandboxContext, vendors: dict[str, VendorApp]) -> list[Route]:
    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "seed": ctx.config.seed, "scale": ctx.config.scale, "factor": ctx.config.factor,
                             "now": ctx.clock.now().isoformat()})

    async def tick(request: Request) -> Response:
        count = int(request.query_params.get("count", "1"))
        for _ in range(max(1, min(count, 1000))):
            await _tick_all(ctx, vendors)
        return JSONResponse({"ok": True, "now": ctx.clock.now().isoformat()})

    async def run(request: Request) -> Response:
        body = await request.json()
        seconds, pace = float(body.get("seconds", 0)), float(body.get("pace", PACE_SECONDS))
        if pace <= 0 or not 0 <= seconds / pace <= 100_000:
            return JSONResponse({"error": "seconds/pace must be between 0 and 100000 ticks"}, status_code=400)
        for _ in range(int(seconds // pace)):
            ctx.clock.advance(pace)
            await _tick_all(ctx, vendors)
        return JSONResponse({"now": ctx.clock.now().isoformat(), "ticks": ctx.ticks})

    async def clock(request: Request) -> Response:
        body = await request.json()
        ctx.clock.advance(float(body.get("advance_seconds", 0)))
        return JSONResponse({"now": ctx.clock.now().isoformat()})

    async def webhooks(request: Request) -> Response:
        body = await request.json()
        for vendor in ("qargo", "upwell"):
            if vendor in body:
                setattr(ctx.config, f"{vendor}_webhook", WebhookTarget(**body[vendor]))
        return JSONResponse({"qargo": ctx.config.qargo_webhook.url, "upwell": ctx.config.upwell_webhook.url})

    async def pause(request: Request) -> Response:
        body = await request.json() if await request.body() else {}
        ctx.paused = bool(body.get("paused", True)) if isinstance(body, dict) else True
        return JSONResponse({"paused": ctx.paused, "ticks": ctx.ticks})

    return [
        Route("/_admin/health", health),
        Route("/_admin/pause", pause, methods=["POST"]),
        Route("/_admin/tick", tick, methods=["POST"]),
        Route("/_admin/clock", clock, methods=["POST"]),
        Route("/_admin/run", run, methods=["POST"]),
        Route("/_admin/webhooks", webhooks, methods=["PUT"]),
    ]
