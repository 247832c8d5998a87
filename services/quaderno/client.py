"""The Quaderno client, declared as data on the shared core (seeds/001).

* Auth: the API key as the Basic user, the API version pinned in `Accept` (seeds/001 lines 11, 150).
* Rate limit: "100 API calls per 15 seconds" (seeds/001 line 60), counted by Quaderno per window.
  A sliding log of 100 calls per 15.5 s, shared in SQLite by every process, never exceeds the
  vendor's window whatever its alignment, and can still spend a whole window's budget at once
  (a token bucket safe for every alignment could not: it would pace at 100/15 s with no burst,
  25 % slower on long pagings). The extra 0.5 s absorbs network jitter: our send time and the
  vendor's arrival time differ by the request latency, which varies between calls.
* Retries: 429, and 503 too, as Quaderno's official client treats it as rate limiting
  (vendor-specs/README.md); `X-RateLimit-Reset` in both generations is the wait (core.retry).
  403 is not: Quaderno's own table says "the record requested is hidden for administrators only"
  (seeds/001 lines 91-93), a permission the key's user lacks. Retrying cannot fix it, so it is a
  `PermissionDenied` that says what to check.
* API version: `QUADERNO_API_VERSION`, pinned by default (services/settings.py, seeds/001 l.125-153).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from services.configured import NotConfigured, require, require_secret
from services.core import QuadernoBasic, RetryPolicy, VendorClient, VendorError, VendorSpec
from services.core.errors import error_for_response
from services.core.ratelimit import SqliteWindowLimiter
from services.settings import Settings

RATE_LIMIT_CALLS = 100  # seeds/001 line 60
RATE_LIMIT_WINDOW = 15.0 + 0.5  # the documented 15 s + jitter margin (module docstring)
RATE_LIMIT_STATUSES = frozenset({429, 503})
FORBIDDEN_HINT = (
    "the record is hidden for administrators only (seeds/001): check that the user of QUADERNO_API_KEY "
    "is an administrator of the Quaderno account, or use an administrator's API key"
)

__all__ = ["NotConfigured", "make_client", "quaderno_spec"]


def quaderno_spec(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> VendorSpec:
    base_url = require("Quaderno", "QUADERNO_BASE_URL", settings.quaderno_base_url)
    api_key = require_secret("Quaderno", "QUADERNO_API_KEY", settings.quaderno_api_key)
    return VendorSpec(
        name="Quaderno",
        base_url=base_url.rstrip("/"),
        auth=QuadernoBasic(api_key, settings.quaderno_api_version),
        limiter=SqliteWindowLimiter(
            settings.opsdash_db, "quaderno", RATE_LIMIT_CALLS, RATE_LIMIT_WINDOW, clock=clock, sleep=sleep
        ),
        retry=RetryPolicy(rate_limit_statuses=RATE_LIMIT_STATUSES, sleep=sleep, clock=clock),
    )


class QuadernoClient(VendorClient):
    """The shared client, with Quaderno's meaning of 403 (a permission, not a bad key)."""

    def _error(self, response: httpx.Response, wait: float | None) -> VendorError:
        if response.status_code != 403:
            return super()._error(response, wait)
        auth = self.spec.auth
        return error_for_response(self.name, response, credential=auth.credential, auth_hint=auth.hint,
                                  secrets=auth.secret_values(), forbidden_hint=FORBIDDEN_HINT)


def make_client(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> VendorClient:
    """A Quaderno client; `NotConfigured` when QUADERNO_BASE_URL or QUADERNO_API_KEY is missing."""
    return QuadernoClient(quaderno_spec(settings, sleep=sleep, clock=clock), transport=transport)
