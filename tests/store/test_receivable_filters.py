"""Migration 0027_receivable_filters: the open Quaderno invoices' index serves the receivables list (issue 19)."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from store.calendar import clock
from store.datasets import RECEIVABLES, sql_for
from store.db import is_postgres
from store.queries import build_where
from store.statuses import quaderno_outstanding_sql

INDEX = "quaderno_invoices_open"


def _index_sql(db: Database) -> str:
    if not is_postgres(db):
        row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", [INDEX]).fetchone()
    else:
        row = db.execute("SELECT indexdef FROM pg_indexes WHERE indexname = ?", [INDEX]).fetchone()
    assert row is not None, f"index {INDEX} missing"
    return str(row[0])


def test_the_index_states_the_open_rule(db: Database) -> None:
    """A partial index serves only a query stating its WHERE: the list's open rule (store/statuses.py). If the
    rule changes, this fails: a new migration must recreate the index with the new rule."""
    sql = _index_sql(db)
    if not is_postgres(db):
        assert sql.endswith(f"WHERE {quaderno_outstanding_sql()}")
    else:
        assert "WHERE" in sql and "removed_at IS NULL" in sql


@pytest.mark.sqlite_only("SQLite's query plan")
@pytest.mark.parametrize("filters", [{}, {"days_overdue__gt": 0}, {"counterparty__contains": "gmbh"}])
def test_the_receivables_list_reads_the_index_alone(db: Database, filters: dict[str, object]) -> None:
    where, params = build_where(RECEIVABLES, filters)
    plan = db.conn.execute(f"EXPLAIN QUERY PLAN SELECT count(*) FROM ({sql_for(db, RECEIVABLES)}) {where}",
                           params | clock(None)).fetchall()
    details = [str(row[3]) for row in plan]
    assert any(f"COVERING INDEX {INDEX}" in d for d in details), details
    assert not any("quaderno_invoices" in d and INDEX not in d for d in details), details
