"""OAuth2 client credentials (seeds/000 line 65-100) and the per-tenant rate limits (line 137-158).

Tokens are JWT-shaped strings valid for an hour of *business* time (`ctx.clock`), so a test can
expire them with `POST /_admin/clock`. The limiters run on real monotonic time, like the vendor's.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from sandbox.context import SandboxContext
from sandbox.limits import SlidingWindow, TokenBucket
from sandbox.qargo.common import error, json_ok, rate_limited

TOKEN_LIFETIME = 3600  # seeds/000 line 272: "a valid access key for 1 hour"
Endpoint = Callable[[Request], Awaitable[Response]]


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class Auth:
    def __init__(self, ctx: SandboxContext) -> None:
        limits = ctx.config.limits
        self.ctx = ctx
        self.tokens: dict[str, tuple[str, datetime]] = {}
        # the rolling hour on the sandbox's business clock, which also ages the tokens it issues: when a test or
        # the demo's /_admin/run moves the clock 8 hours on, the hour of earlier token requests has passed too
        self.token_window = SlidingWindow(limit=limits.qargo_tokens_per_hour, window=3600,
                                          clock=lambda: ctx.clock.now().timestamp())
        self.bucket = TokenBucket(rate=limits.qargo_rate, burst=limits.qargo_burst)

    async def token(self, request: Request) -> Response:
        """POST /v1/auth/token: Basic client_id:secret, empty body (seeds/000 line 85-92)."""
        self.ctx.stats["qargo"].token_requests += 1
        client_id = self._client_from_basic(request.headers.get("authorization", ""))
        if client_id is None:
            return error(401, "Invalid client credentials")
        wait = self.token_window.acquire(client_id)  # seeds/000 line 141: 5 per hour
        if wait is not None:
            return rate_limited(wait)
        return json_ok({"access_token": self._issue(client_id), "token_type": "bearer",
                        "expires_in": TOKEN_LIFETIME})

    def guard(self, endpoint: Endpoint) -> Endpoint:
        """Bearer token required, then the per-tenant bucket (2/s sustained, burst 3)."""

        async def guarded(request: Request) -> Response:
            client_id = self._client_from_bearer(request.headers.get("authorization", ""))
            if client_id is None:
                return error(401, "Invalid or expired access token")
            wait = self.bucket.acquire(client_id)
            if wait is not None:
                return rate_limited(wait)
            return await endpoint(request)

        return guarded

    def _issue(self, client_id: str) -> str:
        now = self.ctx.clock.now()
        self._purge(now)
        expires = now + timedelta(seconds=TOKEN_LIFETIME)
        claims = {"sub": client_id, "exp": int(expires.timestamp()), "jti": secrets.token_hex(8)}
        token = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}.{secrets.token_urlsafe(32)}"
        self.tokens[token] = (client_id, expires)
        return token

    def _purge(self, now: datetime) -> None:
        for token in [t for t, (_, exp) in self.tokens.items() if exp <= now]:
            del self.tokens[token]

    def _client_from_basic(self, header: str) -> str | None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            client_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        cred = self.ctx.config.credentials
        ok_id = hmac.compare_digest(client_id.encode(), cred.qargo_client_id.encode())
        ok_secret = hmac.compare_digest(secret.encode(), cred.qargo_client_secret.encode())
        return client_id if ok_id and ok_secret else None

    def _client_from_bearer(self, header: str) -> str | None:
        scheme, _, token = header.partition(" ")
        entry = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if entry is None or entry[1] <= self.ctx.clock.now():
            return None
        return entry[0]
