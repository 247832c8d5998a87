"""Vendor models to cache rows: exact money, UTC ISO times, raw JSON; every row fits its STRICT table."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlite_utils import Database

from services.cargobase.models import Invoice as CargobaseInvoice
from services.qargo.models import AvailableTask, Charge, Document, OrderWithStatus, Resource, Unavailability
from services.qasida.models import Customer, CustomerOrder, OpenItem, Product, StockCard, Warehouse
from services.quaderno.models import Contact, Credit, Invoice
from store.store import upsert_records
from sync import mappers
from sync.mappers import Owned

SYNCED = "2026-11-21T10:00:00.000Z"

QUADERNO_INVOICE: dict[str, Any] = {
    "id": 1900300, "number": "INV-2026-0000400", "issue_date": "2026-11-21", "created_at": 1795219200,
    "contact": {"id": 1100012, "full_name": "Cedar Trading Inc."}, "tax_id": None, "country": "US",
    "due_date": "2026-12-05", "currency": "USD", "subtotal_cents": "1386101.0", "total_cents": 1441545,
    "payments": [{"id": 1, "amount_cents": "41545.4"}], "state": "late",
}


def fits(db: Database, table: str, row: dict[str, Any], pk: str | tuple[str, ...]) -> dict[str, Any]:
    """Store the row (STRICT tables refuse a wrong type) and read it back."""
    upsert_records(db, table, [{**row, "synced_at": SYNCED}], pk)
    return dict(next(db.query(f"SELECT * FROM {table}")))


def test_quaderno_invoice_row(db: Database) -> None:
    row = mappers.quaderno_invoice(Invoice.model_validate(QUADERNO_INVOICE))
    stored = fits(db, "quaderno_invoices", row, "invoice_id")
    assert {k: stored[k] for k in ("invoice_id", "number", "contact_id", "contact_name", "currency", "total",
                                   "amount_due", "state", "issue_date", "due_date")} == {
        "invoice_id": "1900300", "number": "INV-2026-0000400", "contact_id": "1100012",
        "contact_name": "Cedar Trading Inc.", "currency": "USD", "total": 1441545,
        "amount_due": 1400000,  # 1441545 - 41545.4, a payment's fraction of a cent rounded half-even
        "state": "late", "issue_date": "2026-11-21", "due_date": "2026-12-05"}
    assert json.loads(stored["raw"])["payments"][0]["amount_cents"] == "41545.4"
    assert "synced_at" not in row


def test_quaderno_invoice_total_from_major_units_is_exact() -> None:
    body = {**QUADERNO_INVOICE, "total_cents": None, "total": "14415.45", "payments": []}
    row = mappers.quaderno_invoice(Invoice.model_validate(body))
    assert (row["total"], row["amount_due"]) == (1441545, 1441545)


def test_quaderno_credit_points_at_its_invoice(db: Database) -> None:
    body = {**QUADERNO_INVOICE, "id": 2900030, "number": "CN-2026-000030", "currency": "gbp", "total_cents": 1191696,
            "tax_id": "GB968459258", "state": "paid", "due_date": None,
            "related_document": {"id": 1900290, "type": "Invoice"}}
    stored = fits(db, "quaderno_credits", mappers.quaderno_credit(Credit.model_validate(body)), "credit_id")
    assert (stored["credit_id"], stored["invoice_id"], stored["currency"], stored["total"]) == (
        "2900030", "1900290", "GBP", 1191696)
    assert (stored["contact_tax_id"], stored["due_date"]) == ("GB968459258", None)


def test_quaderno_contact_row(db: Database) -> None:
    contact = Contact.model_validate({"id": 1100060, "kind": "company", "full_name": "Meridian Furniture Inc.",
                                      "country": "NL", "tax_id": None, "vat_number": "NL524350449B01"})
    stored = fits(db, "quaderno_contacts", mappers.quaderno_contact(contact), "contact_id")
    assert (stored["contact_id"], stored["full_name"], stored["kind"], stored["country"], stored["tax_id"]) == (
        "1100060", "Meridian Furniture Inc.", "company", "NL", "NL524350449B01")


def test_qasida_stock_card_row(db: Database) -> None:
    card = StockCard.model_validate({
        "id": 1, "quantity": "295.500", "reserveQuantity": 5, "warehouseId": 1, "warehouseName": "Amsterdam DC 1",
        "productId": 7, "productCode": "SKU-000007", "productName": "Heavy Drum 1", "unit1Shortcut": "kg",
        "minimumQuantity": 20,
        "availableQuantity": None})
    row = mappers.qasida_stock_card(card)
    stored = fits(db, "qasida_stock_cards", row, "stock_card_id")
    assert {k: stored[k] for k in ("stock_card_id", "warehouse_id", "warehouse", "product_id", "product", "unit",
                                   "quantity", "reserved", "available", "reorder_threshold")} == {
        "stock_card_id": "1", "warehouse_id": "1", "warehouse": "Amsterdam DC 1", "product_id": "7",
        "product": "Heavy Drum 1", "unit": "kg", "quantity": 295.5, "reserved": 5.0, "available": 290.5,
        "reorder_threshold": None}  # the ERP has no reorder level (issue 9 point 4): never read from it
    assert "reorder_threshold" not in row
    assert stored["product_code"] == "SKU-000007"  # a column, so stock_levels never reads raw (issue 19)


def test_qasida_catalogue_rows(db: Database) -> None:
    w = fits(db, "qasida_warehouses", mappers.qasida_warehouse(
        Warehouse.model_validate({"id": 3, "number": "WH003", "name": "Lyon DC"})), "warehouse_id")
    assert (w["warehouse_id"], w["code"], w["name"]) == ("3", "WH003", "Lyon DC")
    p = fits(db, "qasida_products", mappers.qasida_product(Product.model_validate(
        {"productId": 91, "productCode": "SKU-000091", "productName": "Oak Crate 91", "unit1Shortcut": "pcs"})),
        "product_id")
    assert (p["product_id"], p["code"], p["name"], p["unit"]) == ("91", "SKU-000091", "Oak Crate 91", "pcs")
    c = fits(db, "qasida_customers", mappers.qasida_customer(Customer.model_validate(
        {"id": 1, "internalCode": "C00001", "name": "Falcon Chemicals Inc.", "dic": "PL6194255624",
         "addresses": [{"city": "Warsaw", "isoA2CountryCode": "PL"}]})), "customer_id")
    assert (c["customer_id"], c["code"], c["vat_number"], c["country"]) == ("1", "C00001", "PL6194255624", "PL")


def test_qasida_customer_order_total_in_minor_units(db: Database) -> None:
    order = CustomerOrder.model_validate({
        "id": 1, "orderNumber": "SO-0000001", "orderStatus": "FULFILLED", "issueDate": "2025-11-21T14:54:00",
        "fulfillmentDate": "2025-11-26T14:54:00", "currency": "GBP", "customerId": 52,
        "clientCustomerName": "Meridian Paper AG", "price": 43072.86, "warehouseId": 3})
    stored = fits(db, "qasida_customer_orders", mappers.qasida_customer_order(order), "order_id")
    assert stored["warehouse_id"] == "3"  # the demand's warehouse, a column (issue 19)
    assert {k: stored[k] for k in ("order_id", "number", "customer_id", "customer", "status", "order_date",
                                   "delivery_date", "currency", "total")} == {
        "order_id": "1", "number": "SO-0000001", "customer_id": "52", "customer": "Meridian Paper AG",
        "status": "FULFILLED", "order_date": "2025-11-21", "delivery_date": "2025-11-26", "currency": "GBP",
        "total": 4307286}


@pytest.mark.parametrize("table", ["qasida_claims", "qasida_liabilities"])
def test_qasida_open_item_row_is_exact_text_for_its_customer(db: Database, table: str) -> None:
    item = OpenItem.model_validate({
        "invoiceId": 251, "type": "FV", "documentNumber": "INV-2026-0000251", "currency": "pln",
        "invoicedAmount": "40000.125", "remainsToBePaid": "39615.82", "daysDelayed": 107,
        "dueDate": "2026-08-06T19:54:00Z", "issueDate": "2026-07-07T19:54:00Z", "variableSymbol": "20260000251",
        "lastPayment": "2026-08-01T10:00:00Z"})
    stored = fits(db, table, mappers.qasida_open_item(Owned("1", item, "claims")), "invoice_id")
    assert {k: v for k, v in stored.items() if k not in ("raw", "synced_at")} == {
        "invoice_id": "251", "customer_id": "1", "type": "FV", "document_number": "INV-2026-0000251",
        "variable_symbol": "20260000251", "currency": "PLN", "invoiced_amount": "40000.125",
        "remains_to_be_paid": "39615.82", "days_delayed": 107, "due_date": "2026-08-06", "issue_date": "2026-07-07",
        "last_payment": "2026-08-01T10:00:00.000Z", "settled_at": None}


def test_qasida_open_item_without_amount_names_the_customer() -> None:
    item = OpenItem.model_validate({"invoiceId": 1, "currency": "EUR"})
    with pytest.raises(ValueError, match="customer 7"):
        mappers.qasida_open_item(Owned("7", item, "claims"))


def test_qasida_order_lines_take_code_and_unit_from_products(db: Database) -> None:
    order = CustomerOrder.model_validate({"id": 5, "customerOrderItems": [
        {"id": 51, "productId": 7, "quantity": 3, "order": 1}, {"id": 52, "productId": 8, "quantity": 2.5}]})
    rows = mappers.qasida_order_lines(order, {"7": ("SKU-7", "pcs")})
    stored = [fits(db, "qasida_customer_order_lines", r, ("order_id", "line_no")) for r in rows[:1]]
    assert [(r["order_id"], r["line_no"], r["product_id"], r["product_code"], r["quantity"], r["unit"])
            for r in rows] == [("5", 1, "7", "SKU-7", 3.0, "pcs"), ("5", 2, "8", None, 2.5, None)]
    assert stored[0]["product_code"] == "SKU-7"


def test_cargobase_invoice_row(db: Database) -> None:
    invoice = CargobaseInvoice.model_validate({
        "shipment_reference": "CBS7000120", "invoice_reference": "SO-0000398 / Meridian Retail GmbH",
        "invoice_status": "Awaiting audit", "provider_name": "Nippon Express", "provider_invoice_number": None,
        "freight_mode": "Ocean", "primary_tracking_number": "HLCU593188999", "submit_date": "2026-11-20",
        "modified": "2026-11-20T23:00:00Z"})
    row = mappers.cargobase_invoice(invoice)
    assert "first_seen_at" not in row and "last_seen_at" not in row  # the engine stamps them
    stamped = {**row, "first_seen_at": SYNCED, "last_seen_at": SYNCED}
    stored = fits(db, "cargobase_invoices", stamped, ("shipment_reference", "provider_invoice_number"))
    assert {k: stored[k] for k in ("shipment_reference", "provider_invoice_number", "invoice_status",
                                   "submit_date", "modified", "gone_from_vendor_at")} == {
        "shipment_reference": "CBS7000120", "provider_invoice_number": "", "invoice_status": "awaiting_audit",
        "submit_date": "2026-11-20", "modified": "2026-11-20T23:00:00.000Z", "gone_from_vendor_at": None}


def test_qargo_order_row_leaves_webhook_columns_alone(db: Database) -> None:
    order = OrderWithStatus.model_validate({
        "id": "ord-1", "order_identifier": "OPS-1", "status": "IN_TRANSIT", "customer_reference_number": "SO-9",
        "customer": {"name": "Cedar Trading Inc."}, "created_timestamp": "2026-11-01T08:00:00+01:00",
        "first_pickup_stop": {"date": "2026-11-02"}, "last_delivery_stop": {"date": "2026-11-04"}})
    row = mappers.qargo_order(order)
    assert not {"last_event_at", "last_event_type", "delivered_at", "source"} & set(row)
    stored = fits(db, "qargo_orders", row, "order_id")
    assert {k: stored[k] for k in ("order_id", "order_identifier", "reference", "customer", "status",
                                   "pickup_date", "delivery_date", "created_at", "source")} == {
        "order_id": "ord-1", "order_identifier": "OPS-1", "reference": "SO-9", "customer": "Cedar Trading Inc.",
        "status": "IN_TRANSIT", "pickup_date": "2026-11-02", "delivery_date": "2026-11-04",
        "created_at": "2026-11-01T07:00:00.000Z", "source": "qargo"}


def test_qargo_charge_keeps_the_exact_decimal_text(db: Database) -> None:
    charge = Charge.model_validate({"id": "ch-1", "code": "WAITING", "name": "Waiting time", "currency": "EUR",
                                    "amount_excl_tax": "135.00", "amount_tax": "28.35", "amount_incl_tax": "163.35",
                                    "status": "CREATED", "approval_status": "REQUESTED"})
    stored = fits(db, "qargo_charges", mappers.qargo_charge(Owned("ord-1", charge)), "charge_id")
    assert {k: stored[k] for k in ("charge_id", "order_id", "description", "amount", "currency", "status",
                                   "approval_status")} == {
        "charge_id": "ch-1", "order_id": "ord-1", "description": "Waiting time", "amount": "163.35",
        "currency": "EUR", "status": "CREATED", "approval_status": "REQUESTED"}


def test_qargo_document_resource_unavailability_and_task_rows(db: Database) -> None:
    doc = fits(db, "qargo_documents", mappers.qargo_document(Owned("ord-1", Document.model_validate(
        {"id": "doc-1", "name": "CMR ord-1.pdf", "type": "CMR"}))), "document_id")
    assert (doc["document_id"], doc["order_id"], doc["document_type"], doc["file_name"]) == (
        "doc-1", "ord-1", "CMR", "CMR ord-1.pdf")
    res = fits(db, "qargo_resources", mappers.qargo_resource(Resource.model_validate(
        {"row_id": "res-1", "name": "Truck AK-123-X", "code": "TR0001", "is_active": False, "truck": {}})),
        "resource_id")
    assert (res["resource_type"], res["identifier"], res["active"]) == ("vehicle", "TR0001", 0)
    un = fits(db, "qargo_unavailabilities", mappers.qargo_unavailability(Owned("res-1", Unavailability.model_validate(
        {"id": "u-1", "reason": "VEHICLE_MAINTENANCE", "start_time": "2026-11-20T06:00:00Z",
         "end_time": "2026-11-22T06:00:00+02:00", "external_id": "HR-1"}), "vehicle")), "unavailability_id")
    assert (un["resource_id"], un["resource_type"], un["start_time"], un["end_time"]) == (
        "res-1", "vehicle", "2026-11-20T06:00:00.000Z", "2026-11-22T04:00:00.000Z")
    task = fits(db, "qargo_sync_tasks", mappers.qargo_sync_task(AvailableTask.model_validate(
        {"id": "t-1", "task_type": "INVOICE", "status": "TODO", "invoice_id": "inv-1"})), "task_id")
    assert (task["entity_type"], task["entity_id"], task["status"]) == ("INVOICE", "inv-1", "TODO")
