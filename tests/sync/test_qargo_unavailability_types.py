"""The first Qargo sync stores every unavailability with its resource's type (issue 22): the type is read when
the unavailabilities are fetched, after the resources pass of the same sync stored it, not when the resource
list was bound (before any resource existed in the cache)."""

from __future__ import annotations

from pathlib import Path

from sandbox.context import SandboxConfig
from sandbox.server import client_env
from services.settings import Settings
from store.schema import session
from sync.engine import run_all
from sync.resources import resources_for
from tests.conftest import suite_database
from tests.virtual_time import clients_in_virtual_time


def test_the_first_sync_stores_unavailabilities_with_their_resource_type(
        relaxed_sandbox: SandboxConfig, tmp_path: Path) -> None:
    env = {k.lower(): v for k, v in client_env(relaxed_sandbox).items()}
    path = suite_database(tmp_path / "cache.db")  # a new file, or a new PostgreSQL database (tests/conftest.py)
    settings = Settings(**env, opsdash_db=path)  # type: ignore[arg-type]
    clients = clients_in_virtual_time(settings, ("qargo",))  # Qargo's 2 calls/s kept, the waits virtual
    try:
        with session(path) as db:
            wanted = [r for r in resources_for(db, ("qargo",)) if r.name in ("resources", "unavailabilities")]
            assert [r.name for r in wanted] == ["resources", "unavailabilities"]  # the declared order
            assert all(r.ok for r in run_all(db, clients, wanted))
            total, typed = db.execute("SELECT count(*), count(resource_type) FROM qargo_unavailabilities").fetchone()
            mismatched = db.execute(
                "SELECT count(*) FROM qargo_unavailabilities AS u JOIN qargo_resources AS r USING (resource_id) "
                "WHERE u.resource_type IS DISTINCT FROM r.resource_type").fetchone()[0]  # SQL of both databases
    finally:
        clients["qargo"].close()
    assert total > 0 and typed == total and mismatched == 0
