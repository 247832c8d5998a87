"""Every pull vendor's client factory, by name: `make_clients(settings)` for those configured.

Upwell pushes to our webhook routes, so it has no client.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from services.settings import Settings

PULL_VENDORS = ("qargo", "quaderno", "qasida", "cargobase")


def make_client(settings: Settings, vendor: str, **kwargs: Any) -> Any:
    """The vendor's `services.<vendor>.client.make_client`; raises NotConfigured without settings."""
    if vendor not in PULL_VENDORS:
        raise ValueError(f"{vendor} has no pull API (known: {', '.join(PULL_VENDORS)})")
    module = importlib.import_module(f"services.{vendor}.client")
    return module.make_client(settings, **kwargs)


def make_clients(settings: Settings, vendors: Iterable[str] = PULL_VENDORS) -> dict[str, Any]:
    """Clients for the named vendors that are configured; the others are left out, not errors."""
    return {v: make_client(settings, v) for v in vendors if v in PULL_VENDORS and settings.configured(v)}  # type: ignore[arg-type]
