"""The dashboard's answers go out at once: Nagle's algorithm off on the connections `st.App`'s server accepts.

Streamlit 1.67 binds its listening socket itself (`starlette_server._bind_socket`: `socket.socket(family=...)`,
protocol number 0), and asyncio turns Nagle's algorithm off only on sockets whose protocol number is IPPROTO_TCP
(`asyncio.base_events._set_nodelay`, called for every connection a server accepts). So the dashboard's
connections kept Nagle on: an answer written in two parts (uvicorn's h11 writes the head, then the body) held its
second part until the client acknowledged the first, which a client delays by up to 40 ms (Linux's delayed ACK).
Measured on a running demo: every request on a kept connection took 44-48 ms (`/_stcore/health`, the webhook
routes; the sandbox's own uvicorn, which binds with IPPROTO_TCP, 1.1 ms), and the sandbox's webhook deliveries
to the dashboard went one per 44-48 ms.

The server binds before it imports app.py (uvicorn loads the app in its startup), so app.py cannot reach the
socket's bind; it can still decide, before the first connection is accepted, that a TCP stream socket of either
protocol number gets TCP_NODELAY, as asyncio means to."""

from __future__ import annotations

import asyncio.base_events
import socket

_INET = frozenset({socket.AF_INET, socket.AF_INET6})


def _set_nodelay(sock: socket.socket) -> None:
    if sock.family in _INET and sock.type == socket.SOCK_STREAM and sock.proto in (0, socket.IPPROTO_TCP):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def without_nagle() -> None:
    """From now on every TCP connection asyncio makes or accepts in this process has TCP_NODELAY."""
    asyncio.base_events._set_nodelay = _set_nodelay  # type: ignore[attr-defined]
