"""Data versions: bumped by every committed write through triggers, never by a rolled-back one."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from store import versions
from store.db import transaction
from store.schema import migrate
from store.store import upsert_records
from tests.conftest import NOW


def _invoice(i: int, due: int = 100) -> dict[str, object]:
    return {"invoice_id": f"i{i}", "number": f"N{i}", "currency": "EUR", "amount_due": due, "state": "outstanding",
            "due_date": "2025-03-01", "synced_at": NOW}


def test_every_write_bumps_its_tables_version(db: Database) -> None:
    before = versions.table_versions(db)
    upsert_records(db, "quaderno_invoices", [_invoice(1), _invoice(2)], "invoice_id")
    after_insert = versions.table_versions(db)
    assert after_insert["quaderno_invoices"] > before["quaderno_invoices"]
    assert after_insert["qasida_stock_cards"] == before["qasida_stock_cards"]  # untouched table: same
    db.execute("UPDATE quaderno_invoices SET amount_due = 5 WHERE invoice_id = 'i1'")  # a hand edit too
    db.execute("DELETE FROM quaderno_invoices WHERE invoice_id = 'i2'")
    assert versions.table_versions(db)["quaderno_invoices"] == after_insert["quaderno_invoices"] + 2


def test_a_rolled_back_write_bumps_nothing(db: Database) -> None:
    before = versions.table_versions(db)["quaderno_invoices"]
    with pytest.raises(RuntimeError), transaction(db):
        upsert_records(db, "quaderno_invoices", [_invoice(3)], "invoice_id")
        raise RuntimeError("the writer failed")
    assert versions.table_versions(db)["quaderno_invoices"] == before


def test_dataset_version_follows_the_tables_its_sql_reads(db: Database) -> None:
    tables = versions.dataset_tables(db, "invoices_outstanding")
    assert "quaderno_invoices" in tables and "carrier_invoices" in tables
    assert "qasida_stock_cards" not in tables
    invoices = versions.dataset_version(db, ["invoices_outstanding"], "2025-03-10")
    stock = versions.dataset_version(db, ["stock_levels"], "2025-03-10")
    upsert_records(db, "quaderno_invoices", [_invoice(4)], "invoice_id")
    assert versions.dataset_version(db, ["invoices_outstanding"], "2025-03-10") != invoices
    assert versions.dataset_version(db, ["stock_levels"], "2025-03-10") == stock
    assert versions.dataset_version(db, ["stock_levels"], "2025-03-11") != stock  # a new business day


def test_a_rebuilt_table_gets_its_triggers_back_at_the_next_start(db: Database) -> None:
    db.execute("DROP TABLE carrier_invoices")
    db.execute("CREATE TABLE carrier_invoices (invoice_id TEXT PRIMARY KEY, balance INTEGER) STRICT")
    assert versions.ensure_triggers(db) == ["carrier_invoices"]
    before = versions.table_versions(db)["carrier_invoices"]
    db.execute("INSERT INTO carrier_invoices VALUES ('c1', 10)")
    assert versions.table_versions(db)["carrier_invoices"] == before + 1
    assert migrate(db) == [] and versions.ensure_triggers(db) == []  # nothing left to do: read-only


def test_bookkeeping_tables_are_not_versioned(db: Database) -> None:
    assert not {"data_versions", "summaries", "raw_dicts"} & set(versions.table_versions(db))


def test_webhook_ingest_and_actions_bump_their_tables(db: Database) -> None:
    """Every writer, not only the sync: an Upwell event, an audit entry (what each action writes)."""
    import json

    from store.audit import record
    from tests.webhooks.test_ingest import NOW as INGEST_NOW
    from tests.webhooks.test_ingest import seed_event
    from webhooks.ingest import ingest_upwell

    before = versions.table_versions(db)
    assert ingest_upwell(db, json.dumps(seed_event()).encode(), INGEST_NOW).value == "accepted"
    record(db, actor="ops@example.com", action="approve_charge", target="c1", payload={"charge": "c1"},
           result="ok", now=NOW)
    after = versions.table_versions(db)
    assert after["carrier_invoices"] > before["carrier_invoices"]
    assert after["webhook_events"] > before["webhook_events"]
    assert after["audit_log"] > before["audit_log"]
