"""Per-key summaries (store/keyed.py): after any mix of writes, what a reader gets (stored rows of clean
keys plus dirty keys computed) and what a fold stores both equal a recount of the whole data set, and a
write marks only the keys it touched."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from sqlite_utils import Database

from figures import kpis
from store.db import transaction
from store.queries import query_dataset
from store.schema import migrate
from tests.figures import test_kpis

now, synced = test_kpis.now, test_kpis.synced  # the synced sandbox data set and its clock (fixtures)


def _recount(db: Database, name: str, now: datetime) -> Counter[tuple[Any, ...]]:
    sql, params, _ = keyed._computed(db, keyed.KEYED[name], None)
    return Counter(db.conn.execute(sql, {**keyed.clock(now), **params}).fetchall())


def _read(db: Database, name: str, now: datetime) -> Counter[tuple[Any, ...]]:
    k = keyed.KEYED[name]
    return Counter(tuple(r[c] for c in k.columns) for r in keyed.rows(db, name, now=now))


def _stored(db: Database, name: str) -> Counter[tuple[Any, ...]]:
    k = keyed.KEYED[name]
    return Counter(db.conn.execute(f"SELECT {', '.join(k.columns)} FROM {k.table}").fetchall())


def _rolled_recount(db: Database, now: datetime) -> Counter[tuple[Any, ...]]:
    k = keyed.ORDERS
    sql, params, _ = keyed._computed(db, k, None)
    return Counter(db.conn.execute(k.sums(f"({sql})"), {**keyed.clock(now), **params}).fetchall())


def _rolled(db: Database, now: datetime, stored: bool = False) -> Counter[tuple[Any, ...]]:
    k = keyed.ORDERS
    if stored:
        return Counter(db.conn.execute(f"SELECT {', '.join(k.rolled_columns)} FROM {k.rolled}").fetchall())
    return Counter(tuple(r[c] for c in k.rolled_columns) for r in keyed.rows(db, k.name, now=now, rolled=True))


def _writes(db: Database) -> None:
    """One of each kind of write the summaries must follow (sync updates, a webhook delete, a rename,
    our own reorder levels), in one transaction like a sync batch."""
    with transaction(db):
        db.execute("UPDATE quaderno_invoices SET amount_due = amount_due + 1 "
                   "WHERE rowid = (SELECT min(rowid) FROM quaderno_invoices WHERE amount_due > 0)")
        db.execute("UPDATE quaderno_invoices SET due_date = '2020-01-01' "
                   "WHERE rowid = (SELECT max(rowid) FROM quaderno_invoices WHERE amount_due > 0)")
        db.execute("DELETE FROM carrier_invoices WHERE rowid = (SELECT min(rowid) FROM carrier_invoices)")
        db.execute("UPDATE qasida_customers SET name = 'Renamed Customer Ltd' "
                   "WHERE customer_id = (SELECT customer_id FROM qasida_claims LIMIT 1)")
        db.execute("UPDATE qasida_stock_cards SET quantity = quantity + 7, available = NULL "
                   "WHERE rowid = (SELECT min(rowid) FROM qasida_stock_cards)")
        db.execute("DELETE FROM qasida_stock_cards WHERE rowid = (SELECT max(rowid) FROM qasida_stock_cards)")
        warehouse = db.execute("SELECT warehouse_id FROM qasida_stock_cards LIMIT 1").fetchone()[0]
        code = db.execute("SELECT code FROM qasida_products LIMIT 1").fetchone()[0]
        db.execute("UPDATE qargo_orders SET status = 'DELIVERED', delivery_date = '2020-02-02' "
                   "WHERE rowid = (SELECT min(rowid) FROM qargo_orders WHERE nullif(reference, '') IS NOT NULL)")
        db.execute("DELETE FROM qargo_orders WHERE rowid = (SELECT max(rowid) FROM qargo_orders)")
        db.execute("UPDATE qasida_customer_orders SET order_date = '2021-03-03', status = 'cancelled' "
                   "WHERE rowid = (SELECT min(rowid) FROM qasida_customer_orders)")
        db.execute("INSERT OR REPLACE INTO reorder_levels (product_code, warehouse_id, reorder_level, updated_at, "
                   "updated_by) VALUES (?, ?, 1000000, '2026-01-01T00:00:00.000Z', 'test')", [code, warehouse])


def test_readers_and_folds_equal_a_recount_after_writes(synced: Database, now: datetime) -> None:
    keyed.fold(synced, now)
    assert keyed.dirty(synced) == {}
    for name in keyed.KEYED:
        assert _stored(synced, name) == _recount(synced, name, now) != Counter(), name
    assert _rolled(synced, now, stored=True) == _rolled_recount(synced, now)
    _writes(synced)
    touched = keyed.dirty(synced)
    assert set(touched) == set(keyed.KEYED)
    # A reorder level names no stock card: the stock summary is recounted whole; nothing else said "all".
    assert synced.execute(f"SELECT summary FROM {keyed.DIRTY} WHERE key = '*'").fetchall() == [("stock_by_warehouse",)]
    # The party summary: the changed invoice's contact, the deleted carrier, the old and new customer name.
    assert 3 <= touched["outstanding_by_party"] <= 5
    assert 2 <= touched["orders_by_day"] <= 4  # the changed ERP and transport orders' numbers
    for name in keyed.KEYED:  # exact before any fold: clean keys stored, dirty ones computed
        assert _read(synced, name, now) == _recount(synced, name, now), name
    assert _rolled(synced, now) == _rolled_recount(synced, now) != _rolled(synced, now, stored=True)
    keyed.fold(synced, now)
    assert keyed.dirty(synced) == {}
    for name in keyed.KEYED:
        assert _stored(synced, name) == _recount(synced, name, now), name
    assert _rolled(synced, now, stored=True) == _rolled(synced, now) == _rolled_recount(synced, now)
    assert any(r["counterparty"] == "Renamed Customer Ltd" for r in keyed.rows(synced, "outstanding_by_party"))


def test_kpis_and_counts_are_the_same_read_from_summaries_or_rows(synced: Database, now: datetime,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _writes(synced)
    from_summaries = kpis.overview(synced, now)
    over_time = kpis.orders_over_time(synced, now)
    ordered = keyed.count(synced, "business_orders", {"matched__in": ["both"]}, now)
    aging = {d: kpis.aging(synced, now, None, d) for d in kpis.DIRECTIONS}
    counts = {(ds, i): keyed.count(synced, ds, f, now) for i, f in enumerate(({}, {"source__in": ["qasida"]}))
              for ds in ("invoices_outstanding", "receivables_outstanding", "payables_outstanding", "stock_levels")}
    monkeypatch.setattr(keyed, "answers", lambda *_: False)  # every figure from the rows themselves
    assert kpis.overview(synced, now) == from_summaries
    assert over_time.equals(kpis.orders_over_time(synced, now)) and not over_time.empty
    assert ordered == query_dataset(synced, "business_orders", {"matched__in": ["both"]}, limit=1, now=now).total > 0
    for direction, frame in aging.items():
        assert frame.equals(kpis.aging(synced, now, None, direction)), direction
    for (dataset, i), total in counts.items():
        filters = ({}, {"source__in": ["qasida"]})[i]
        if dataset == "stock_levels" and filters:
            assert total is None  # the stock summary has no source column: counted from the rows
            continue
        assert total == query_dataset(synced, dataset, filters, limit=1, now=now).total > 0, (dataset, filters)


def test_a_level_for_every_warehouse_marks_every_key(synced: Database, now: datetime) -> None:
    keyed.fold(synced, now)
    code = synced.execute("SELECT code FROM qasida_products LIMIT 1").fetchone()[0]
    with transaction(synced):
        synced.execute("INSERT OR REPLACE INTO reorder_levels (product_code, warehouse_id, reorder_level, "
                       "updated_at, updated_by) VALUES (?, '', 5, '2026-01-01T00:00:00.000Z', 'test')", [code])
    assert synced.execute(f"SELECT key FROM {keyed.DIRTY}").fetchall() == [("*",)]
    assert _read(synced, "stock_by_warehouse", now) == _recount(synced, "stock_by_warehouse", now)


_OUTSTANDING = ("outstanding_by_party", "outstanding_by_due", "outstanding_by_issue")


def test_a_write_is_recomputed_from_its_own_source_alone(synced: Database, now: datetime) -> None:
    """A carrier invoice (a webhook's write) notes its keys for Upwell only: a reader recomputes them from the
    carrier invoices and keeps the stored rows of other sources under the same key (here a Quaderno contact
    of the same name, whose invoices a recount by key alone would read again). Exact either way."""
    keyed.fold(synced, now)
    name = synced.execute("SELECT contact_name FROM quaderno_invoices WHERE amount_due > 0 LIMIT 1").fetchone()[0]
    with transaction(synced):  # a new carrier invoice from a carrier named like a Quaderno contact
        synced.execute("INSERT INTO carrier_invoices (invoice_id, invoice_number, carrier_id, carrier, currency, "
                       "total_amount, paid_amount, balance, status, issue_date, due_date, synced_at) VALUES "
                       "('ci-same-name', 'CI-1', 'carrier-x', ?, 'EUR', 12345, 0, 12345, 'RECEIVED', '2026-11-02', "
                       "'2026-12-02', '2026-11-02T00:00:00.000Z')", [name])
    noted = synced.execute(f"SELECT summary, key FROM {keyed.DIRTY} WHERE summary IN {_OUTSTANDING}").fetchall()
    assert noted and all(key.startswith("upwell" + keyed.SEP) for _, key in noted)
    assert ("outstanding_by_party", f"upwell{keyed.SEP}{name}") in noted
    _, _, replaced = keyed._computed(synced, keyed.BY_PARTY, [key for s, key in noted if s == "outstanding_by_party"])
    assert "source = 'upwell'" in replaced and "quaderno" not in replaced
    for summary in _OUTSTANDING:
        assert _read(synced, summary, now) == _recount(synced, summary, now), summary
    both = {r["source"] for r in keyed.rows(synced, "outstanding_by_party", now=now) if r["counterparty"] == name}
    assert {"quaderno", "upwell"} <= both
    # A key noted without its source (by an earlier version's trigger) recomputes every source's rows.
    with transaction(synced):
        synced.execute(f"UPDATE {keyed.DIRTY} SET key = substr(key, length('upwell') + 2) WHERE summary IN {_OUTSTANDING}")
    for summary in _OUTSTANDING:
        assert _read(synced, summary, now) == _recount(synced, summary, now), summary
    keyed.fold(synced, now)
    for summary in _OUTSTANDING:
        assert _stored(synced, summary) == _recount(synced, summary, now), summary


def test_a_stock_card_marks_its_own_key_and_the_rollup_follows(synced: Database, now: datetime) -> None:
    keyed.fold(synced, now)
    with transaction(synced):
        synced.execute("UPDATE qasida_stock_cards SET quantity = quantity + 5, available = NULL, warehouse = 'Moved' "
                       "WHERE rowid = (SELECT min(rowid) FROM qasida_stock_cards)")
    assert keyed.dirty(synced) == {"stock_by_warehouse": 1}
    rolled = Counter(tuple(r[c] for c in keyed.STOCK.rolled_columns)
                     for r in keyed.rows(synced, "stock_by_warehouse", now=now, rolled=True))
    sql, params, _ = keyed._computed(synced, keyed.STOCK, None)
    recount = Counter(synced.conn.execute(keyed.STOCK.sums(f"({sql})"), {**keyed.clock(now), **params}).fetchall())
    assert rolled == recount and any(r[1] == "Moved" for r in rolled)
    keyed.fold(synced, now)
    stored = Counter(synced.conn.execute(f"SELECT * FROM {keyed.STOCK.rolled}").fetchall())
    assert stored == recount


def test_ensure_is_idempotent_and_a_rolled_back_write_marks_nothing(synced: Database, now: datetime) -> None:
    assert migrate(synced) == [] and keyed.ensure(synced) == []
    keyed.fold(synced, now)
    with pytest.raises(RuntimeError), transaction(synced):
        synced.execute("UPDATE qasida_stock_cards SET quantity = 0")
        raise RuntimeError("the sync failed")
    assert keyed.dirty(synced) == {}


def test_the_largest_counterparties_first_and_how_many_there_are(synced: Database, now: datetime) -> None:
    from figures import details

    query = {"direction": "receivable"}
    every = details.totals_by_counterparty(synced, query, now=now)
    top = details.totals_by_counterparty(synced, query, now=now, limit=5)
    assert details.counterparties(synced, query, now=now) == len(every) > 5
    assert len(top) == 5 and all(t in every for t in top)
    assert [t["invoices"] for t in top] == sorted((t["invoices"] for t in every), reverse=True)[:5]


def test_a_kept_figure_read_from_summaries_is_rebuilt_after_a_write(synced: Database, now: datetime) -> None:
    from figures import summaries

    keyed.fold(synced, now)

    def payables(db: Database) -> kpis.Outstanding:
        return kpis.outstanding(db, now, "payable")

    before, token = summaries.read(synced, "test.payables", payables, today="2026-11-29")
    assert summaries.current(synced, summaries.key_of("test.payables"), "2026-11-29") == token
    with transaction(synced):
        assert synced.execute("UPDATE qasida_liabilities SET remains_to_be_paid = remains_to_be_paid + 100 "
                              "WHERE document_number = (SELECT invoice_number FROM payables_outstanding "
                              "WHERE source = 'qasida' LIMIT 1)").rowcount == 1
    assert summaries.current(synced, summaries.key_of("test.payables"), "2026-11-29") is None
    after, _ = summaries.read(synced, "test.payables", payables, today="2026-11-29")
    assert after.outstanding != before.outstanding
    keyed.fold(synced, now)  # a fold changes no figure, but the kept one is rebuilt once, to the same value
    again, _ = summaries.read(synced, "test.payables", payables, today="2026-11-29")
    assert again == after


def test_a_sync_page_marks_its_summaries_whole_and_its_rows_note_nothing(synced: Database, now: datetime) -> None:
    from store.store import upsert_records

    keyed.fold(synced, now)
    cards = [dict(r) for r in synced.query(f"SELECT * FROM qasida_stock_cards LIMIT {keyed.MAX_KEYS}")]
    assert len(cards) == keyed.MAX_KEYS
    from store.versions import table_versions

    before = table_versions(synced)["qasida_stock_cards"]
    upsert_records(synced, "qasida_stock_cards", [{**c, "quantity": (c["quantity"] or 0) + 1} for c in cards],
                   "stock_card_id")
    # the summary is to be recounted; the bulk mark did not outlive the page's transaction
    assert synced.execute(f"SELECT summary, key FROM {keyed.DIRTY}").fetchall() == [("stock_by_warehouse", "*")]
    after = table_versions(synced)["qasida_stock_cards"]
    assert after > before  # bumped once for the page, not once per row
    assert after - before < len(cards)
    assert _read(synced, "stock_by_warehouse", now) == _recount(synced, "stock_by_warehouse", now)
    upsert_records(synced, "qasida_stock_cards", [{**cards[0], "quantity": 0}], "stock_card_id")  # a webhook-sized write
    assert keyed.dirty(synced) == {"stock_by_warehouse": 1}  # still "*": nothing more to note
    assert table_versions(synced)["qasida_stock_cards"] > after  # a single row bumps the version again
    keyed.fold(synced, now)
    upsert_records(synced, "qasida_stock_cards", [{**cards[0], "quantity": 5}], "stock_card_id")
    assert synced.execute(f"SELECT key FROM {keyed.DIRTY}").fetchall() not in ([], [("*",)])
    assert keyed.dirty(synced) == {"stock_by_warehouse": 1}
