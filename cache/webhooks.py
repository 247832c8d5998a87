"""The webhook receiver: `POST /webhooks/upwell` and `POST /webhooks/qargo` (ARCHITECTURE.md contract).

Mounted in the dashboard's server through `st.App(routes=...)`, or served alone by
`opsdash webhooks`. Basic auth with the webhook credentials (constant-time comparison), a body size
limit, validation that names the bad field, and idempotent storage (cache/ingest.py). The database
write runs in a worker thread and takes milliseconds, so the sender never waits on us.
"""

from __future__ import annotations

import base64
import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cache.db import connect
from cache.ingest import BadEvent, Outcome, ingest_qargo, ingest_upwell, record_rejection
from cache.schema import session
from services.settings import Settings, get_settings

log = logging.getLogger("opsdash.webhooks")

MAX_BODY_BYTES = 256 * 1024  # a carrier invoice event is a few KiB; anything near this is not one of ours
Ingest = Callable[[Database, bytes, datetime | None], Outcome]
_INGEST: dict[str, Ingest] = {"upwell": ingest_upwell, "qargo": ingest_qargo}


class BodyTooLarge(Exception):
    pass


def webhook_routes(settings: Settings | None = None) -> list[Route]:
    settings = settings or get_settings()
    with session(settings.opsdash_db):  # bring the schema up once, not per request
        pass
    return [Route(f"/webhooks/{source}", _endpoint(settings, source), methods=["POST"]) for source in _INGEST]


def webhook_app(settings: Settings | None = None) -> Starlette:
    return Starlette(routes=webhook_routes(settings))


def _endpoint(settings: Settings, source: str) -> Callable[[Request], object]:
    async def endpoint(request: Request) -> Response:
        if not _authorized(request, settings):
            await run_in_threadpool(_reject, settings.opsdash_db, source, "bad or missing credentials")
            return JSONResponse({"error": "authentication required"}, status_code=401,
                                headers={"WWW-Authenticate": 'Basic realm="opsdash webhooks"'})
        try:
            body = await _read_limited(request)
        except BodyTooLarge:
            await run_in_threadpool(_reject, settings.opsdash_db, source, "body too large")
            return JSONResponse({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, status_code=413)
        try:
            outcome = await run_in_threadpool(_ingest, settings.opsdash_db, source, body)
        except BadEvent as exc:
            await run_in_threadpool(_reject, settings.opsdash_db, source, str(exc))
            return JSONResponse({"error": "invalid event", "detail": str(exc)}, status_code=400)
        return JSONResponse({"outcome": outcome.value})

    return endpoint


def _authorized(request: Request, settings: Settings) -> bool:
    user, password = settings.opsdash_webhook_user, settings.opsdash_webhook_password
    if not user or password is None:
        return False  # no credentials configured: nobody may post
    expected = base64.b64encode(f"{user}:{password.get_secret_value()}".encode()).decode()
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "basic" and hmac.compare_digest(value.strip().encode(), expected.encode())


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


def _ingest(path: Path, source: str, body: bytes) -> Outcome:
    db = connect(path)
    try:
        return _INGEST[source](db, body, None)
    finally:
        db.close()


def _reject(path: Path, source: str, reason: str) -> None:
    db = connect(path)
    try:
        record_rejection(db, source, reason)
    finally:
        db.close()
    log.info("rejected %s webhook: %s", source, reason)
