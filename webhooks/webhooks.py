"""The webhook receiver: `POST /webhooks/upwell` and `POST /webhooks/qargo` (ARCHITECTURE.md contract).

Mounted in the dashboard's server through `st.App(routes=...)`, or served alone by
`opsdash webhooks`. Basic auth with the webhook credentials (constant-time comparison), a body size
limit, validation that names the bad field, and idempotent storage (webhooks/ingest.py). The database
write runs in a worker thread and takes milliseconds, so the sender never waits on us.

What a hostile or broken sender can cost us, and what it gets back:
- bad or missing credentials: a 401 and nothing written (a flood must not cost storage); an address
  locked out by its failures, or any untrusted address while failures in total are over budget, a
  429 with `Retry-After` WITHOUT its credentials being checked (webhooks/webhook_limits.py), sent after
  a pause (1 s) so a flooding connection slows itself down (the pause holds no thread);
- a body that does not arrive within `BODY_TIMEOUT` seconds: 408 (header timeouts, idle keep-alive and
  the connection caps are the server's: webhooks/webhook_server.py);
- a body over `MAX_BODY_BYTES`: 413; a body that is not strict UTF-8, nests deeper than
  `store.jsonguard.MAX_DEPTH`, holds a number outside SQLite's 64-bit range or a lone surrogate, a
  value past the bounds of services/types.py (digits, exponent, a moment out of range once in UTC),
  or is not a valid event: a 400 naming what and where, on a connection that stays open. Parsing is
  bounded, so a hostile body holds the interpreter for milliseconds. Never a 5xx or a traceback for input;
- a locked or busy database: 503 with `Retry-After`, so the sender redelivers (ingestion is
  idempotent, a redelivery is harmless).
Credentials are checked at start: an empty user or password is a configuration error, not a
password everyone knows.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.core.postgres import is_url, pooled
from services.core.store import kept
from services.settings import Settings, get_settings
from store.db import DATABASE_ERRORS, UNAVAILABLE, connect
from store.jsonguard import BadJson
from store.jsonguard import loads as guarded_loads
from store.schema import session
from webhooks.ingest import BadEvent, Outcome, ingest_qargo, ingest_upwell, record_rejection
from webhooks.webhook_limits import AuthFailures, RefusalLog

log = logging.getLogger("opsdash.webhooks")

MAX_BODY_BYTES = 256 * 1024  # a carrier invoice event is a few KiB; anything near this is not one of ours
BODY_TIMEOUT = 30.0  # seconds for the whole body to arrive: a few KiB takes milliseconds from a real sender
Ingest = Callable[[Database, bytes, datetime | None], Outcome]
_INGEST: dict[str, Ingest] = {"upwell": ingest_upwell, "qargo": ingest_qargo}
_BASIC = {"WWW-Authenticate": 'Basic realm="opsdash webhooks"'}


__all__ = ["BODY_TIMEOUT", "MAX_BODY_BYTES", "AuthFailures", "RefusalLog", "WebhookConfigError", "credentials",
           "webhook_app", "webhook_routes"]


class BodyTooLarge(Exception):
    pass


class WebhookConfigError(RuntimeError):
    """The webhook credentials are unusable; the message says which setting to fix."""


def credentials(settings: Settings) -> tuple[str, str] | None:
    """The configured (user, password); None when neither is set (Upwell not configured).

    Raises `WebhookConfigError` for half a configuration or an empty value."""
    user, secret = settings.opsdash_webhook_user, settings.opsdash_webhook_password
    password = None if secret is None else secret.get_secret_value()
    if user is None and password is None:
        return None
    if not (user or "").strip() or not (password or "").strip():  # blanks only is as empty as empty
        missing = [name for name, value in (("OPSDASH_WEBHOOK_USER", user), ("OPSDASH_WEBHOOK_PASSWORD", password))
                   if not (value or "").strip()]
        raise WebhookConfigError(f"webhook receiver: {' and '.join(missing)} is empty, blank or unset; "
                                 "set both to non-empty values (the sender uses the same pair)")
    assert user is not None and password is not None
    return user, password


def webhook_routes(settings: Settings | None = None, *, required: bool = False,
                   limiter: AuthFailures | None = None) -> list[Route]:
    """The two routes, or none when no credentials are configured and `required` is False."""
    settings = settings or get_settings()
    pair = credentials(settings)
    if pair is None:
        if required:
            raise WebhookConfigError("webhook receiver: set OPSDASH_WEBHOOK_USER and OPSDASH_WEBHOOK_PASSWORD "
                                     "(non-empty); without them no sender can be authenticated")
        log.info("webhook routes not mounted: OPSDASH_WEBHOOK_USER/PASSWORD not set")
        return []
    with session(settings.opsdash_db):  # bring the schema up once, not per request
        pass
    expected = base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()
    limiter = limiter or AuthFailures()
    return [Route(f"/webhooks/{source}", _endpoint(settings.opsdash_db, source, expected, limiter), methods=["POST"])
            for source in _INGEST]


def webhook_app(settings: Settings | None = None, limiter: AuthFailures | None = None) -> Starlette:
    """The receiver alone (`opsdash webhooks`): refuses to start without credentials."""
    return Starlette(routes=webhook_routes(settings, required=True, limiter=limiter))


def _endpoint(db_path: Path | str, source: str, expected: str, limiter: AuthFailures) -> Callable[[Request], object]:
    async def endpoint(request: Request) -> Response:
        address = request.client.host if request.client else "unknown"
        wait = limiter.locked(address)  # before the credentials: a locked-out guesser learns nothing
        if wait is not None:
            return await _too_many(limiter, wait)
        if not _authorized(request, expected):
            limiter.fail(address)  # nothing is written for a failed authentication: a flood costs no storage
            return JSONResponse({"error": "authentication required"}, status_code=401, headers=_BASIC)
        limiter.succeed(address)
        try:
            async with asyncio.timeout(BODY_TIMEOUT):
                body = await _read_limited(request)
        except TimeoutError:
            limiter.refusals.note("body read timeout", address)
            return JSONResponse({"error": f"the body did not arrive within {BODY_TIMEOUT:.0f} s"}, status_code=408,
                                headers={"Connection": "close"})
        except ClientDisconnect:  # the sender hung up mid-body (or the server's read timeout closed it)
            return Response(status_code=400)
        except BodyTooLarge:
            await run_in_threadpool(_reject, db_path, source, "body too large")
            return JSONResponse({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, status_code=413)
        try:
            outcome = await run_in_threadpool(_ingest, db_path, source, body)
        except (BadEvent, BadJson) as exc:
            await run_in_threadpool(_reject, db_path, source, str(exc))
            return JSONResponse({"error": "invalid event", "detail": str(exc)}, status_code=400)
        except UNAVAILABLE as exc:  # locked or busy past busy_timeout, PostgreSQL unreachable: the sender retries
            log.warning("%s webhook not stored, database busy: %s", source, exc)
            return JSONResponse({"error": "temporarily unable to store the event; retry"}, status_code=503,
                                headers={"Retry-After": "1"})
        return JSONResponse({"outcome": outcome.value})

    return endpoint


async def _too_many(limiter: AuthFailures, wait: float) -> Response:
    await asyncio.sleep(limiter.pause)  # a flooding connection slows itself down
    return JSONResponse({"error": "too many failed authentications; retry later"},
                        status_code=429, headers={"Retry-After": str(int(wait + 0.999)), **_BASIC})


def _authorized(request: Request, expected: str) -> bool:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    given = value.strip().encode("ascii", "replace")
    return scheme.lower() == "basic" and hmac.compare_digest(given, expected.encode())


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


POOL_WAIT_S = 1.0  # PostgreSQL unreachable (or every pooled connection busy) this long: 503, the sender retries


def _ingest(path: Path | str, source: str, body: bytes) -> Outcome:
    guarded_loads(body)  # BadJson before the vendor parser can meet a bomb (depth, range, surrogates)
    if is_url(path):  # PostgreSQL: one of the receiver's pooled connections, checked as it is handed out, so one
        # the server dropped (a restart) is replaced instead of failing this delivery (issue 20)
        with pooled(str(path), get_settings().opsdash_pg_pool_size, wait=POOL_WAIT_S) as pg:
            return _INGEST[source](pg, body, None)  # type: ignore[arg-type]
    # this worker thread's kept connection: a new one per delivery parsed the whole schema every time
    return _INGEST[source](kept(Path(path), connect, Database.close), body, None)


def _reject(path: Path | str, source: str, reason: str) -> None:
    """An authenticated sender's bad delivery is counted for the health page (its body is not kept)."""
    try:
        db = connect(path)
        try:
            record_rejection(db, source, reason)
        finally:
            db.close()
    except DATABASE_ERRORS as exc:  # counting a rejection must never turn the 400 into a 500
        log.warning("could not record a rejected %s webhook: %s", source, exc)
    log.info("rejected %s webhook: %s", source, reason)
