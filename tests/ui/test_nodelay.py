"""ui/nodelay.py: a connection accepted on a listening socket bound the way Streamlit 1.67 binds it (protocol
number 0) gets TCP_NODELAY once `without_nagle` ran; the answer's second part then leaves without waiting for
the client's delayed acknowledgement (40 ms per request on a kept connection before)."""

from __future__ import annotations

import asyncio
import asyncio.base_events
import socket

import pytest

from ui import nodelay


def _accepted_nodelay() -> int:
    """TCP_NODELAY of the server side of one connection to an asyncio server on a protocol-0 listening socket."""
    listening = socket.socket(family=socket.AF_INET)  # as streamlit's starlette_server._bind_socket does
    listening.bind(("127.0.0.1", 0))
    listening.listen(8)
    listening.setblocking(False)
    found: list[int] = []

    async def run() -> None:
        def connected(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            found.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=listening)
        async with server:
            _reader, writer = await asyncio.open_connection(*listening.getsockname())
            for _ in range(200):  # bounded: the callback runs on the next loop turns
                if found:
                    break
                await asyncio.sleep(0.005)
            writer.close()

    asyncio.run(run())
    return found[0]


@pytest.fixture
def original_nodelay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asyncio.base_events, "_set_nodelay", asyncio.base_events._set_nodelay)  # type: ignore[attr-defined]


def test_a_connection_accepted_on_a_protocol_0_socket_has_nodelay(original_nodelay: None) -> None:
    nodelay.without_nagle()

    assert _accepted_nodelay() != 0
