"""A PostgreSQL cluster of a test's own, to restart (issue 20: the receiver, the worker and the dashboard survive a
restart of the database). Its tests run with --db=postgresql and are skipped on SQLite, saying so; they start a
cluster each (a few seconds), because stopping the session's cluster would cut off every other test's database.

    from tests.pgrestart import Restartable, restartable_fixture  # noqa: F401 - the fixture `restartable`
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests import pgcluster


@dataclass(frozen=True)
class Restartable:
    admin: str  # the cluster's superuser URL (pgcluster.stop/start take it)
    url: str  # the migrated database the test uses

    def stop(self) -> None:
        pgcluster.stop(self.admin)

    def start(self) -> None:
        pgcluster.start(self.admin)


@pytest.fixture(name="restartable")
def restartable_fixture(on_postgres: bool) -> Iterator[Restartable]:
    """A running cluster of this test's own with a migrated database `opsdash`."""
    if not on_postgres:
        pytest.skip("restarts PostgreSQL: run with --db=postgresql")
    if not pgcluster.available():
        pytest.skip(f"PostgreSQL binaries not found in {pgcluster.BIN}")
    with pgcluster.cluster() as admin:
        yield Restartable(admin, pgcluster.migrated_database(admin, "opsdash"))
