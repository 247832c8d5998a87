"""upwell simulator (placeholder until its module lands)."""

from __future__ import annotations

from sandbox.context import SandboxContext, VendorApp


def build(ctx: SandboxContext) -> VendorApp:
    return VendorApp(routes=[])
