"""Upserts, sync-run bookkeeping and checkpoints."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlite_utils import Database

from store.store import (
    UpsertResult,
    finish_sync_run,
    get_checkpoint,
    mark_gone,
    set_checkpoint,
    start_sync_run,
    upsert_records,
)
from tests.conftest import NOW


def _orders(ids: range, status: str) -> list[dict[str, object]]:
    return [{"order_id": f"o{i}", "reference": f"R{i}", "status": status, "raw": {"id": i},
             "synced_at": NOW} for i in ids]


@pytest.mark.parametrize(("first", "second", "expected"), [
    (range(0), range(5), UpsertResult(5, 0)),
    (range(5), range(5), UpsertResult(0, 5)),
    (range(5), range(3, 8), UpsertResult(3, 2)),
    (range(1000), range(500, 1600), UpsertResult(600, 500)),  # crosses the 500-key probe chunk
])
def test_upsert_counts(db: Database, first: range, second: range, expected: UpsertResult) -> None:
    upsert_records(db, "qargo_orders", _orders(first, "NEW"), "order_id")
    assert upsert_records(db, "qargo_orders", _orders(second, "DONE"), "order_id") == expected
    total = len(set(first) | set(second))
    assert db.execute("SELECT count(*) FROM qargo_orders").fetchone()[0] == total
    assert db.execute("SELECT count(*) FROM qargo_orders WHERE status = 'DONE'").fetchone()[0] == len(second)


def test_upsert_is_idempotent_and_adapts_values(db: Database) -> None:
    rows = [{"charge_id": "c1", "order_id": "o1", "amount": Decimal("12.30"), "currency": "EUR",
             "raw": {"b": 1, "a": [1, 2]}, "synced_at": NOW}]
    upsert_records(db, "qargo_charges", rows, "charge_id")
    upsert_records(db, "qargo_charges", rows, "charge_id")
    stored = db.execute("SELECT amount, raw, synced_at FROM qargo_charges").fetchall()
    assert stored == [("12.30", json.dumps({"a": [1, 2], "b": 1}), "2025-03-10T12:00:00.000Z")]


def test_duplicate_keys_in_one_batch(db: Database) -> None:
    rows = _orders(range(2), "A") + _orders(range(1), "B")
    assert upsert_records(db, "qargo_orders", rows, "order_id") == UpsertResult(2, 1)
    assert db.execute("SELECT status FROM qargo_orders WHERE order_id = 'o0'").fetchone()[0] == "B"


@pytest.mark.sqlite_only('counting inserts by rowid; PostgreSQL counts by key lookup')
def test_counts_after_deletes_and_hand_inserted_rowids(db: Database) -> None:
    """New rows are counted as those above the largest rowid before the write: deleted rows (whose
    keys come back as inserts) and a rowid set by hand far above the others do not change the counts."""
    upsert_records(db, "qargo_orders", _orders(range(10), "NEW"), "order_id")
    db.execute("DELETE FROM qargo_orders WHERE order_id IN ('o8', 'o9')")
    db.execute("UPDATE qargo_orders SET rowid = 1000 WHERE order_id = 'o3'")
    assert upsert_records(db, "qargo_orders", _orders(range(5, 12), "DONE"), "order_id") == UpsertResult(4, 3)
    assert db.execute("SELECT count(*) FROM qargo_orders").fetchone()[0] == 12


def test_counts_when_rows_bring_their_own_rowid(db: Database) -> None:
    """A table whose key is its rowid (INTEGER PRIMARY KEY) gets keys anywhere: the keys are looked up."""
    def run(run_id: int) -> dict[str, object]:
        return {"run_id": run_id, "vendor": "qargo", "resource": "orders", "started_at": NOW, "status": "ok"}

    upsert_records(db, "sync_runs", [run(50)], "run_id")
    assert upsert_records(db, "sync_runs", [run(7), run(50), run(9)], "run_id") == UpsertResult(2, 1)


@pytest.mark.sqlite_only('counting inserts by rowid; PostgreSQL counts by key lookup')
def test_counts_in_a_table_without_rowid(db: Database) -> None:
    db.execute("CREATE TABLE plain (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID")
    upsert_records(db, "plain", [{"k": "a", "v": 1}], "k")
    assert upsert_records(db, "plain", [{"k": "a", "v": 2}, {"k": "b", "v": 3}], "k") == UpsertResult(1, 1)


def test_composite_key_and_insert_only(db: Database) -> None:
    def row(seen: object, status: str) -> dict[str, object]:
        return {"shipment_reference": "S1", "provider_invoice_number": "P1", "invoice_status": status,
                "first_seen_at": seen, "last_seen_at": seen, "gone_from_vendor_at": None, "synced_at": seen}

    later = NOW + timedelta(hours=1)
    upsert_records(db, "cargobase_invoices", [row(NOW, "awaiting_audit")], ("shipment_reference",
                   "provider_invoice_number"), insert_only=("first_seen_at",))
    result = upsert_records(db, "cargobase_invoices", [row(later, "approved")],
                            ("shipment_reference", "provider_invoice_number"), insert_only=("first_seen_at",))
    assert result == UpsertResult(0, 1)
    assert db.execute("SELECT first_seen_at, last_seen_at, invoice_status FROM cargobase_invoices").fetchone() == (
        "2025-03-10T12:00:00.000Z", "2025-03-10T13:00:00.000Z", "approved")


def test_mark_gone_keeps_history(db: Database) -> None:
    key = ("shipment_reference", "provider_invoice_number")
    old = {"shipment_reference": "S1", "provider_invoice_number": "", "first_seen_at": NOW,
           "last_seen_at": NOW, "synced_at": NOW}
    new = old | {"shipment_reference": "S2", "last_seen_at": NOW + timedelta(days=1)}
    upsert_records(db, "cargobase_invoices", [old, new], key)
    assert mark_gone(db, "cargobase_invoices", not_seen_since="2025-03-11T00:00:00.000Z", now=NOW) == 1
    rows = db.execute("SELECT shipment_reference, gone_from_vendor_at FROM cargobase_invoices "
                      "ORDER BY 1").fetchall()
    assert rows == [("S1", "2025-03-10T12:00:00.000Z"), ("S2", None)]


@pytest.mark.parametrize(("table", "row", "message"), [
    ("no_such_table", {"x": 1}, "unknown table"),
    ("qargo_orders", {"order_id": "1", "bogus; DROP TABLE x": 1}, "unknown columns"),
])
def test_upsert_rejects_unknown_identifiers(db: Database, table: str, row: dict[str, object],
                                            message: str) -> None:
    with pytest.raises(ValueError, match=message):
        upsert_records(db, table, [row], "order_id")


def test_a_column_added_after_a_write_is_known_and_a_bogus_one_still_refused(db: Database) -> None:
    db.execute("CREATE TABLE notes (note_id TEXT PRIMARY KEY)")
    upsert_records(db, "notes", [{"note_id": "1"}], "note_id")  # the connection keeps the columns it saw
    db.execute("ALTER TABLE notes ADD COLUMN added_later TEXT")

    upsert_records(db, "notes", [{"note_id": "1", "added_later": "x"}], "note_id")
    with pytest.raises(ValueError, match="unknown columns for notes: bogus"):
        upsert_records(db, "notes", [{"note_id": "1", "bogus": 1}], "note_id")

    assert db.execute("SELECT note_id, added_later FROM notes").fetchall() == [("1", "x")]


def test_empty_upsert(db: Database) -> None:
    assert upsert_records(db, "qargo_orders", [], "order_id") == UpsertResult(0, 0)


def test_sync_run_and_checkpoint(db: Database) -> None:
    run_id = start_sync_run(db, "qargo", "orders", now=NOW)
    finish_sync_run(db, run_id, pages=3, inserted=10, updated=2, now=NOW + timedelta(seconds=5))
    failed = start_sync_run(db, "qargo", "orders", now=NOW)
    finish_sync_run(db, failed, error="Qargo rejected the client id: check QARGO_CLIENT_ID", now=NOW)
    rows = db.execute("SELECT status, pages, inserted, updated, finished_at FROM sync_runs ORDER BY run_id")
    assert rows.fetchall() == [("ok", 3, 10, 2, "2025-03-10T12:00:05.000Z"),
                               ("error", 0, 0, 0, "2025-03-10T12:00:00.000Z")]
    assert get_checkpoint(db, "qargo", "orders") is None
    set_checkpoint(db, "qargo", "orders", "c1", "2025-03-10T11:59:00Z", now=NOW)
    set_checkpoint(db, "qargo", "orders", "c2", None, now=NOW)
    assert get_checkpoint(db, "qargo", "orders") == {"cursor": "c2", "server_time": None,
                                                     "updated_at": "2025-03-10T12:00:00.000Z"}


# --- raw vendor JSON compressed (store/rawstore.py, issue 12) ------------------------------------

def _invoices(n: int) -> list[dict[str, object]]:
    return [{"invoice_id": f"q{i}", "number": f"INV-{i:07d}", "currency": "EUR", "amount_due": 100 + i,
             "state": "outstanding", "synced_at": NOW,
             "raw": {"id": i, "number": f"INV-{i:07d}", "state": "outstanding", "contact": {"full_name": f"C {i}",
                     "email": None, "country": None, "tax_id": None}, "items": [{"description": f"Drum {i}",
                     "quantity": "4.0", "subtotal_cents": 519044 + i, "tax_rate": None}],
                     "permalink": f"https://quadernoapp.example/invoice/{i:040d}"}} for i in range(n)]


def test_raw_json_is_stored_compressed_and_reads_back_exactly(db: Database) -> None:
    from store.rawstore import PREFIX, decode

    rows = _invoices(50)
    upsert_records(db, "quaderno_invoices", rows, "invoice_id")
    stored = dict(db.execute("SELECT invoice_id, raw FROM quaderno_invoices").fetchall())
    assert all(text.startswith(PREFIX) for text in stored.values())
    plain = json.dumps(rows[7]["raw"], sort_keys=True)
    assert decode(db, stored["q7"]) == plain
    assert sum(map(len, stored.values())) < 0.5 * sum(len(json.dumps(r["raw"])) for r in rows)
    # the columns every dataset and export reads are untouched
    assert db.execute("SELECT amount_due, number FROM quaderno_invoices WHERE invoice_id = 'q7'").fetchone() == (
        107, "INV-0000007")


def test_a_later_batch_uses_the_tables_first_dictionary(db: Database) -> None:
    from store.rawstore import decode

    upsert_records(db, "quaderno_invoices", _invoices(20), "invoice_id")
    upsert_records(db, "quaderno_invoices", _invoices(30)[20:], "invoice_id")
    assert db.execute("SELECT count(*) FROM raw_dicts WHERE table_name = 'quaderno_invoices'").fetchone()[0] == 1
    text = db.execute("SELECT raw FROM quaderno_invoices WHERE invoice_id = 'q25'").fetchone()[0]
    assert json.loads(decode(db, text) or "")["number"] == "INV-0000025"


def test_every_table_stores_raw_in_the_one_compressed_form(db: Database) -> None:
    """Issue 19: the tables whose fields a dataset reads (stock cards: product code and warehouse) store raw
    like any other (`z:`), no plain keys beside it; the fields are columns."""
    from store.rawstore import PREFIX, decode

    rows = [{"stock_card_id": f"s{i}", "product": "P", "product_code": f"SKU-{i:06d}", "synced_at": NOW,
             "raw": {"productCode": f"SKU-{i:06d}", "warehouseId": 44, "productName": "Light Drum " * 20,
                     "quantity": "295.000", "unitPrice": 1276.24}} for i in range(6)]
    upsert_records(db, "qasida_stock_cards", rows, "stock_card_id")
    text = db.execute("SELECT raw FROM qasida_stock_cards WHERE stock_card_id = 's3'").fetchone()[0]
    assert text.startswith(PREFIX) and "productCode" not in text and "~z" not in text
    assert decode(db, text) == json.dumps(rows[3]["raw"], sort_keys=True)
    assert len(text) < len(json.dumps(rows[3]["raw"])) / 2


def test_encode_has_no_plain_key_form() -> None:
    from store import rawstore

    zdict = b"Light Drum " * 50
    text = json.dumps({"productCode": 1.10, "name": "Light Drum " * 30})
    stored = rawstore.encode(text, "test-one-form", zdict)
    assert stored.startswith("z:test-one-form:")
    rawstore._DICTS.setdefault("test-one-form", zdict)  # what table_dictionary registers
    assert rawstore.decode(None, stored) == text


def test_small_raw_stays_plain_and_plain_raw_decodes_as_itself(db: Database) -> None:
    from store.rawstore import decode

    assert decode(db, '{"a": 1}') == '{"a": 1}' and decode(db, None) is None


@pytest.mark.sqlite_only('compress_existing walks rowids, for SQLite files written before raw was compressed')
def test_compress_existing_rows_in_place(db: Database) -> None:
    from store import rawstore

    rawstore.ENABLED = False
    try:
        upsert_records(db, "quaderno_invoices", _invoices(40), "invoice_id")
    finally:
        rawstore.ENABLED = True
    plain = dict(db.execute("SELECT invoice_id, raw FROM quaderno_invoices").fetchall())
    assert not any(text.startswith(rawstore.PREFIX) for text in plain.values())
    assert rawstore.compress_existing(db)["quaderno_invoices"] == 40
    stored = dict(db.execute("SELECT invoice_id, raw FROM quaderno_invoices").fetchall())
    assert {k: rawstore.decode(db, v) for k, v in stored.items()} == plain
    assert rawstore.compress_existing(db)["quaderno_invoices"] == 0  # nothing left to do


def test_order_details_read_compressed_raw(db: Database) -> None:
    from figures.details import order_details

    stops = [{"id": f"s{i}", "activity_label": f"Stop {i}", "location": {"name": f"Depot {i}", "city": "Hamburg"}}
             for i in range(3)]
    rows = [{"order_id": f"o{i}", "reference": f"R{i}", "status": "PLANNED", "synced_at": NOW,
             "raw": {"id": f"o{i}", "stops": stops, "note": "x" * 80}} for i in range(6)]
    upsert_records(db, "qargo_orders", rows, "order_id")
    assert db.execute("SELECT raw FROM qargo_orders WHERE order_id = 'o2'").fetchone()[0].startswith("z:")
    assert [s["stop"] for s in order_details(db, "qargo", "o2").stops] == ["Stop 0", "Stop 1", "Stop 2"]


@pytest.mark.sqlite_only("compress_existing walks rowids, for SQLite files written before raw was compressed")
def test_datasets_read_the_same_from_compressed_raw(db: Database) -> None:
    """Every dataset row is the same whether raw was stored plain or compressed (exports read these)."""
    from store import rawstore
    from store.datasets import DATASETS
    from store.queries import iter_dataset

    rows = [{"stock_card_id": f"s{i}", "product_id": f"p{i}", "product": "P", "warehouse_id": "44",
             "warehouse": "Berlin", "quantity": 3.0, "product_code": f"SKU-{i:06d}", "synced_at": NOW,
             "raw": {"productCode": f"SKU-{i:06d}", "warehouseId": 44, "productName": "Light Drum " * 20}}
            for i in range(6)]

    def snapshot() -> dict[str, list[dict[str, object]]]:
        return {name: list(iter_dataset(db, name, now=NOW)) for name in sorted(DATASETS)}

    rawstore.ENABLED = False
    try:
        upsert_records(db, "qasida_stock_cards", rows, "stock_card_id")
        upsert_records(db, "quaderno_invoices", _invoices(10), "invoice_id")
    finally:
        rawstore.ENABLED = True
    plain = snapshot()
    assert rawstore.compress_existing(db)["qasida_stock_cards"] == 6
    assert snapshot() == plain
