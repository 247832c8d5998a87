"""`opsdash sync` through a real subprocess against the sandbox on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from figures import kpis
from sandbox.context import SandboxConfig
from store.db import connect, utcnow
from tests.reliability.conftest import env_for

ROOT = Path(__file__).resolve().parents[1]


def test_a_sync_from_the_command_line_leaves_the_summaries_stored(relaxed_sandbox: SandboxConfig,
                                                                   tmp_path: Path) -> None:
    """Like the worker, `opsdash sync` folds the keys it wrote into the per-key summaries (store/keyed.py), so
    the first viewer after a cron-run sync reads stored figures instead of recounting every invoice."""
    path = tmp_path / "cache.db"
    done = subprocess.run([sys.executable, "-m", "cli", "sync", "quaderno"], cwd=ROOT, capture_output=True,
                          env=env_for(relaxed_sandbox, path), timeout=180, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    db = connect(path)
    try:
        assert db.execute("SELECT count(*) FROM quaderno_invoices").fetchone()[0] > 0
        assert keyed.dirty(db) == {}
        stored = db.execute("SELECT sum(invoices) FROM summary_outstanding_by_due WHERE direction = 'receivable'").fetchone()[0]
        assert stored == kpis.receivables(db, utcnow()).invoices > 0
    finally:
        db.close()
