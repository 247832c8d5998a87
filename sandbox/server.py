"""Serve the sandbox: in the foreground (CLI) or in a background thread (tests, benchmarks)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from sandbox.app import create_app
from sandbox.context import SandboxConfig


def client_env(config: SandboxConfig) -> dict[str, str]:
    """The settings (ARCHITECTURE.md names) a client needs to talk to this sandbox."""
    base, cred = config.base_url, config.credentials
    return {
        "QARGO_BASE_URL": f"{base}/qargo",
        "QARGO_CLIENT_ID": cred.qargo_client_id,
        "QARGO_CLIENT_SECRET": cred.qargo_client_secret,
        "QUADERNO_BASE_URL": f"{base}/quaderno/api",
        "QUADERNO_API_KEY": cred.quaderno_api_key,
        "QUADERNO_API_VERSION": cred.quaderno_api_version,
        "QASIDA_BASE_URL": f"{base}/qasida",
        "QASIDA_TOKEN": cred.qasida_token,
        "QASIDA_MANDANT_ID": cred.qasida_mandant_id,
        "CARGOBASE_BASE_URL": f"{base}/cargobase/api/1",
        "CARGOBASE_TOKEN": cred.cargobase_token,
    }


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def serve(config: SandboxConfig) -> None:
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="warning")


@contextlib.contextmanager
def running(config: SandboxConfig | None = None, timeout: float = 30.0) -> Iterator[SandboxConfig]:
    """Run a sandbox on 127.0.0.1 in a thread for the duration of the block."""
    config = config or SandboxConfig()
    if not config.port or config.port == SandboxConfig().port:
        config.port = free_port(config.host)
    with serving(create_app(config), config.host, config.port, timeout):
        yield config


@contextlib.contextmanager
def serving(app: ASGIApp, host: str, port: int, timeout: float = 30.0) -> Iterator[str]:
    """Serve any ASGI app with uvicorn in a background thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("sandbox did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
