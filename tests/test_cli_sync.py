"""`opsdash sync` through a real subprocess against the sandbox on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from figures import kpis
from sandbox.context import SandboxConfig
from store import changes
from store.db import connect, is_postgres, utcnow
from tests.conftest import NewOpsdashDb
from tests.reliability.conftest import env_for

ROOT = Path(__file__).resolve().parents[1]


def test_a_sync_from_the_command_line_notes_what_it_wrote(relaxed_sandbox: SandboxConfig, tmp_path: Path,
                                                          new_opsdash_db: NewOpsdashDb) -> None:
    """`opsdash sync` notes the tables it wrote (store/changes.py), so a stored figure reading them is out of
    date; the database keeps no trigger generated per table (issue 19)."""
    path = new_opsdash_db(tmp_path / "cache.db")
    done = subprocess.run([sys.executable, "-m", "cli", "sync", "quaderno"], cwd=ROOT, capture_output=True,
                          env=env_for(relaxed_sandbox, path), timeout=180, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    db = connect(path)
    try:
        assert db.execute("SELECT count(*) FROM quaderno_invoices").fetchone()[0] > 0
        assert changes.versions(db, ["quaderno_invoices"])["quaderno_invoices"] > 0
        triggers = ("SELECT count(*) FROM information_schema.triggers" if is_postgres(db) else
                    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")
        assert db.execute(triggers).fetchone()[0] <= 10
        assert kpis.receivables(db, utcnow()).invoices > 0
    finally:
        db.close()
