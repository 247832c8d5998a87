"""Shared fixtures: sandboxes on 127.0.0.1 served from a background thread."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sandbox.context import Limits, SandboxConfig
from sandbox.server import running

StartSandbox = Callable[..., SandboxConfig]


@pytest.fixture
def start_sandbox() -> Iterator[StartSandbox]:
    """Start sandboxes with any SandboxConfig fields; all stop at teardown.

    `start_sandbox()` has the vendors' documented limits; pass `limits=Limits.relaxed()` for
    tests of other behaviour."""
    with contextlib.ExitStack() as stack:

        def start(**kwargs: Any) -> SandboxConfig:
            return stack.enter_context(running(SandboxConfig(**kwargs)))

        yield start


@pytest.fixture(scope="module")
def relaxed_sandbox() -> Iterator[SandboxConfig]:
    """One sandbox per test module with the rate limits lifted (seed 1, small)."""
    with running(SandboxConfig(limits=Limits.relaxed())) as config:
        yield config


@pytest.fixture
def admin(relaxed_sandbox: SandboxConfig) -> Iterator[httpx.Client]:
    """A client on the relaxed sandbox's admin routes; clears faults and stats after the test."""
    with httpx.Client(base_url=relaxed_sandbox.base_url, timeout=10) as client:
        yield client
        client.delete("/_admin/faults")
        client.post("/_admin/stats/reset")
