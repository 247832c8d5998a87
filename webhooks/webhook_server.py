"""`opsdash webhooks`: the receiver on uvicorn, with every connection bounded in time and in number.

Uvicorn alone reads request headers for ever (its keep-alive timer only starts after a first
response), so 1,100 clients that connect and send a byte now and then held every file descriptor of
a default 1,024-fd process: new deliveries stalled 53.8 s and the accept errors wrote 163 MB of log
in 60 s (issue 22; docs/hardening.md). `GuardedH11Protocol` adds, per connection:

- a header read timeout (`Limits.header_timeout`): from the connection's start, or from the end of the
  previous response, to the end of the request headers; not reset by each byte, so a trickle cannot
  hold it open. On expiry: a 408 when nothing was answered yet, and the connection closes;
- a body read timeout (`Limits.body_timeout`) from the end of the headers to the end of the body, the
  same way (the endpoint has its own, webhooks/webhooks.BODY_TIMEOUT, for the dashboard's server too);
- a cap on open connections, in total and per client address: a connection over either is answered
  503 with `Retry-After: 1` and closed at once, so the process never runs out of descriptors and a
  real sender's retry gets through as soon as a slot frees;
- idle keep-alive (`Limits.keep_alive`) is uvicorn's own `timeout_keep_alive`; header size is h11's
  limit (`h11_max_incomplete_event_size`).
Each refusal kind is logged at most once a minute (webhooks/webhook_limits.RefusalLog), never per
connection; uvicorn's access log is off.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from webhooks.webhook_limits import RefusalLog

_CLOSE = b"Connection: close\r\nContent-Length: 0\r\n\r\n"
TIMEOUT_408 = b"HTTP/1.1 408 Request Timeout\r\n" + _CLOSE
BUSY_503 = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n" + _CLOSE


@dataclass(frozen=True)
class Limits:
    header_timeout: float = 10.0  # a sender's headers are one small write
    body_timeout: float = 30.0  # a few KiB; 256 KiB at most (webhooks/webhooks.MAX_BODY_BYTES)
    keep_alive: int = 5  # idle seconds between requests on one connection (uvicorn's default)
    max_connections: int = 512  # well under the usual 1,024 descriptors a process may open
    max_per_address: int = 64  # one address cannot take every slot
    max_header_bytes: int = 16 * 1024
    # Connections accepted in one go before any is looked at (asyncio accepts up to `backlog` per wake-up):
    # the descriptors in use stay under max_connections + backlog, well under 1,024.
    backlog: int = 128


class GuardedH11Protocol(H11Protocol):
    """Uvicorn's h11 protocol with read deadlines and connection caps (module doc)."""

    limits: ClassVar[Limits] = Limits()
    refusals: ClassVar[RefusalLog] = RefusalLog()
    open_per_address: ClassVar[Counter[str]] = Counter()  # per server class (`guarded`): one event loop

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._phase: str | None = None
        self._address = self.client[0] if self.client else "unknown"
        self.open_per_address[self._address] += 1
        over = self._over_cap()
        if over:
            self.refusals.note(over, self._address)
            self.transport.write(BUSY_503)
            self.transport.close()
            return
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        self.open_per_address[self._address] -= 1
        if self.open_per_address[self._address] <= 0:
            del self.open_per_address[self._address]
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def _over_cap(self) -> str | None:
        if len(self.connections) > self.limits.max_connections:
            return "too many connections"
        if self.open_per_address[self._address] > self.limits.max_per_address:
            return "too many connections from one address"
        return None

    def _watch(self) -> None:
        """Arm the deadline of the phase the request is in; a phase keeps the deadline it started with."""
        phase = {h11.IDLE: "headers", h11.SEND_BODY: "body"}.get(self.conn.their_state)
        if self.transport.is_closing() or (phase == "headers" and self.conn.our_state is not h11.IDLE):
            phase = None  # answering, or closing: the app's time, not the sender's
        if phase == self._phase:
            return
        self._cancel()
        self._phase = phase
        if phase is not None:
            seconds = self.limits.header_timeout if phase == "headers" else self.limits.body_timeout
            self._deadline = self.loop.call_later(seconds, self._expired, phase)

    def _expired(self, phase: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        self.refusals.note(f"{phase} read timeout", self._address)
        if phase == "headers":  # a sender that said nothing at all gets nothing either
            speak = bool(self.conn.trailing_data[0])
        else:  # the app may have answered already (a 401 before reading the body)
            speak = self.cycle is None or not self.cycle.response_started
        if speak:
            self.transport.write(TIMEOUT_408)
        self.transport.close()

    def _cancel(self) -> None:
        if getattr(self, "_deadline", None) is not None:
            self._deadline.cancel()  # type: ignore[union-attr]
            self._deadline = None


def guarded(limits: Limits, refusals: RefusalLog | None = None) -> type[GuardedH11Protocol]:
    """A protocol class with its own limits, refusal log and connection counts (one per server)."""
    attributes = {"limits": limits, "refusals": refusals or RefusalLog(), "open_per_address": Counter()}
    return type("GuardedH11", (GuardedH11Protocol,), attributes)


def config(app: Any, host: str, port: int, limits: Limits | None = None,
           refusals: RefusalLog | None = None) -> uvicorn.Config:
    """The uvicorn configuration of `opsdash webhooks`."""
    limits = limits or Limits()
    return uvicorn.Config(app, host=host, port=port, http=guarded(limits, refusals), log_level="warning",
                          access_log=False, timeout_keep_alive=limits.keep_alive,
                          h11_max_incomplete_event_size=limits.max_header_bytes, backlog=limits.backlog,
                          lifespan="off")


class _CountInvalid(logging.Filter):
    """Uvicorn warns once per malformed request ("Invalid HTTP request received."): counted instead."""

    def __init__(self, refusals: RefusalLog) -> None:
        super().__init__()
        self.refusals = refusals

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Invalid HTTP request"):
            self.refusals.note("invalid HTTP request", "a malformed request line or headers")
            return False
        return True


class GuardedServer(uvicorn.Server):
    """Should the process still run out of descriptors (other files, a lower limit), asyncio logs every
    failed accept with a traceback (163 MB in 60 s in issue 22); uvicorn warns once per malformed request.
    Both are counted here instead, one line a minute per kind."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        refusals: RefusalLog = self.config.http_protocol_class.refusals  # type: ignore[attr-defined]
        uvicorn_log = logging.getLogger("uvicorn.error")
        for old in [f for f in uvicorn_log.filters if isinstance(f, _CountInvalid)]:
            uvicorn_log.removeFilter(old)
        uvicorn_log.addFilter(_CountInvalid(refusals))
        loop = asyncio.get_running_loop()

        def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            if isinstance(context.get("exception"), OSError) and "accept" in str(context.get("message", "")):
                refusals.note("out of file descriptors", str(context["exception"]))
            else:
                loop.default_exception_handler(context)

        loop.set_exception_handler(handle)
        await super().startup(sockets)


def serve(app: Any, host: str, port: int, limits: Limits | None = None) -> None:
    cfg = config(app, host, port, limits)
    cfg.load()
    GuardedServer(cfg).run()
