"""`opsdash migrate-store --from FILE --to URL` through a real subprocess, into a real PostgreSQL database (the
`pg_url` fixture), from a copy of the synced cache (tests/synced_data.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from store.datasets import DATASETS
from tests.synced_data import SyncedTemplate

ROOT = Path(__file__).resolve().parents[1]


def opsdash(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", "migrate-store", *args], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=300, check=False)


def test_migrate_store_prints_the_counts_and_refuses_a_second_time(synced_template: SyncedTemplate, tmp_path: Path,
                                                                   pg_url: str) -> None:
    source = tmp_path / "cache.db"
    db = synced_template.copy(source)
    # one order number per Qargo order: see the xfail in tests/actions/test_move_store.py for the known difference
    db.execute("UPDATE qargo_orders SET reference = 'SO-OWN' WHERE order_id = 'T2'")
    db.close()
    with_password = pg_url.replace("postgres@", "postgres:hunter2@")  # trust authentication ignores it

    moved = opsdash("--from", str(source), "--to", with_password)

    assert moved.returncode == 0, moved.stderr
    assert "hunter2" not in moved.stdout + moved.stderr
    assert re.search(r"^quaderno_invoices +300 +300 +equal$", moved.stdout, re.MULTILINE)
    assert re.search(r"^(\d+) of \1 tables equal, row by row$", moved.stdout, re.MULTILINE)
    assert "not moved: service_tokens: the Qargo access token is a secret" in moved.stdout
    assert f"{len(DATASETS)} datasets equal ({len(DATASETS)} byte for byte, 0 as canonical JSON)" in moved.stdout

    again = opsdash("--from", str(source), "--to", pg_url)
    assert again.returncode == 2
    assert "the target already holds data: qargo_orders (4)" in again.stderr
