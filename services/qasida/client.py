"""The Qasida ERP client, declared as data on the shared core (seeds/003).

* Auth: a JWT bearer token. `MandantId` goes on every call where `QASIDA_MANDANT_IN` says: the
  document lists it among the query parameters (seeds/003 lines 150-152), so `query` is the default;
  `header` for an installation that wants it there (docs/qasida-paths.md).
* Paging: `PageNumber`/`PageSize` in, the `{data, pageNumber, pageSize, nextPage, previousPage}`
  envelope out (seeds/003 lines 150-173); see services/qasida/paging.py for when a listing ends.
* Money: JSON numbers are read as `Decimal` (`parse_float=Decimal`), so an amount of any precision
  ("0.125", "1234.5678") stays exactly what the ERP wrote.
* Rate limit: none documented. A generous shared bucket (20/s) only keeps a runaway loop from
  hammering the customer's ERP, which is usually an on-premise server.
* Paths: not public, so configurable (`QASIDA_PATHS`, services/qasida/paths.py); the client
  carries the resolved table as `client.paths`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import httpx

from services.configured import NotConfigured, require, require_secret
from services.core import BearerWithHeaders, RetryPolicy, SqliteRateLimiter, VendorClient, VendorSpec
from services.qasida.paths import resolve_paths
from services.settings import Settings

RATE, BURST = 20.0, 40.0  # not a vendor limit: a courtesy ceiling (module docstring)

__all__ = ["NotConfigured", "QasidaClient", "make_client", "qasida_spec"]


class QasidaClient(VendorClient):
    """A `VendorClient` that also knows this installation's paths and where `MandantId` goes."""

    def __init__(
        self,
        spec: VendorSpec,
        paths: dict[str, str],
        *,
        transport: httpx.BaseTransport | None = None,
        mandant_query: Mapping[str, str] | None = None,
        open_items_budget: int = 250,
    ) -> None:
        super().__init__(spec, transport=transport)
        self.paths = paths
        self.mandant_query = dict(mandant_query or {})
        self.open_items_budget = open_items_budget  # requests per sync run for each per-customer list

    def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None, **kw: Any) -> httpx.Response:
        """Every call carries `MandantId` in the query when so configured (a caller's own value wins)."""
        merged = {**self.mandant_query, **(params or {})} if self.mandant_query else params
        return super().request(method, url, params=merged, **kw)

    def parse_json(self, response: httpx.Response, *, attempts: int = 1, resent: bool = False) -> Any:
        """The body as JSON with every fractional number an exact `Decimal`. A body that does not parse is
        handed to the core, which says why (cut short, or not JSON at all)."""
        if not response.content:
            return None
        try:
            return json.loads(response.content, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            return super().parse_json(response, attempts=attempts, resent=resent)


def qasida_spec(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> VendorSpec:
    base_url = require("Qasida", "QASIDA_BASE_URL", settings.qasida_base_url)
    token = require_secret("Qasida", "QASIDA_TOKEN", settings.qasida_token)
    mandant = require("Qasida", "QASIDA_MANDANT_ID", settings.qasida_mandant_id)
    headers = {"MandantId": mandant.strip()} if settings.qasida_mandant_in == "header" else {}
    return VendorSpec(
        name="Qasida",
        base_url=base_url.rstrip("/"),
        auth=BearerWithHeaders(token, headers),
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
    query = {"MandantId": (settings.qasida_mandant_id or "").strip()} if settings.qasida_mandant_in == "query" else {}
    return QasidaClient(
        spec,
        resolve_paths(settings.qasida_paths),
        transport=transport,
        mandant_query=query,
        open_items_budget=settings.qasida_open_items_budget,
    )
