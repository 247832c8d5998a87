"""A living world: the demo's sandbox keeps a steady state, and a restart resumes it.

Steady state. With `SandboxConfig.living` on, every vendor's tick brings in about as much as it settles:
- Qargo: a new transport order (for a new ERP order number) for every order that reached its end
  (sandbox/qargo/visibility.py `Progress`); a third of them are keyed in a few days after the ERP order,
  so some are on the road past their planned delivery (late) at any time;
- Qasida: a new sales invoice (claim) or purchase invoice (liability) for every one paid off; customers who
  are already late keep paying late, so overdue items do not all vanish (sandbox/qasida/finance.py); a stock
  card that falls below its reorder level is replenished now and then (sandbox/qasida/stock.py);
- Cargobase: a newly submitted invoice for every one audited (sandbox/cargobase.py);
- Upwell: new carrier invoices whenever fewer than half the scale's count are still open
  (sandbox/upwell/invoices.py).
tests/sandbox/test_living.py runs the world for 8 business hours at the demo's pace and checks the figures.

Resume. The world is a function of (seed, scale, factor, anchor, ticks run): each tick draws from its own
seeded stream (`World.rng(vendor, "tick", n)`). `opsdash demo` keeps that state in a small JSON file next to
its database (`state_path`); a restart rebuilds the world at the saved anchor and replays the saved ticks
with the webhooks muted (the database already holds what they sent), so dashboard and sandbox agree again.
Not replayed: what the dashboard did to the sandbox (uploads, approvals, tax-ID checks) — the database keeps
its record of them; the sandbox forgets them on restart.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from sandbox.context import SandboxConfig, SandboxContext, WebhookTarget

log = logging.getLogger("opsdash.sandbox")

PACE_SECONDS = 5.0  # business seconds per tick when a run is driven by /_admin/run (the demo's tick)
SAVE_EVERY = 12  # ticks between writes of the state file (a minute at the demo's pace)


def load_state(config: SandboxConfig) -> dict[str, Any] | None:
    """The saved world (seed, scale, factor, anchor, ticks), or None for a new world."""
    if not config.state_path or not Path(config.state_path).exists():
        return None
    try:
        state = json.loads(Path(config.state_path).read_text())
        return {"seed": int(state["seed"]), "scale": str(state["scale"]), "factor": float(state["factor"]),
                "anchor": datetime.fromisoformat(state["anchor"]), "ticks": int(state["ticks"])}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("sandbox state %s unreadable (%s): starting a new world", config.state_path, exc)
        return None


def save_state(ctx: SandboxContext) -> None:
    """Write the state atomically (a crash mid-write leaves the previous file)."""
    if not ctx.config.state_path:
        return
    path = Path(ctx.config.state_path)
    body = {"seed": ctx.world.seed, "scale": ctx.world.scale, "factor": ctx.world.factor,
            "anchor": ctx.world.anchor.isoformat(), "ticks": ctx.ticks}
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(body))
    os.replace(tmp, path)


class Muted:
    """Webhooks off for the block: a replay must not send again what the receiver already has."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.saved = (config.qargo_webhook, config.upwell_webhook)

    def __enter__(self) -> None:
        self.config.qargo_webhook, self.config.upwell_webhook = WebhookTarget(), WebhookTarget()

    def __exit__(self, *exc: object) -> None:
        self.config.qargo_webhook, self.config.upwell_webhook = self.saved
