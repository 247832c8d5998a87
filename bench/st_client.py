"""A headless Streamlit client over the app's websocket (`/_stcore/stream`), for the page benchmarks.

It speaks the browser's protocol (protobuf BackMsg/ForwardMsg) so a benchmark can open many sessions
without browsers competing for the CPU it measures. `open_page` asks for a script run the way the
frontend does on load, and times the first element of a kind (a KPI card is `metric`) and the end
of the run.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


@dataclass
class View:
    first_element_s: float | None  # seconds from connect to the first element of the kind asked for
    finished_s: float  # seconds from connect to the end of the script run
    elements: int
    exception: str | None = None
    metrics: dict[str, str] = field(default_factory=dict)  # KPI card label -> the value it shows


async def open_page(base_url: str, page: str = "", element: str = "metric", timeout: float = 120.0) -> View:
    """Connect, run page `page` (URL path, "" = the default page), and read until the run finishes."""
    ws_url = base_url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
    started = time.perf_counter()
    first, count, exception = None, 0, None
    metrics: dict[str, str] = {}
    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None,  # type: ignore[list-item]
                                  open_timeout=timeout) as ws:
        back = BackMsg()
        back.rerun_script.query_string = ""
        back.rerun_script.page_name = page
        await ws.send(back.SerializeToString())
        deadline = started + timeout
        while True:
            data = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.perf_counter()))
            msg = ForwardMsg()
            msg.ParseFromString(data)  # type: ignore[arg-type]
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                count += 1
                which = msg.delta.new_element.WhichOneof("type")
                if which == "exception" and exception is None:
                    exception = msg.delta.new_element.exception.message
                if which == element and first is None:
                    first = time.perf_counter() - started
                if which == "metric":
                    metrics[msg.delta.new_element.metric.label] = msg.delta.new_element.metric.body
            elif kind == "script_finished":
                return View(first, time.perf_counter() - started, count, exception, metrics)


def open_pages(base_url: str, sessions: int, page: str = "") -> list[View]:
    """`sessions` clients opening `page` at the same moment."""
    async def run() -> list[View]:
        return list(await asyncio.gather(*(open_page(base_url, page) for _ in range(sessions))))

    return asyncio.run(run())
