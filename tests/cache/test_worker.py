"""The worker knows every job kind as soon as it exists, without import-order tricks."""

from __future__ import annotations

from pathlib import Path

from cache.worker import HANDLERS, SCHEDULED, Worker
from services.settings import Settings


def test_a_new_worker_has_the_sync_and_action_handlers(tmp_path: Path) -> None:
    Worker(Settings(opsdash_db=tmp_path / "w.db"))
    assert {"sync", "upload_orders", "validate_tax_ids"} <= set(HANDLERS)
    assert any(fn.__name__ == "retry_unavailable" for fn in SCHEDULED)
