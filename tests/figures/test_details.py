"""figures.details: order and invoice details, totals, aging, warehouse totals, tax explanations.

`seed_details` is also the seed of the page tests (tests/pages/test_orders.py and siblings), so the
figures asserted there are computed from the same rows as here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlite_utils import Database

from figures import details
from store.store import upsert_records

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
S = "2025-03-01T00:00:00.000Z"

_ORDER_RAW = {
    "id": "O1", "stops": [
        {"id": "s1", "activity_label": "Pickup", "status": "DONE", "date": "2025-03-01",
         "location": {"name": "Depot", "postal_code": "1000", "city": "Brussels", "country": "BE"},
         "time_window": {"start_time": "08:00", "end_time": "10:00"}},
        {"id": "s2", "activity_label": "Delivery", "status": "PLANNED", "date": "2025-03-05",
         "location": {"display_name": "Shop", "city": "Ghent"}}],
    "consignments": [{"id": "c1", "consignment_reference_number": "CN-1", "goods": [
        {"id": "g1", "quantity": 3, "total_weight_kg": "120.5", "product": {"name": "Pallet"}}]}],
}
_INVOICE_RAW = {"items": [{"description": "Freight", "quantity": "1.0", "total_amount_cents": 12000}],
                "payments": [{"date": "2025-03-02", "payment_method": "wire_transfer", "amount_cents": 5000}]}


def seed_details(db: Database) -> None:
    """A small, fixed world: 3 business orders (SO-1 in the ERP and in Qargo), 4 receivables and 3
    payables over 5 sources, stock in 2 warehouses with our reorder levels and ERP order demand."""
    _seed_orders(db)
    _seed_invoices(db)
    _seed_tax_and_stock(db)


def _seed_orders(db: Database) -> None:
    upsert_records(db, "qargo_orders", [
        {"order_id": "O1", "order_identifier": "ID-1", "reference": "REF-A1", "customer": "Acme",
         "status": "PLANNED", "pickup_date": "2025-03-01", "delivery_date": "2025-03-05",
         "raw": json.dumps(_ORDER_RAW), "synced_at": S},
        {"order_id": "O2", "order_identifier": "ID-2", "reference": "REF-B2", "customer": "Beta",
         "status": "COMPLETED", "pickup_date": "2025-03-03", "delivery_date": "2025-03-04", "raw": "{}",
         "synced_at": S},
        {"order_id": "O3", "order_identifier": "ID-3", "reference": "SO-1", "customer": "Acme NV",
         "status": "IN_TRANSIT", "pickup_date": "2025-03-09", "delivery_date": "2025-03-12", "raw": "{}",
         "synced_at": S},
    ], "order_id")
    upsert_records(db, "qasida_customer_orders", [
        {"order_id": "C1", "number": "SO-1", "customer": "Acme", "status": "open", "order_date": "2025-03-08",
         "warehouse_id": "w1", "raw": json.dumps({"warehouseId": "w1"}), "synced_at": S}], "order_id")
    upsert_records(db, "qasida_customer_order_lines", [
        {"order_id": "C1", "line_no": 1, "product_id": "p1", "quantity": 300.0, "synced_at": S}],
        ("order_id", "line_no"))
    upsert_records(db, "qargo_charges", [
        {"charge_id": "CH1", "order_id": "O1", "description": "Fuel", "amount": "12.50", "currency": "EUR",
         "status": "CREATED", "approval_status": "REQUESTED", "synced_at": S},
        {"charge_id": "CH2", "order_id": "O1", "description": "Waiting", "amount": "30.00", "currency": "EUR",
         "status": "CREATED", "approval_status": "APPROVED", "synced_at": S}], "charge_id")
    upsert_records(db, "qargo_documents", [
        {"document_id": "D1", "order_id": "O1", "document_type": "CMR", "file_name": "cmr.pdf", "synced_at": S}],
        "document_id")
    upsert_records(db, "order_uploads", [
        {"upload_id": "U1", "order_identifier": "ID-1", "operation": "create", "status": "done",
         "created_at": "2025-02-27T09:00:00.000Z", "updated_at": S},
        {"upload_id": "U2", "order_identifier": "ID-1", "operation": "update", "status": "error",
         "error": "postal code missing", "created_at": "2025-02-28T09:00:00.000Z", "updated_at": S}], "upload_id")
    upsert_records(db, "qargo_order_events", [
        {"event_id": "E2", "order_id": "O1", "event_type": "STOP:ARRIVED", "occurred_at": "2025-03-02T10:00:00.000Z",
         "received_at": S},
        {"event_id": "E1", "order_id": "O1", "event_type": "STOP:COMPLETED", "occurred_at": "2025-03-01T10:00:00.000Z",
         "received_at": S}], "event_id")


def _seed_invoices(db: Database) -> None:
    upsert_records(db, "quaderno_invoices", [
        {"invoice_id": "q1", "number": "Q-1", "contact_name": "Acme", "currency": "EUR", "total": 12000,
         "amount_due": 7000, "state": "outstanding", "due_date": "2025-03-15", "raw": json.dumps(_INVOICE_RAW),
         "synced_at": S},
        {"invoice_id": "q2", "number": "Q-2", "contact_name": "Acme", "currency": "EUR", "total": 2550,
         "amount_due": 2550, "state": "late", "due_date": "2025-01-20", "raw": "{}", "synced_at": S},
        {"invoice_id": "q3", "number": "Q-3", "contact_name": "Beta", "currency": "USD", "total": 1000,
         "amount_due": 1000, "state": "late", "due_date": "2024-11-01", "raw": "{}", "synced_at": S},
        {"invoice_id": "q4", "number": "Q-4", "contact_name": "Paid Co", "currency": "EUR", "total": 1,
         "amount_due": 0, "state": "paid", "due_date": "2024-11-01", "raw": "{}", "synced_at": S}], "invoice_id")
    upsert_records(db, "qasida_customers", [
        {"customer_id": "d1", "name": "Delta", "synced_at": S},
        {"customer_id": "e1", "name": "Eps Supplies", "synced_at": S}], "customer_id")
    upsert_records(db, "qasida_claims", [
        {"invoice_id": "101", "customer_id": "d1", "document_number": "FV-1", "currency": "CZK",
         "invoiced_amount": "999.99", "remains_to_be_paid": "999.99", "due_date": "2025-02-01", "synced_at": S},
        {"invoice_id": "102", "customer_id": "d1", "document_number": "FV-2", "currency": "CZK",
         "remains_to_be_paid": "5", "due_date": "2025-02-01", "settled_at": S, "synced_at": S}], "invoice_id")
    upsert_records(db, "qasida_liabilities", [
        {"invoice_id": "201", "customer_id": "e1", "document_number": "LB-1", "currency": "CZK",
         "remains_to_be_paid": "12.345", "due_date": "2025-03-20", "synced_at": S}], "invoice_id")
    upsert_records(db, "cargobase_invoices", [
        {"shipment_reference": "S1", "provider_invoice_number": "PI-1", "invoice_status": "awaiting_audit",
         "provider_name": "Fwd", "submit_date": "2025-03-03", "first_seen_at": S, "last_seen_at": S,
         "synced_at": S}], ("shipment_reference", "provider_invoice_number"))
    upsert_records(db, "carrier_invoices", [
        {"invoice_id": "inv-1", "invoice_number": "CI-1", "carrier_id": "carr-9", "currency": "EUR",
         "total_amount": 20000, "paid_amount": 5000, "balance": 15000, "status": "RECEIVED",
         "due_date": "2025-04-01", "synced_at": S}], "invoice_id")
    for n, operation in enumerate(("INSERT", "UPDATE"), start=1):
        db.execute("INSERT INTO webhook_events (source, event_id, operation, resource_id, received_at, outcome) "
                   "VALUES ('upwell', ?, ?, 'inv-1', ?, 'accepted')", [f"ev{n}", operation, f"2025-03-0{n}T00:00:00Z"])


def _seed_tax_and_stock(db: Database) -> None:
    for n, status in enumerate(("taxable", "not_registered", "reverse_charge"), start=1):
        db.execute("INSERT INTO tax_calculations (calculated_at, requested_by, from_country, to_country, currency, "
                   "amount, rate, tax_amount, status) VALUES (?, 'ann', 'BE', ?, 'EUR', 10000, ?, ?, ?)",
                   [f"2025-03-0{n}T00:00:00Z", ["BE", "US", "DE"][n - 1], ["21", "0", "0"][n - 1],
                    [2100, 0, 0][n - 1], status])
    for n, result in enumerate(("valid", "invalid", "unavailable"), start=1):
        db.execute("INSERT INTO tax_id_validations (country, tax_id, offline_ok, result, message, checked_at, "
                   "checked_by) VALUES ('BE', ?, 0, ?, ?, ?, 'bob')",
                   [f"BE000000000{n}", result, f"msg {n}", f"2025-03-0{n}T00:00:00Z"])
    upsert_records(db, "qasida_warehouses", [
        {"warehouse_id": "w1", "code": "1", "name": "WH-A", "synced_at": S},
        {"warehouse_id": "w2", "code": "2", "name": "WH-B", "synced_at": S}], "warehouse_id")
    upsert_records(db, "qasida_products", [
        {"product_id": f"p{n}", "code": code, "name": name, "synced_at": S}
        for n, (code, name) in enumerate((("BOLT", "Bolts"), ("NUT", "Nuts"), ("OIL", "Oil")), start=1)],
        "product_id")
    upsert_records(db, "qasida_stock_cards", [
        {"stock_card_id": "k1", "warehouse_id": "w1", "warehouse": "WH-A", "product_id": "p1", "product": "Bolts",
         "unit": "pcs", "quantity": 100.0, "reserved": 30.0, "available": 70.0,
         "reorder_threshold": 1.0, "synced_at": S},  # a vendor threshold: ignored (ours decide)
        {"stock_card_id": "k2", "warehouse_id": "w1", "warehouse": "WH-A", "product_id": "p2", "product": "Nuts",
         "unit": "pcs", "quantity": 50.0, "reserved": 0.0, "available": 50.0, "reorder_threshold": 99.0,
         "synced_at": S},
        {"stock_card_id": "k3", "warehouse_id": "w2", "warehouse": "WH-B", "product_id": "p3", "product": "Oil",
         "unit": "l", "quantity": 20.5, "reserved": 0.5, "synced_at": S}], "stock_card_id")
    # Ours: Bolts 80 everywhere (10 days lead time); Oil 5 everywhere but 25 in WH-B; Nuts: no level.
    for code, warehouse, level, lead in (("BOLT", "", 80.0, 10.0), ("OIL", "", 5.0, None), ("OIL", "w2", 25.0, 3.0)):
        db.execute("INSERT INTO reorder_levels (product_code, warehouse_id, reorder_level, lead_time_days, "
                   "updated_at, updated_by) VALUES (?, ?, ?, ?, ?, 'test')", [code, warehouse, level, lead, S])


def test_order_details_reads_stops_goods_charges_documents_uploads_and_timeline(db: Database) -> None:
    seed_details(db)
    got = details.order_details(db, "qargo", "O1")
    assert got.order is not None and got.order["reference"] == "REF-A1" and "raw" not in got.order
    assert [(s["stop"], s["location"]) for s in got.stops] == [
        ("Pickup", "Depot, 1000, Brussels, BE"), ("Delivery", "Shop, Ghent")]
    assert got.stops[0]["window_start"] == "08:00"
    assert got.goods == [{"consignment": "CN-1", "product": "Pallet", "quantity": 3, "weight_kg": "120.5",
                          "volume_m3": None, "adr_type": None}]
    assert [(c["description"], c["amount"], c["approval_status"]) for c in got.charges] == [
        ("Fuel", "12.50", "REQUESTED"), ("Waiting", "30.00", "APPROVED")]
    assert [d["file_name"] for d in got.documents] == ["cmr.pdf"]
    assert [(u["operation"], u["status"], u["error"]) for u in got.uploads] == [
        ("create", "done", None), ("update", "error", "postal code missing")]
    assert [e["event_type"] for e in got.timeline] == ["STOP:COMPLETED", "STOP:ARRIVED"]


def test_order_details_of_an_erp_order_or_a_missing_one(db: Database) -> None:
    seed_details(db)
    erp = details.order_details(db, "qasida", "C1")
    assert erp.order is not None and erp.order["number"] == "SO-1" and erp.stops == [] and erp.charges == []
    assert details.order_details(db, "qargo", "nope").order is None
    assert details.order_details(db, "qargo", "O2").stops == []  # no raw: empty, not an error


def test_quaderno_invoice_items_and_payments_are_exact_text(db: Database) -> None:
    seed_details(db)
    got = details.invoice_details(db, "quaderno", "Q-1")
    assert got.items == [{"description": "Freight", "quantity": "1.0", "tax_rate": None, "total": "120.00",
                          "currency": "EUR"}]
    assert got.payments == [{"date": "2025-03-02", "method": "wire_transfer", "amount": "50.00", "currency": "EUR"}]


def test_cargobase_audit_upwell_event_history_and_qasida_open_items(db: Database) -> None:
    seed_details(db)
    audit = details.invoice_details(db, "cargobase", "PI-1").audit
    assert audit is not None and audit["invoice_status"] == "awaiting_audit" and audit["provider_name"] == "Fwd"
    events = details.invoice_details(db, "upwell", "CI-1").events
    assert [(e["operation"], e["outcome"]) for e in events] == [("INSERT", "accepted"), ("UPDATE", "accepted")]
    claim = details.invoice_details(db, "qasida", "FV-1").open_item
    assert claim is not None and (claim["customer"], claim["remains_to_be_paid"]) == ("Delta", "999.99")
    liability = details.invoice_details(db, "qasida", "LB-1", "payable").open_item
    assert liability is not None and liability["customer"] == "Eps Supplies"
    assert details.invoice_details(db, "qasida", "LB-1", "receivable").open_item is None


def test_totals_per_counterparty_and_currency_keep_directions_apart(db: Database) -> None:
    seed_details(db)
    rows = details.totals_by_counterparty(db, now=NOW)
    got = {(r["direction"], r["counterparty"], r["currency"]): (r["invoices"], r["amount"]) for r in rows}
    assert got == {("receivable", "Acme", "EUR"): (2, "95.50"), ("receivable", "Beta", "USD"): (1, "10.00"),
                   ("receivable", "Delta", "CZK"): (1, "999.99"), ("payable", "Fwd", None): (1, ""),
                   ("payable", "carr-9", "EUR"): (1, "150.00"), ("payable", "Eps Supplies", "CZK"): (1, "12.345")}
    only_eur = details.totals_by_counterparty(db, {"currency": "EUR", "days_overdue__gt": 0}, now=NOW)
    assert [(r["counterparty"], r["amount"]) for r in only_eur] == [("Acme", "25.50")]
    payable = details.totals_by_counterparty(db, {"direction": "payable", "currency": "EUR"}, now=NOW)
    assert [(r["direction"], r["counterparty"], r["amount"]) for r in payable] == [("payable", "carr-9", "150.00")]


def test_aging_buckets_one_definition(db: Database) -> None:
    seed_details(db)
    rows = details.aging_buckets(db, {"direction": "receivable"}, now=NOW)
    got = [(r["bucket"], r["currency"], r["invoices"], r["amount"]) for r in rows]
    # Q-1 not yet due; FV-1 37 days; Q-2 49 days; Q-3 129 days.
    assert got == [("Not yet due", "EUR", 1, "70.00"), ("31–60", "CZK", 1, "999.99"),
                   ("31–60", "EUR", 1, "25.50"), ("90+", "USD", 1, "10.00")]
    payables = details.aging_buckets(db, {"direction": "payable"}, now=NOW)
    assert [(r["bucket"], r["currency"], r["amount"]) for r in payables] == [
        ("Not yet due", "CZK", "12.345"), ("Not yet due", "EUR", "150.00"), ("No due date", None, "")]


def test_warehouse_totals_per_unit(db: Database) -> None:
    seed_details(db)
    rows = details.warehouse_totals(db)
    assert rows == [
        {"warehouse": "WH-A", "unit": "pcs", "products": 2, "quantity": 150.0, "reserved": 30.0,
         "available": 120.0, "items_below_level": 1, "no_level_set": 1},
        {"warehouse": "WH-B", "unit": "l", "products": 1, "quantity": 20.5, "reserved": 0.5, "available": 20.0,
         "items_below_level": 1, "no_level_set": 0}]
    assert [r["warehouse"] for r in details.warehouse_totals(db, {"reorder_level": None})] == ["WH-A"]


def test_tax_explanations_in_words() -> None:
    assert details.explain_tax("not_registered") == (
        "no tax is collected because the account is not registered in that jurisdiction")
    assert "reverse charge" in details.explain_tax("reverse_charge")
    assert details.explain_tax(None, "Tax exempt region") == "Tax exempt region"
    assert "not invalid" in details.explain_validation("unavailable")
    assert details.explain_validation("unavailable", 1).endswith("(accepted offline meanwhile)")
    rows = details.with_explanations([{"status": "taxable"}], "tax_calculations")
    assert rows[0]["explanation"].startswith("the transaction is taxable")


def test_cents_text_keeps_fractions_exact() -> None:
    assert details.cents_text("6000.0", "EUR") == "60.00"
    assert details.cents_text(56.6, "EUR") == "0.566"
    assert details.cents_text(500, "JPY") == "500"
    assert details.cents_text(None, "EUR") == ""
