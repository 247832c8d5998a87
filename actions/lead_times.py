"""Lead times as a staff action: operators set them on the Stock page, every change is audited. The rules and
the storage are figures/lead_times.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from actions.roles import Actor, require
from figures import lead_times
from figures.reorder import warehouses
from store import audit


def save_lead_times(db: Database, actor: Actor, edited: Sequence[Mapping[str, Any]],
                    now: datetime | None = None) -> int:
    """Keep exactly the edited rows (all or nothing); `LeadTimeError` names every bad row."""
    require(actor, "operator", "setting lead times")
    times = lead_times.parse(edited, warehouses(db))
    count = lead_times.replace_all(db, times, actor.name, now)
    audit.record(db, actor.name, "lead_times.edit", "stock page", [list(t) for t in times],
                 f"{count} lead times kept", now=now)
    return count
