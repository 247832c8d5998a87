"""The Qasida ERP client, declared as data on the shared core (seeds/003).

* Auth: a JWT bearer token plus the `MandantId` header on every call (docs/qasida-paths.md).
* Paging: `PageNumber`/`PageSize` in, the `{data, pageNumber, pageSize, nextPage, previousPage}`
  envelope out (seeds/003 lines 150-173); PageSize up to 1000 is served.
* Rate limit: none documented. A generous shared bucket (20/s) only keeps a runaway loop from
  hammering the customer's ERP, which is usually an on-premise server.
* Paths: not public, so configurable (`QASIDA_PATHS`, services/qasida/paths.py); the client
  carries the resolved table as `client.paths`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from services.configured import NotConfigured, require, require_secret
from services.core import BearerWithHeaders, RetryPolicy, SqliteRateLimiter, VendorClient, VendorSpec
from services.qasida.paths import resolve_paths
from services.settings import Settings

RATE, BURST = 20.0, 40.0  # not a vendor limit: a courtesy ceiling (module docstring)

__all__ = ["NotConfigured", "QasidaClient", "make_client", "qasida_spec"]


class QasidaClient(VendorClient):
    """A `VendorClient` that also knows this installation's paths."""

    def __init__(
        self, spec: VendorSpec, paths: dict[str, str], *, transport: httpx.BaseTransport | None = None
    ) -> None:
        super().__init__(spec, transport=transport)
        self.paths = paths


def qasida_spec(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> VendorSpec:
    base_url = require("Qasida", "QASIDA_BASE_URL", settings.qasida_base_url)
    token = require_secret("Qasida", "QASIDA_TOKEN", settings.qasida_token)
    mandant = require("Qasida", "QASIDA_MANDANT_ID", settings.qasida_mandant_id)
    return VendorSpec(
        name="Qasida",
        base_url=base_url.rstrip("/"),
        auth=BearerWithHeaders(token, {"MandantId": mandant.strip()}),
        limiter=SqliteRateLimiter(settings.opsdash_db, "qasida", RATE, BURST, clock=clock, sleep=sleep),
        retry=RetryPolicy(sleep=sleep, clock=clock),
    )


def make_client(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> QasidaClient:
    """A Qasida client; `NotConfigured` naming the setting when the URL, token or mandant is missing."""
    spec = qasida_spec(settings, sleep=sleep, clock=clock)
    return QasidaClient(spec, resolve_paths(settings.qasida_paths), transport=transport)
