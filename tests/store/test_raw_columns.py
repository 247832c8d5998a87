"""Raw JSON stored one way (issue 19): dataset SQL never reads `raw`; the fields it reads are columns the
mappers fill; `raw` is compressed alike in every table and decoded only where a details page shows it; a
database written by the old code (plain-key envelopes) converts with 0023_raw_fields_as_columns and reads
the same figures."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from figures import kpis
from figures.details import invoice_details, order_details
from store import rawstore
from store.datasets import DATASETS
from store.db import connect
from store.migrations import MIGRATIONS
from store.queries import query_dataset
from store.schema import migrate
from store.store import upsert_records

TODAY = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
S = "2025-03-01T00:00:00.000Z"
_RAW = re.compile(r"\braw\b|json_extract", re.IGNORECASE)


@pytest.mark.sqlite_only("reads the views' SQL from sqlite_master (PostgreSQL's pg_views text expands a SELECT * "
                         "into every column, raw included); the dataset SQL checked is the same on both")
def test_no_dataset_sql_reads_raw(db: Database) -> None:
    assert [name for name, d in DATASETS.items() if _RAW.search(d.sql)] == []
    views = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall()
    assert views and [name for name, sql in views if _RAW.search(sql)] == []


def test_the_pattern_catches_what_the_old_sql_did() -> None:
    # what stock_levels read before issue 19: the test above must be able to fail
    assert _RAW.search("coalesce(p.code, json_extract(s.raw, '$.productCode'))")
    assert _RAW.search("SELECT o.raw FROM qasida_customer_orders AS o")
    assert not _RAW.search("SELECT s.product_code, o.warehouse_id, raw_dicts_seen FROM x")


def _invoice(i: int) -> dict[str, object]:
    return {"invoice_id": f"q{i}", "number": f"INV-{i}", "currency": "EUR", "amount_due": 100, "state": "outstanding",
            "synced_at": S,
            "raw": {"id": i, "number": f"INV-{i}", "state": "outstanding", "permalink": "https://x.example/" + "a" * 60,
                    "items": [{"description": f"Drum {i}", "quantity": "4.0", "subtotal_cents": 519044 + i}],
                    "payments": [{"date": "2025-03-02", "payment_method": "wire_transfer", "amount_cents": 1050}]}}


def test_details_pages_decode_the_compressed_raw(db: Database) -> None:
    upsert_records(db, "quaderno_invoices", [_invoice(i) for i in range(8)], "invoice_id")
    stored = db.execute("SELECT raw FROM quaderno_invoices WHERE number = 'INV-3'").fetchone()[0]
    assert stored.startswith(rawstore.PREFIX)
    details = invoice_details(db, "quaderno", "INV-3")
    assert [(i["description"], i["quantity"], i["total"]) for i in details.items] == [("Drum 3", "4.0", "5190.47")]
    assert [(p["date"], p["method"], p["amount"]) for p in details.payments] == [
        ("2025-03-02", "wire_transfer", "10.50")]


# --- a database written by the old code ------------------------------------------------------------------------

_ZDICT = ('{"productCode": "NUT", "warehouseId": 1, "productName": "Light Drum", "warehouseName": "Brno", '
          '"orderNumber": "SO-1", "clientCustomerName": "Acme", "issueDate": "2025-03-09"}\n' * 20).encode()


def _envelope(text: str, dict_id: str, keys: tuple[str, ...]) -> str:
    """The form the old rawstore wrote for tables whose raw a dataset's SQL read with json_extract."""
    packed = rawstore.encode(text, dict_id, _ZDICT)
    assert packed.startswith(f"z:{dict_id}:")
    record = json.loads(text)
    plain = "".join(f'"{k}":{json.dumps(record[k])},' for k in keys if k in record)
    return "{" + plain + f'"~z":"{packed[2:]}"}}'


def _card(product_code: str) -> str:
    return json.dumps({"productCode": product_code, "warehouseId": 1, "warehouseName": "Brno",
                       "productName": "Light Drum " * 6})


def _order(number: str, warehouse: int | None) -> str:
    record: dict[str, object] = {"orderNumber": number, "clientCustomerName": "Acme " * 10, "issueDate": "2025-03-09"}
    if warehouse is not None:
        record["warehouseId"] = warehouse
    return json.dumps(record)


