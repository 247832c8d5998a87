"""What every vendor simulator is built from: config, the shared world, a business clock,
its fault switch and stats, and a webhook sender.

A vendor module exposes `build(ctx: SandboxContext) -> VendorApp`: its routes (mounted under the
vendor's prefix) and an optional `tick` run on a schedule (and on demand through `POST /_admin/tick`)
that advances the vendor's state: order statuses, upload processing, webhook emission.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.routing import BaseRoute

from sandbox.faults import Faults, FaultSwitch, Stats
from sandbox.world import Scale, World

log = logging.getLogger("opsdash.sandbox")

VENDOR_PREFIXES = {"qargo": "/qargo", "quaderno": "/quaderno", "qasida": "/qasida", "cargobase": "/cargobase"}


@dataclass
class Limits:
    """The vendors' documented limits (seeds), overridable for tests of other behaviour."""

    qargo_rate: float = 2.0  # seeds/000 line 142: 2 requests/s sustained
    qargo_burst: int = 3  # seeds/000 line 142: bursts up to 3
    qargo_tokens_per_hour: int = 5
    quaderno_calls: int = 100  # seeds/001: 100 calls per 15 s
    quaderno_window: float = 15.0

    @classmethod
    def relaxed(cls) -> Limits:
        return cls(qargo_rate=10_000, qargo_burst=10_000, qargo_tokens_per_hour=10_000, quaderno_calls=1_000_000)


@dataclass
class Credentials:
    """The sandbox's own credentials; `opsdash sandbox --print-env` prints them for clients."""

    qargo_client_id: str = "opsdash-sandbox"
    qargo_client_secret: str = "sandbox-qargo-secret"
    quaderno_api_key: str = "sk_sandbox_quaderno"
    quaderno_api_version: str = "20220325"
    qasida_token: str = "sandbox-qasida-jwt"
    qasida_mandant_id: str = "1"
    cargobase_token: str = "sandbox-cargobase-token"


@dataclass
class WebhookTarget:
    """Where the sandbox pushes events (Qargo visibility events, Upwell carrier invoice events)."""

    url: str | None = None
    user: str | None = None
    password: str | None = None


@dataclass
class SandboxConfig:
    seed: int = 1
    scale: Scale = "small"
    factor: float = 1.0  # multiplies the scale's record counts (sandbox/world.py, `World.sizes`)
    host: str = "127.0.0.1"
    port: int = 8765
    limits: Limits = field(default_factory=Limits)
    credentials: Credentials = field(default_factory=Credentials)
    qargo_webhook: WebhookTarget = field(default_factory=WebhookTarget)
    upwell_webhook: WebhookTarget = field(default_factory=WebhookTarget)
    tick_seconds: float = 0.0  # 0: the world only moves through POST /_admin/tick
    # A living world (the demo): orders, invoices and stock arrive as fast as they settle (sandbox/living.py).
    # Off by default, so a test that counts what a tick changed sees only the changes it asked for.
    living: bool = False
    state_path: str | None = None  # where the world's seed, anchor and tick count are kept (resume on restart)
    faults: dict[str, Faults] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


class Clock:
    """Business time: real UTC now plus an offset that `POST /_admin/clock` can advance."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class SandboxContext:
    config: SandboxConfig
    world: World
    clock: Clock
    switches: dict[str, FaultSwitch]
    stats: dict[str, Stats]
    ticks: int = 0  # world ticks run so far (replayed on a resumed start: sandbox/living.py)
    paused: bool = False  # the timed ticker skips its ticks (POST /_admin/pause); explicit ticks and runs still go

    _http: httpx.AsyncClient | None = None

    def _webhook_client(self) -> httpx.AsyncClient:
        """One pooled client for all deliveries (a new client per event costs ~45 ms)."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10)
        return self._http

    def switch(self, vendor: str) -> FaultSwitch:
        return self.switches[vendor]

    async def post_webhook(self, target: WebhookTarget, payload: dict[str, Any]) -> int | None:
        """POST one event; returns the receiver's status, or None if it could not be reached."""
        if not target.url:
            return None
        headers = {}
        if target.user is not None:
            raw = f"{target.user}:{target.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        try:
            response = await self._webhook_client().post(target.url, json=payload, headers=headers)
            return response.status_code
        except httpx.HTTPError as exc:
            log.warning("webhook delivery to %s failed: %s", target.url, type(exc).__name__)
            return None


Tick = Callable[[], Awaitable[None]]


@dataclass
class VendorApp:
    routes: list[BaseRoute]
    tick: Tick | None = None
    admin_routes: list[BaseRoute] = field(default_factory=list)  # mounted under /_admin/<vendor>/
