"""The sandbox's data set synced into a cache database the way production does it, built once per test
session (the `synced_template` fixture in tests/conftest.py) and copied into each test that uses it
(`synced` in tests/figures/test_kpis.py): a sync takes a few seconds (the clients' waits pass in virtual time,
tests/virtual_time.py), a copy a few milliseconds.

Quaderno, Qasida and Cargobase are pulled; Upwell events pushed through the webhook ingest; plus our
reorder levels and a few Qargo transport orders."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlite_utils import Database

from actions.reorder import import_levels
from actions.roles import Actor
from sandbox.context import SandboxConfig
from sandbox.server import client_env
from services.settings import Settings
from store.db import connect, is_postgres
from store.schema import migrate
from sync.engine import run_all
from sync.resources import resources_for
from tests.virtual_time import clients_in_virtual_time
from webhooks.ingest import ingest_upwell

VENDORS = ("quaderno", "qasida", "cargobase")


@dataclass(frozen=True)
class SyncedTemplate:
    """A synced database file nobody writes to any more, and the clock its data was made at. With
    --db=postgresql, `suite_copy` makes PostgreSQL copies of the same data set synced into PostgreSQL."""

    path: Path
    now: datetime
    # with --db=postgresql: a new PostgreSQL copy of the data set synced into PostgreSQL (tests/conftest.py)
    pg_copy: Callable[[], str] | None = field(default=None, compare=False)

    def copy(self, path: Path) -> Database:
        """A connection on a copy of the template file at `path` (the template is checkpointed and closed)."""
        shutil.copyfile(self.path, path)
        return connect(path)

    def suite_copy(self, path: Path) -> Path | str:
        """A copy in the suite's database: the file at `path`, or with --db=postgresql a new database's URL."""
        if self.pg_copy is None:
            self.copy(path).close()
            return path
        return self.pg_copy()


def _transport_orders(db: Database, now: datetime) -> None:
    """Qargo orders arrive by webhook or upload: three carry ERP order numbers, one carries none."""
    numbers = [r[0] for r in db.execute("SELECT number FROM qasida_customer_orders ORDER BY number LIMIT 2")]
    day = now.date()
    rows = [("T1", numbers[0], "IN_TRANSIT", day - timedelta(days=1)),
            ("T2", numbers[0], "COMPLETED", day - timedelta(days=2)),
            ("T3", numbers[1], "PLANNED", day + timedelta(days=3)),
            ("T4", "NOT-IN-ERP", "TO_PLAN", day - timedelta(days=5))]
    for order_id, reference, status, delivery in rows:
        db.execute("INSERT INTO qargo_orders (order_id, reference, status, pickup_date, delivery_date, synced_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)", [order_id, reference, status, (delivery - timedelta(days=1)).isoformat(),
                                                 delivery.isoformat(), now.isoformat()])


def build(path: Path, sandbox: SandboxConfig, now: datetime) -> SyncedTemplate:
    """Sync `sandbox` into a new database file at `path`, checkpointed and closed (call with OPSDASH_TIMEZONE=UTC
    set, as the tests read it)."""
    sync_into(path, sandbox, now)
    return SyncedTemplate(path, now)


def sync_into(path: Path | str, sandbox: SandboxConfig, now: datetime) -> None:
    """Sync `sandbox` into the database at `path` (a file, or a migrated PostgreSQL database's URL), then
    checkpoint and close it."""
    db = connect(path)
    try:
        migrate(db)
        values: dict[str, Any] = {k.lower(): v for k, v in client_env(sandbox).items()}
        settings = Settings(**values, opsdash_db=path)
        clients = clients_in_virtual_time(settings, VENDORS)  # the rate limits kept, their waits virtual
        try:
            # Twice: Qasida's claims and liabilities read customers that the first pass brings in.
            for _ in range(2):
                assert [r.error for r in run_all(db, clients, resources_for(db, VENDORS)) if not r.ok] == []
        finally:
            for client in clients.values():
                client.close()
        with httpx.Client(base_url=sandbox.base_url, timeout=30) as admin:
            events = admin.post("/_admin/upwell/emit", json={"count": 80}).json()["events"]
        for delivery in events:
            ingest_upwell(db, json.dumps(delivery["event"]).encode(), now)
        _transport_orders(db, now)
        codes = [r[0] for r in db.execute("SELECT code FROM qasida_products ORDER BY code LIMIT 6")]
        csv = "product_code,warehouse,reorder_level\n" + "".join(f"{c},,{50 * (i + 1)}\n" for i, c in enumerate(codes))
        import_levels(db, Actor("test", "operator"), csv.encode())
        if not is_postgres(db):
            busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            assert busy == 0, "the template is still being written: a copy of its file would miss rows"
    finally:
        db.close()
