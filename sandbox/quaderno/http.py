"""What every Quaderno answer goes through: Basic auth, the rate limit and its headers, the API
version in `Accept`, and JSON rendering that keeps Decimal amounts exact on the wire."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.context import SandboxContext
from sandbox.limits import FixedWindow, retry_after_header

Handler = Callable[[Request], Awaitable[Response]]

# Every version named in the changelog (seeds/001 lines 226-380); the account's default is the
# configured one. The doc does not say how an unknown version is refused: we answer 406 Not
# Acceptable, its code for an `Accept` header it cannot serve (seeds/001 error table, line 101).
KNOWN_VERSIONS = frozenset(
    {
        "20240705",
        "20231201",
        "20220325",
        "20210701",
        "20210316",
        "20170914",
        "20170628",
        "20170418",
        "20161108",
        "20160614",
        "20160602",
    }
)
WRONG_KEY = {"error": "Wrong API key or the user does not exist."}  # as recorded (cassette wrong_token)
_VERSION = re.compile(r"api_version\s*=\s*([0-9A-Za-z_-]+)")
_MARK = re.compile(r'"\\u0000([-0-9.Ee+]+)\\u0000"')


def render(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON with Decimal written as a bare number literal (exact, never through float)."""
    text = json.dumps(data, default=_decimal_mark, ensure_ascii=False, separators=(",", ":"))
    body = _MARK.sub(r"\1", text)
    return Response(body, status_code=status, headers=headers, media_type="application/json; charset=utf-8")


def _decimal_mark(value: object) -> str:
    if isinstance(value, Decimal):
        return f"\x00{value}\x00"
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return render({"error": message}, status, headers)


def api_key_of(request: Request) -> str | None:
    """The user part of `Authorization: Basic`; the password ("x") is ignored (seeds/001 l.13-16)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, _ = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user


def version_problem(request: Request) -> str | None:
    """Why the `Accept` header cannot be served, or None (seeds/001 lines 144-150)."""
    accept = request.headers.get("accept", "")
    if accept and not any(t in accept for t in ("json", "*/*", "api_version")):
        return "You requested a format that isn't JSON"
    match = _VERSION.search(accept)
    if match and match.group(1) not in KNOWN_VERSIONS:
        return f"Unknown API version {match.group(1)}"
    return None


class Gate:
    """Auth, then the 100 calls / 15 s window per API key (seeds/001 lines 57-63), then the version."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        limits = ctx.config.limits
        self.window = FixedWindow(limits.quaderno_calls, limits.quaderno_window)

    def wrap(self, handler: Handler) -> Handler:
        async def gated(request: Request) -> Response:
            key = api_key_of(request)
            if key is None or not secrets.compare_digest(key, self.ctx.config.credentials.quaderno_api_key):
                return render(WRONG_KEY, 401)  # recorded 401s carry no rate-limit headers
            wait = self.window.acquire(key)
            if wait is not None:
                headers = {**self.rate_headers(key), "Retry-After": retry_after_header(wait)}
                return error(429, "Too many requests. Slow down!", headers)
            problem = version_problem(request)
            response = error(406, problem) if problem else await handler(request)
            response.headers.update(self.rate_headers(key))
            return response

        return gated

    def rate_headers(self, key: str) -> dict[str, str]:
        """Reset in UTC epoch seconds, the current documented form (seeds/001 line 58)."""
        limit, remaining, left = self.window.state(key)
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(math.ceil(time.time() + left)),
        }
