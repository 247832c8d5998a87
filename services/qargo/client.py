"""The Qargo client, declared as data on the shared core (services.core).

OAuth2 client credentials with the token cached in the shared SQLite file (Qargo rations tokens to
5 per hour, seeds/000 line 141), and one token bucket in that file for every process: Qargo allows
2 requests/s sustained and bursts of 3 (seeds/000 line 142); rate=2, burst=1 admits at most
1 + 2·T calls in any T seconds, so no second ever sees more than 3, whoever is calling.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from services.configured import NotConfigured, require, require_secret
from services.core import (
    QargoClientCredentials,
    RetryPolicy,
    SqliteRateLimiter,
    Timeouts,
    VendorClient,
    VendorSpec,
)
from services.settings import Settings

VENDOR = "Qargo"
RATE_PER_SECOND = 2.0  # seeds/000 line 142: 2 requests per second sustained
BURST = 1.0  # + the bucket's own refill keeps any 1 s window at <= 3 (the documented burst)
LIMITER_KEY = "qargo"

__all__ = ["NotConfigured", "make_client", "make_spec"]


def make_spec(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    timeouts: Timeouts | None = None,
) -> VendorSpec:
    """Qargo as a `VendorSpec`; `NotConfigured` names the missing setting."""
    base_url = require(VENDOR, "QARGO_BASE_URL", settings.qargo_base_url).rstrip("/")
    client_id = require(VENDOR, "QARGO_CLIENT_ID", settings.qargo_client_id)
    secret = require_secret(VENDOR, "QARGO_CLIENT_SECRET", settings.qargo_client_secret)
    return VendorSpec(
        name=VENDOR,
        base_url=base_url,
        auth=QargoClientCredentials(base_url, client_id, secret, settings.opsdash_db, clock=clock),
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
    """A ready Qargo client; close it (or use `with`) when done."""
    spec = make_spec(settings, sleep=sleep, clock=clock, timeouts=timeouts)
    return VendorClient(spec, transport=transport)
