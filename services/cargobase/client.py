"""The Cargobase client, declared as data on the shared core (services.core).

`Authorization: Token <token>` (seeds/004 line 8); a bad token is 403, which the core maps to
`AuthError` naming CARGOBASE_TOKEN. Cargobase documents no rate limit; a shared bucket of 5/s keeps
the worker, the dashboard and the CLI polite together.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from services.configured import NotConfigured, require, require_secret
from services.core import (
    RetryPolicy,
    SqliteRateLimiter,
    Timeouts,
    TokenHeader,
    VendorClient,
    VendorSpec,
)
from services.settings import Settings

VENDOR = "Cargobase"
RATE_PER_SECOND = 5.0  # no documented limit (seeds/004): our own ceiling
BURST = 5.0
LIMITER_KEY = "cargobase"

__all__ = ["NotConfigured", "make_client", "make_spec"]


def make_spec(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    timeouts: Timeouts | None = None,
) -> VendorSpec:
    """Cargobase as a `VendorSpec`; `NotConfigured` names the missing setting."""
    base_url = require(VENDOR, "CARGOBASE_BASE_URL", settings.cargobase_base_url).rstrip("/")
    token = require_secret(VENDOR, "CARGOBASE_TOKEN", settings.cargobase_token)
    return VendorSpec(
        name=VENDOR,
        base_url=base_url,
        auth=TokenHeader(token, hint="check CARGOBASE_TOKEN"),
        limiter=SqliteRateLimiter(
            settings.opsdash_db, LIMITER_KEY, rate=RATE_PER_SECOND, burst=BURST, clock=clock, sleep=sleep
        ),
        retry=RetryPolicy(sleep=sleep, clock=clock),
        timeouts=timeouts or Timeouts(),
    )


def make_client(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    timeouts: Timeouts | None = None,
) -> VendorClient:
    """A ready Cargobase client; close it (or use `with`) when done."""
    spec = make_spec(settings, sleep=sleep, clock=clock, timeouts=timeouts)
    return VendorClient(spec, transport=transport)
