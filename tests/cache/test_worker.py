"""The entry points register the action handlers by importing `actions` (above the cache)."""

from __future__ import annotations

from pathlib import Path

import actions  # noqa: F401  (what app.py and `opsdash worker` do)
from cache.worker import HANDLERS, SCHEDULED, Worker
from services.settings import Settings


def test_a_worker_started_by_an_entry_point_has_the_sync_and_action_handlers(tmp_path: Path) -> None:
    Worker(Settings(opsdash_db=tmp_path / "w.db"))
    assert {"sync", "upload_orders", "validate_tax_ids"} <= set(HANDLERS)
    assert any(fn.__name__ == "retry_unavailable" for fn in SCHEDULED)
