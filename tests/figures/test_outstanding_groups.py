"""figures.details.outstanding_groups: the one pass the Invoices page's figures read (totals per counterparty,
their count, the aging, the list's count), filtered as the page filters, against a recount by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlite_utils import Database

from figures import details, stored
from figures import page_summaries as ps
from store.calendar import clock
from store.queries import query_dataset
from store.store import upsert_records
from tests.figures.test_details import NOW, S, seed_details

OVERDUE = {"days_overdue__gt": 0}


def _seed(db: Database) -> None:
    """seed_details' receivables (Q-1 Acme EUR 70.00 not yet due; Q-2 Acme EUR 25.50, 49 days; Q-3 Beta USD
    10.00, 129 days; FV-1 Delta CZK 999.99, 37 days) plus Q-5 Acme EUR 4.50 due 2025-03-01 (9 days on NOW):
    Acme's overdue EUR spans two aging buckets."""
    seed_details(db)
    upsert_records(db, "quaderno_invoices", [
        {"invoice_id": "q5", "number": "Q-5", "contact_name": "Acme", "currency": "EUR", "total": 450,
         "amount_due": 450, "state": "late", "due_date": "2025-03-01", "raw": json.dumps({}), "synced_at": S}],
        "invoice_id")


def test_overdue_only_folds_equal_a_recount_by_hand(db: Database) -> None:
    _seed(db)
    groups = details.outstanding_groups(db, {"direction": "receivable", **OVERDUE}, now=NOW)
    # By hand: Acme EUR Q-2 25.50 + Q-5 4.50 = 30.00 over 2 invoices; Beta USD 10.00; Delta CZK 999.99.
    assert [(r["counterparty"], r["currency"], r["invoices"], r["amount"]) for r in groups.counterparties] == [
        ("Acme", "EUR", 2, "30.00"), ("Beta", "USD", 1, "10.00"), ("Delta", "CZK", 1, "999.99")]
    assert [(r["bucket"], r["currency"], r["invoices"], r["amount"]) for r in groups.aging] == [
        ("1–30", "EUR", 1, "4.50"), ("31–60", "CZK", 1, "999.99"), ("31–60", "EUR", 1, "25.50"),
        ("90+", "USD", 1, "10.00")]
    assert groups.invoices == 4
    assert details.counterparties(db, {"direction": "receivable", **OVERDUE}, now=NOW) == 3
    top = details.totals_by_counterparty(db, {"direction": "receivable", **OVERDUE}, now=NOW, limit=1)
    assert [(r["counterparty"], r["invoices"], r["amount"]) for r in top] == [("Acme", 2, "30.00")]


def test_every_open_receivable_and_both_directions(db: Database) -> None:
    _seed(db)
    aging = details.aging_buckets(db, {"direction": "receivable"}, now=NOW)
    assert [(r["bucket"], r["currency"], r["invoices"], r["amount"]) for r in aging] == [
        ("Not yet due", "EUR", 1, "70.00"), ("1–30", "EUR", 1, "4.50"), ("31–60", "CZK", 1, "999.99"),
        ("31–60", "EUR", 1, "25.50"), ("90+", "USD", 1, "10.00")]
    both = details.totals_by_counterparty(db, {"currency": "EUR"}, now=NOW)
    # Acme EUR: 70.00 + 25.50 + 4.50 = 100.00 (receivable); carr-9 EUR 150.00 (payable): never added together.
    assert [(r["direction"], r["counterparty"], r["invoices"], r["amount"]) for r in both] == [
        ("payable", "carr-9", 1, "150.00"), ("receivable", "Acme", 3, "100.00")]
    payable = details.aging_buckets(db, {"direction": "payable"}, now=NOW)
    assert [(r["bucket"], r["currency"], r["amount"]) for r in payable] == [
        ("Not yet due", "CZK", "12.345"), ("Not yet due", "EUR", "150.00"), ("No due date", None, "")]


def test_the_page_builders_read_one_stored_pass(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Invoices page's overdue-only view through its builders: one pass, the list counted from it."""
    _seed(db)
    for module in ("store.queries", "figures.details"):  # the builders read the clock: NOW
        monkeypatch.setattr(f"{module}.clock", lambda now=None: clock(now or NOW))
    monkeypatch.setattr(stored, "business_today", lambda now=None: NOW.date().isoformat())
    passes: list[object] = []
    real = details.outstanding_groups

    def counted(db: Database, filters: dict[str, object] | None = None, now: datetime | None = None) -> object:
        passes.append(filters)
        return real(db, filters, now=now)

    monkeypatch.setattr(details, "outstanding_groups", counted)
    query = {"direction": "receivable", **OVERDUE}
    page = ps.dataset_page(db, "receivables_outstanding", OVERDUE)
    assert page.total == 4 == query_dataset(db, "receivables_outstanding", OVERDUE, now=NOW).total
    assert [r["invoice_number"] for r in page.rows] == ["Q-3", "Q-2", "FV-1", "Q-5"]  # most days overdue first
    assert ps.counterparty_count(db, query) == 3
    assert [r["amount"] for r in ps.counterparty_totals(db, query, 15)] == ["30.00", "10.00", "999.99"]
    assert [r["bucket"] for r in ps.aging(db, query)] == ["1–30", "31–60", "31–60", "90+"]
    assert passes == [query]  # built once, read by the three others
    past = ps.dataset_page(db, "receivables_outstanding", OVERDUE, offset=50)
    assert (past.rows, past.total) == ([], 4)
    nobody = ps.dataset_page(db, "receivables_outstanding", {"counterparty__contains": "nobody"})
    assert (nobody.rows, nobody.total) == ([], 0)


def test_a_contains_filter_counts_as_its_list_does(db: Database) -> None:
    _seed(db)
    query = {"direction": "receivable", "counterparty__contains": "acm"}
    groups = details.outstanding_groups(db, query, now=datetime(2025, 3, 10, 12, 0, tzinfo=UTC))
    assert [(r["counterparty"], r["invoices"], r["amount"]) for r in groups.counterparties] == [("Acme", 3, "100.00")]
    assert groups.invoices == query_dataset(db, "receivables_outstanding", {"counterparty__contains": "acm"},
                                            now=NOW).total == 3