def _old_database(path: Path) -> tuple[Database, dict[tuple[str, str], str]]:
    """Migrated up to 0023 and filled as the old writer left it: envelope rows where dataset SQL read keys,
    a plain row, and a `z:` row. Returns the database and each row's raw JSON text (table, id) -> text."""
    db = connect(path)
    MIGRATIONS.apply(db, stop_before="0023_raw_fields_as_columns")
    assert "product_code" not in db["qasida_stock_cards"].columns_dict
    for dict_id, table in (("oldcards", "qasida_stock_cards"), ("oldorders", "qasida_customer_orders")):
        db.execute("INSERT INTO raw_dicts (dict_id, table_name, zdict) VALUES (?, ?, ?)", [dict_id, table, _ZDICT])
    texts = {("qasida_stock_cards", "s1"): _card("NUT"), ("qasida_stock_cards", "s2"): _card("BOLT"),
             ("qasida_customer_orders", "o1"): _order("SO-1", 1), ("qasida_customer_orders", "o2"): _order("SO-2", None),
             ("qasida_customer_orders", "o3"): _order("SO-3", 2)}
    stored = {("qasida_stock_cards", "s1"): _envelope(texts["qasida_stock_cards", "s1"], "oldcards",
                                                      ("productCode",)),
              ("qasida_stock_cards", "s2"): texts["qasida_stock_cards", "s2"],  # plain (stored before issue 12)
              ("qasida_customer_orders", "o1"): _envelope(texts["qasida_customer_orders", "o1"], "oldorders",
                                                          ("warehouseId",)),
              ("qasida_customer_orders", "o2"): _envelope(texts["qasida_customer_orders", "o2"], "oldorders",
                                                          ("warehouseId",)),  # no warehouse: no plain key
              ("qasida_customer_orders", "o3"): rawstore.encode(texts["qasida_customer_orders", "o3"], "oldorders",
                                                                _ZDICT)}
    assert stored["qasida_customer_orders", "o3"].startswith("z:")
    assert stored["qasida_stock_cards", "s1"].startswith('{"productCode":"NUT","~z":"oldcards:')
    for card, product, available in (("s1", "Nut", 5.0), ("s2", "Bolt", 60.0)):
        db.table("qasida_stock_cards").insert({
            "stock_card_id": card, "warehouse_id": "1", "warehouse": "Brno", "product_id": f"p-{product}",
            "product": product, "quantity": available, "reserved": 0.0, "available": available,
            "raw": stored["qasida_stock_cards", card], "synced_at": S})
    for order, day in (("o1", "2025-03-09"), ("o2", "2025-03-08"), ("o3", "2025-03-07")):
        db.table("qasida_customer_orders").insert({"order_id": order, "number": order.upper(), "order_date": day,
                                             "raw": stored["qasida_customer_orders", order], "synced_at": S})
    db.table("qasida_customer_order_lines").insert_all([
        {"order_id": "o1", "line_no": 1, "product_id": "p-Nut", "quantity": 30.0, "synced_at": S},    # Brno: 1/day
        {"order_id": "o1", "line_no": 2, "product_id": "p-Bolt", "quantity": 60.0, "synced_at": S},   # Brno: 2/day
        {"order_id": "o2", "line_no": 1, "product_id": "p-Bolt", "quantity": 30.0, "synced_at": S},   # anywhere: 1/day
        {"order_id": "o3", "line_no": 1, "product_id": "p-Nut", "quantity": 300.0, "synced_at": S}])  # Praha only
    # Nut: 10 everywhere, lead time 5 days; Bolt: 60 in Brno (warehouse "1"), lead time 2 days.
    for code, warehouse, level, lead in (("NUT", "", 10.0, 5.0), ("BOLT", "1", 60.0, 2.0)):
        db.execute("INSERT INTO reorder_levels VALUES (?, ?, ?, ?, ?, 'test')", [code, warehouse, level, lead, S])
    return db, texts


@pytest.mark.sqlite_only("PostgreSQL starts at the squashed baseline 0023: no PostgreSQL database was written "
                         "by the pre-0023 code, so there is nothing to convert there")
def test_a_database_written_by_the_old_code_converts_and_reads_the_same_figures(tmp_path: Path) -> None:
    db, texts = _old_database(tmp_path / "old.db")
    try:
        assert "0023_raw_fields_as_columns" in migrate(db)
        for (table, key), text in texts.items():
            pk = "stock_card_id" if table == "qasida_stock_cards" else "order_id"
            stored = db.execute(f"SELECT raw FROM {table} WHERE {pk} = ?", [key]).fetchone()[0]
            assert "~z" not in stored  # one form: z: (or plain, as the plain row was)
            assert stored.startswith("z:") or stored == text
            assert rawstore.decode(db, stored) == text  # the vendor record, byte for byte
        assert dict(db.execute("SELECT stock_card_id, product_code FROM qasida_stock_cards")) == {
            "s1": "NUT", "s2": "BOLT"}
        assert dict(db.execute("SELECT order_id, warehouse_id FROM qasida_customer_orders")) == {
            "o1": "1", "o2": None, "o3": "2"}  # CAST(json_extract(raw, '$.warehouseId') AS TEXT), as the SQL read
        rows = query_dataset(db, "stock_levels", now=TODAY).rows
        got = [(r["product"], r["product_code"], r["reorder_level"], r["below_reorder_level"], r["days_of_cover"],
                r["runs_out_before_next_delivery"]) for r in rows]
        # Nut in Brno: 5 left / 1 a day (o3's 10 a day are Praha's) = 5 days, lead time 5: just in time.
        # Bolt in Brno: 60 at its level of 60 (below); 60 / (2 + 1 from o2, which names no warehouse) = 20 days.
        assert got == [("Bolt", "BOLT", 60.0, 1, 20.0, 0), ("Nut", "NUT", 10.0, 1, 5.0, 0)]
        stock = kpis.overview(db, TODAY).stock
        assert (stock.below_reorder_level, stock.no_level) == (2, 0)
        order = order_details(db, "qasida", "o1").order
        assert order is not None and order["warehouse_id"] == "1"
    finally:
        db.close()


@pytest.mark.sqlite_only("PostgreSQL starts at the squashed baseline 0023: no PostgreSQL database was written "
                         "by the pre-0023 code, so there is nothing to convert there")
def test_the_migration_leaves_a_record_that_only_looks_like_an_envelope(tmp_path: Path) -> None:
    db = connect(tmp_path / "old.db")
    try:
        MIGRATIONS.apply(db, stop_before="0023_raw_fields_as_columns")
        odd = '{"productCode": "X", "~z": "not-a-dictionary:AAAA"}'  # a vendor key named ~z, no such dictionary
        db.table("qasida_stock_cards").insert({"stock_card_id": "s1", "raw": odd, "synced_at": S})
        migrate(db)
        assert db.execute("SELECT raw, product_code FROM qasida_stock_cards").fetchone() == (odd, "X")
    finally:
        db.close()
