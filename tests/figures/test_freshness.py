"""Freshness states and their sentences, per source and per dataset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlite_utils import Database

from figures.freshness import SOURCES, dataset_freshness, freshness, source_freshness
from services.settings import Settings
from store.datasets import CONTRACT_NAMES, get_dataset
from store.store import finish_sync_run, start_sync_run
from tests.conftest import NOW

QUADERNO_INVOICES = next(s for s in SOURCES if (s.vendor, s.resource) == ("quaderno", "invoices"))
# Explicit values win over the environment and any opsdash.toml, so these tests do not depend on them.
UNCONFIGURED = Settings(qargo_base_url=None, quaderno_base_url=None, qasida_base_url=None,
                        cargobase_base_url=None, opsdash_webhook_user=None, opsdash_webhook_password=None)
CONFIGURED = UNCONFIGURED.model_copy(update={"quaderno_base_url": "http://127.0.0.1:1/quaderno/api",
                                             "opsdash_webhook_user": "u", "opsdash_webhook_password": "p"})


def _run(db: Database, ago: timedelta, error: str | None = None) -> None:
    run_id = start_sync_run(db, "quaderno", "invoices", now=NOW - ago)
    finish_sync_run(db, run_id, pages=1, error=error, now=NOW - ago)


@pytest.mark.parametrize(("runs", "settings", "state", "sentence"), [
    ([], UNCONFIGURED, "not configured", "Quaderno invoices: not configured (set QUADERNO_BASE_URL)"),
    ([], CONFIGURED, "never synced", "Quaderno invoices: never synced"),
    ([(timedelta(minutes=12), None)], CONFIGURED, "ok", "Quaderno invoices: up to date, synced 12 min ago"),
    ([(timedelta(hours=3), None)], None, "stale", "Quaderno invoices: 3 h stale (expected every 1 h)"),
    ([(timedelta(hours=3), None), (timedelta(minutes=1), "authentication failed")], CONFIGURED, "failing",
     "Quaderno invoices: 3 h stale, last error: authentication failed"),
    ([(timedelta(minutes=2), "Quaderno is unavailable")], CONFIGURED, "failing",
     "Quaderno invoices: never synced successfully, last error: Quaderno is unavailable"),
    ([(timedelta(hours=2), "timeout"), (timedelta(seconds=20), None)], CONFIGURED, "ok",
     "Quaderno invoices: up to date, synced <1 min ago"),
])
def test_states_and_sentences(db: Database, runs: list[tuple[timedelta, str | None]],
                              settings: Settings | None, state: str, sentence: str) -> None:
    for ago, error in runs:
        _run(db, ago, error)
    result = source_freshness(db, QUADERNO_INVOICES, NOW, settings)
    assert (result.state, result.sentence) == (state, sentence)


def test_running_run_does_not_count(db: Database) -> None:
    _run(db, timedelta(minutes=5))
    start_sync_run(db, "quaderno", "invoices", now=NOW)
    result = source_freshness(db, QUADERNO_INVOICES, NOW, None)
    assert (result.state, result.age, result.last_success_at) == ("ok", timedelta(minutes=5),
                                                                  "2025-03-10T11:55:00.000Z")


def test_pushed_source_uses_webhook_events(db: Database) -> None:
    upwell = next(s for s in SOURCES if s.vendor == "upwell")
    assert source_freshness(db, upwell, NOW, CONFIGURED).sentence == (
        "Upwell carrier invoices: no events received yet")
    db.execute("INSERT INTO webhook_events (source, event_id, received_at, outcome) "
               "VALUES ('upwell', 'e1', '2025-03-10T10:00:00.000Z', 'accepted')")
    assert source_freshness(db, upwell, NOW, CONFIGURED).sentence == (
        "Upwell carrier invoices: last event received 2 h ago")
    assert source_freshness(db, upwell, NOW, UNCONFIGURED).state == "not configured"


def test_freshness_lists_every_source(db: Database) -> None:
    states = {(f.vendor, f.resource): f.state for f in freshness(db, NOW, UNCONFIGURED)}
    assert len(states) == len(SOURCES)
    assert set(states.values()) == {"not configured"}


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_every_dataset_exposes_its_sources(db: Database, name: str) -> None:
    result = dataset_freshness(db, name, NOW, None)
    assert [(f.vendor, f.resource) for f in result] == list(get_dataset(name).sources)


def test_invoices_outstanding_sources() -> None:
    # receivables (Quaderno invoices, Qasida claims), then payables (Qasida liabilities, Upwell, Cargobase)
    assert get_dataset("invoices_outstanding").sources == (
        ("quaderno", "invoices"), ("quaderno", "open_invoices"), ("qasida", "claims"), ("qasida", "liabilities"), ("upwell", "carrier_invoices"),
        ("cargobase", "invoices"))
