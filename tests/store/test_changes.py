"""store/changes.py: every write path notes, in its own transaction, each table it wrote that a stored figure
may read (issue 19). What a path wrote is what SQLite says it wrote (a trace of the statements run), not a
list kept by hand, so a new write that forgets `note_write` fails here."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlite_utils import Database

from actions.charges import _mirror
from actions.order_changes import _remember_identifier
from actions.taxids import TaxIdRow, _record
from figures import reorder
from store import changes
from store.db import transaction
from store.store import mark_gone, upsert_records
from sync.fetch import drop_unseen
from sync.vendors.qasida import _mark_skipped, fulfilled_unless_listed, settle_unseen, store_order_lines
from tests.webhooks.test_ingest import qargo_body, seed_event
from webhooks.ingest import ingest_qargo, ingest_upwell

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
_WRITE = re.compile(r"^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+\"?(\w+)\"?",
                    re.IGNORECASE)


@contextmanager
def written(db: Database) -> Iterator[set[str]]:
    """The tables the statements run inside the block wrote (from SQLite's statement trace)."""
    tables: set[str] = set()

    def trace(sql: str) -> None:
        found = _WRITE.match(sql)
        if found:
            tables.add(found.group(1))

    db.conn.set_trace_callback(trace)
    try:
        yield tables
    finally:
        db.conn.set_trace_callback(None)


def unnoted(db: Database, write: Callable[[Database], object]) -> set[str]:
    """Tables `write` wrote that figures may read (`changes.noted`) but whose counter did not move."""
    before = changes.versions(db)
    with written(db) as tables:
        write(db)
    after = changes.versions(db)
    return {t for t in tables if changes.noted(t) and after.get(t, 0) <= before.get(t, 0)}


def _seed(db: Database) -> None:
    upsert_records(db, "cargobase_invoices", [{"shipment_reference": "S1", "provider_invoice_number": "C1",
                                              "first_seen_at": "2026-01-01", "last_seen_at": "2026-01-01",
                                              "synced_at": "2026-01-01"}], ("shipment_reference", "provider_invoice_number"))
    upsert_records(db, "qasida_customer_orders", [{"order_id": "E1", "number": "SO-1", "synced_at": "2026-01-01"}],
                   "order_id")
    upsert_records(db, "qargo_charges", [{"charge_id": "ch1", "order_id": "o1", "synced_at": "2026-01-01"}],
                   "charge_id")


WRITE_PATHS: dict[str, Callable[[Database], object]] = {
    "sync upsert": lambda db: upsert_records(db, "quaderno_invoices", [{"invoice_id": "i1", "currency": "EUR",
                                                                        "synced_at": "x"}], "invoice_id"),
    "mark gone": lambda db: mark_gone(db, "cargobase_invoices", not_seen_since="2026-06-01", now=NOW),
    "drop unseen": lambda db: drop_unseen("qargo_unavailabilities")(db, "2027-01-01"),
    "not fulfilled": lambda db: fulfilled_unless_listed(db, "2027-01-01"),
    "settle open items": lambda db: settle_unseen(db, "claims", "cust-1", [], "2026-11-21T00:00:00.000Z"),
    "order lines": lambda db: store_order_lines(db, [], {}),
    "webhook upwell": lambda db: ingest_upwell(db, json.dumps(seed_event()).encode(), NOW),
    "webhook qargo": lambda db: ingest_qargo(db, qargo_body("o9", "PLANNED", "2026-11-20T10:00:00Z"), NOW),
    "reorder levels": lambda db: reorder.upsert(db, [reorder.Level("SKU-1", "", 5, None)], "test", NOW),
    "reorder replace": lambda db: reorder.replace_all(db, [], "test", NOW),
    "tax id": lambda db: _record(db, "test", TaxIdRow("DE", "DE1"), "DE", "DE1", True, "valid", "ok", None,
                                 called=False),
    "charges": lambda db: _mirror(db, "o1", ["ch1"], [], "approved"),
    "order identifier": lambda db: _remember_identifier(db, "o1", "ORD-1"),
    "open items skipped": lambda db: _mark_skipped(db, "claims", "cust-1", "2026-11-21T00:00:00.000Z"),
}


@pytest.mark.parametrize("path", sorted(WRITE_PATHS))
def test_every_write_path_notes_the_tables_it_wrote(db: Database, path: str) -> None:
    _seed(db)
    assert unnoted(db, WRITE_PATHS[path]) == set()


def test_a_write_that_forgets_to_note_is_caught(db: Database) -> None:
    def forgetful(db: Database) -> None:
        with transaction(db):
            db.execute("INSERT INTO carrier_invoices (invoice_id, synced_at) VALUES ('x', 'y')")

    assert unnoted(db, forgetful) == {"carrier_invoices"}


def test_a_rolled_back_write_notes_nothing(db: Database) -> None:
    before = changes.versions(db, ["quaderno_invoices"])
    with pytest.raises(RuntimeError), transaction(db):
        upsert_records(db, "quaderno_invoices", [{"invoice_id": "i1", "currency": "EUR", "synced_at": "x"}],
                       "invoice_id")
        raise RuntimeError("the sync failed")
    assert changes.versions(db, ["quaderno_invoices"]) == before


@pytest.mark.sqlite_only('reads sqlite_master; the PostgreSQL schema has no triggers (store/pg_schema.py translates none)')
def test_the_schema_keeps_no_trigger_generated_per_table(db: Database) -> None:
    triggers = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()]
    assert len(triggers) <= 10 and not [n for n in triggers if n.startswith(("dv_", "ks_"))]
    assert not [n for n in db.table_names() if n.startswith("summary_") or n == "summaries"]


def test_jobs_and_the_audit_log_are_not_noted() -> None:
    assert changes.noted("quaderno_invoices") and changes.noted("reorder_levels")
    assert not changes.noted("jobs") and not changes.noted("audit_log") and not changes.noted("sync_runs")
