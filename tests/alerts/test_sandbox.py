"""On a cache synced from the sandbox (the demo's data path): the demo's example rules fire, once, and
exactly on the rows the datasets say are past the line; a failing vendor raises `sync_failed`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlite_utils import Database

from alerts.engine import evaluate_due
from alerts.rules import insert_rule, install_examples, list_rules
from jobs.worker import declared_resources
from sandbox.context import SandboxConfig
from sandbox.server import client_env
from services.settings import Settings
from store.db import connect
from store.queries import iter_dataset
from store.schema import migrate
from sync.engine import run_all
from tests.conftest import suite_database
from tests.virtual_time import clients_in_virtual_time

VENDORS = ["quaderno", "qasida"]


@pytest.fixture(scope="module")
def synced(relaxed_sandbox: SandboxConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Settings]]:
    path = suite_database(tmp_path_factory.mktemp("sandbox") / "alerts.db")
    env = {k.lower(): v for k, v in client_env(relaxed_sandbox).items()}
    settings = Settings(opsdash_db=path, **env)  # type: ignore[arg-type]
    db = connect(path)
    migrate(db)
    clients = clients_in_virtual_time(settings, VENDORS)  # the rate limits kept, their waits virtual
    try:
        results = run_all(db, clients, declared_resources(db, VENDORS))
    finally:
        for client in clients.values():
            client.close()
    assert all(r.ok for r in results), [r.summary() for r in results if not r.ok]
    yield db, settings
    db.close()


def _keys(db: Database, dataset: str, keep) -> set[str]:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    return {f"{r['source']}:{r['invoice_number']}" for r in iter_dataset(db, dataset, now=now) if keep(r, now)}


def test_the_demo_examples_fire_on_sandbox_data_exactly_once(synced: tuple[Database, Settings]) -> None:
    db, settings = synced
    install_examples(db)
    now = datetime.now(UTC)
    outcomes = {o.rule: o for o in evaluate_due(db, settings, now)}
    overdue = _keys(db, "receivables_outstanding", lambda r, _: (r["days_overdue"] or 0) > 30)
    due = _keys(db, "payables_outstanding",
                lambda r, n: r["due_date"] is not None and r["due_date"] <= (n.date() + timedelta(days=7)).isoformat())
    assert overdue and due, "the sandbox should have overdue receivables and payables falling due"
    assert outcomes["Receivables over 30 days overdue"].opened == len(overdue)
    assert outcomes["Payables due within 7 days"].opened == len(due)
    rules = {r.name: r.rule_id for r in list_rules(db)}
    stored = {k for (k,) in db.execute("SELECT key FROM alerts WHERE rule_id = ?",
                                       [rules["Receivables over 30 days overdue"]])}
    assert stored == overdue
    db.execute("UPDATE alert_rules SET last_signature = 'changed'")  # force another evaluation
    assert all(o.opened == 0 for o in evaluate_due(db, settings, now + timedelta(minutes=1)))


def test_a_vendor_failing_raises_sync_failed(synced: tuple[Database, Settings], relaxed_sandbox: SandboxConfig,
                                             admin: httpx.Client) -> None:
    db, settings = synced
    rule = insert_rule(db, "Sync failed", "sync_failed", {"vendor": "quaderno"}, (), True, "test")
    admin.put("/_admin/faults/quaderno", json={"error_rate": 1.0}).raise_for_status()
    clients = clients_in_virtual_time(settings, ["quaderno"])  # retries' backoff in virtual time
    try:
        run_all(db, clients, [r for r in declared_resources(db, ["quaderno"]) if r.name == "invoices"])
    finally:
        clients["quaderno"].close()
    [outcome] = [o for o in evaluate_due(db, settings, datetime.now(UTC)) if o.rule == rule.name]
    assert outcome.opened == 1
    assert db.execute("SELECT key FROM alerts WHERE rule_id = ?", [rule.rule_id]).fetchall() == [("quaderno/invoices",)]
