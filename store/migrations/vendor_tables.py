"""0001..0004: the vendor mirror tables, one migration per vendor (Qargo, Quaderno, Qasida, then Cargobase with
Upwell's carrier invoices and the webhook log). Written for SQLite alone, like everything through 0025: a new
PostgreSQL database gets the schema they build, derived from them (store/pg_schema.py).
"""

from __future__ import annotations

from sqlite_utils import Database

from store.migrations.registry import MIGRATIONS, _run

# Columns shared by every mirrored vendor record.
_RECORD = "raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL"


@MIGRATIONS(name="0001_qargo")
def qargo(db: Database) -> None:
    _run(db, [
        f"""CREATE TABLE qargo_orders (
            order_id TEXT PRIMARY KEY,
            order_identifier TEXT,          -- our idempotency key for uploads (seeds/000)
            reference TEXT, customer TEXT, status TEXT,
            pickup_date TEXT, delivery_date TEXT,   -- delivery_date: planned, drives lateness
            delivered_at TEXT, last_event_at TEXT, last_event_type TEXT,
            created_at TEXT, updated_at TEXT,
            source TEXT NOT NULL DEFAULT 'qargo', {_RECORD}) STRICT""",
        "CREATE INDEX qargo_orders_identifier ON qargo_orders(order_identifier)",
        "CREATE INDEX qargo_orders_status ON qargo_orders(status, delivery_date)",
        "CREATE INDEX qargo_orders_customer ON qargo_orders(customer)",
        """CREATE TABLE qargo_order_events (
            event_id TEXT PRIMARY KEY, order_id TEXT, event_type TEXT,
            occurred_at TEXT, received_at TEXT NOT NULL, via TEXT NOT NULL DEFAULT 'webhook',
            raw TEXT NOT NULL DEFAULT '{}') STRICT""",
        "CREATE INDEX qargo_order_events_order ON qargo_order_events(order_id, occurred_at)",
        f"""CREATE TABLE qargo_charges (
            charge_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, description TEXT,
            amount TEXT, currency TEXT,     -- exact decimal text as Qargo sends it
            status TEXT, approval_status TEXT, {_RECORD}) STRICT""",
        "CREATE INDEX qargo_charges_order ON qargo_charges(order_id)",
        f"""CREATE TABLE qargo_documents (
            document_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, document_type TEXT,
            file_name TEXT, created_at TEXT, {_RECORD}) STRICT""",
        "CREATE INDEX qargo_documents_order ON qargo_documents(order_id)",
        f"""CREATE TABLE qargo_resources (
            resource_id TEXT PRIMARY KEY, resource_type TEXT NOT NULL,  -- vehicle | driver | trailer
            name TEXT, identifier TEXT, active INTEGER, {_RECORD}) STRICT""",
        "CREATE INDEX qargo_resources_type ON qargo_resources(resource_type, name)",
        f"""CREATE TABLE qargo_unavailabilities (
            unavailability_id TEXT PRIMARY KEY, resource_id TEXT NOT NULL, resource_type TEXT,
            start_time TEXT, end_time TEXT, reason TEXT, external_id TEXT, {_RECORD}) STRICT""",
        "CREATE INDEX qargo_unavailabilities_resource ON qargo_unavailabilities(resource_id, start_time)",
        f"""CREATE TABLE qargo_sync_tasks (
            task_id TEXT PRIMARY KEY, entity_type TEXT, entity_id TEXT, status TEXT,
            created_at TEXT, updated_at TEXT, {_RECORD}) STRICT""",
        "CREATE INDEX qargo_sync_tasks_status ON qargo_sync_tasks(status)",
    ])


@MIGRATIONS(name="0002_quaderno")
def quaderno(db: Database) -> None:
    # States: outstanding, late, uncollectible, paid, refunded, archived (seeds/001 line 1491).
    _run(db, [
        f"""CREATE TABLE quaderno_invoices (
            invoice_id TEXT PRIMARY KEY, number TEXT, contact_id TEXT, contact_name TEXT,
            contact_tax_id TEXT, currency TEXT NOT NULL, total INTEGER, amount_due INTEGER,
            state TEXT, issue_date TEXT, due_date TEXT, {_RECORD}) STRICT""",
        "CREATE INDEX quaderno_invoices_state ON quaderno_invoices(state, due_date)",
        f"""CREATE TABLE quaderno_credits (
            credit_id TEXT PRIMARY KEY, number TEXT, invoice_id TEXT, contact_id TEXT,
            contact_name TEXT, contact_tax_id TEXT, currency TEXT NOT NULL, total INTEGER,
            state TEXT, issue_date TEXT, due_date TEXT, {_RECORD}) STRICT""",
        "CREATE INDEX quaderno_credits_state ON quaderno_credits(state)",
        f"""CREATE TABLE quaderno_contacts (
            contact_id TEXT PRIMARY KEY, full_name TEXT, kind TEXT, country TEXT,
            tax_id TEXT, {_RECORD}) STRICT""",
    ])


@MIGRATIONS(name="0003_qasida")
def qasida(db: Database) -> None:
    # Quantities are REAL: they are not money, and stock can be kept in fractional units.
    _run(db, [
        f"""CREATE TABLE qasida_warehouses (
            warehouse_id TEXT PRIMARY KEY, code TEXT, name TEXT, {_RECORD}) STRICT""",
        f"""CREATE TABLE qasida_products (
            product_id TEXT PRIMARY KEY, code TEXT, name TEXT, unit TEXT,
            reorder_threshold REAL, {_RECORD}) STRICT""",
        f"""CREATE TABLE qasida_stock_cards (
            stock_card_id TEXT PRIMARY KEY, warehouse_id TEXT, warehouse TEXT,
            product_id TEXT, product TEXT, unit TEXT,
            quantity REAL, reserved REAL, available REAL, reorder_threshold REAL,
            {_RECORD}) STRICT""",
        "CREATE INDEX qasida_stock_cards_wh ON qasida_stock_cards(warehouse, product)",
        "CREATE INDEX qasida_stock_cards_product ON qasida_stock_cards(product_id)",
        f"""CREATE TABLE qasida_customers (
            customer_id TEXT PRIMARY KEY, code TEXT, name TEXT, vat_number TEXT,
            country TEXT, {_RECORD}) STRICT""",
        f"""CREATE TABLE qasida_customer_orders (
            order_id TEXT PRIMARY KEY, number TEXT, customer_id TEXT, customer TEXT,
            status TEXT, order_date TEXT, delivery_date TEXT, currency TEXT, total INTEGER,
            {_RECORD}) STRICT""",
        "CREATE INDEX qasida_customer_orders_status ON qasida_customer_orders(status, order_date)",
        # remainsToBePaid / daysDelayed / dueDate (seeds/003 lines 163-165).
        f"""CREATE TABLE qasida_liabilities (
            liability_id TEXT PRIMARY KEY, document_number TEXT, customer_id TEXT, customer TEXT,
            currency TEXT NOT NULL, remains_to_be_paid INTEGER NOT NULL DEFAULT 0,
            days_delayed INTEGER, due_date TEXT, {_RECORD}) STRICT""",
        "CREATE INDEX qasida_liabilities_due ON qasida_liabilities(due_date)",
    ])


@MIGRATIONS(name="0004_cargobase_upwell")
def cargobase_upwell(db: Database) -> None:
    _run(db, [
        # Only the documented list fields (seeds/004 lines 22-30): the list carries no amounts.
        # Cargobase drops finished invoices from the list after 24 h, so rows are never deleted:
        # `gone_from_vendor_at` records when a sync stopped seeing one.
        f"""CREATE TABLE cargobase_invoices (
            shipment_reference TEXT NOT NULL, provider_invoice_number TEXT NOT NULL DEFAULT '',
            invoice_reference TEXT, invoice_status TEXT, provider_name TEXT, freight_mode TEXT,
            primary_tracking_number TEXT, submit_date TEXT, modified TEXT,
            first_seen_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, gone_from_vendor_at TEXT,
            {_RECORD}, PRIMARY KEY (shipment_reference, provider_invoice_number)) STRICT""",
        "CREATE INDEX cargobase_invoices_status ON cargobase_invoices(invoice_status)",
        # Upwell carrier invoices arrive by webhook only (seeds/002): amounts in minor units.
        # last_event_updated_at lets the receiver drop an older event that arrives late.
        """CREATE TABLE carrier_invoices (
            invoice_id TEXT PRIMARY KEY, invoice_number TEXT, carrier_id TEXT, carrier TEXT,
            load_number TEXT, currency TEXT, total_amount INTEGER, total_tax_amount INTEGER,
            paid_amount INTEGER, balance INTEGER, status TEXT, issue_date TEXT, due_date TEXT,
            deleted_at TEXT, last_event_id TEXT, last_event_updated_at TEXT,
            raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL) STRICT""",
        "CREATE INDEX carrier_invoices_status ON carrier_invoices(status, due_date)",
        # One row per (source, event_id); a redelivery bumps `deliveries`. Rejected requests
        # (bad auth, bad JSON) may have no event id: NULLs do not collide in a UNIQUE index.
        """CREATE TABLE webhook_events (
            id INTEGER PRIMARY KEY, source TEXT NOT NULL, event_id TEXT, retry_of_id TEXT,
            operation TEXT, resource_id TEXT, event_updated_at TEXT,
            received_at TEXT NOT NULL, last_received_at TEXT, deliveries INTEGER NOT NULL DEFAULT 1,
            outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'stale', 'rejected')),
            reason TEXT, body TEXT, UNIQUE (source, event_id)) STRICT""",
        "CREATE INDEX webhook_events_received ON webhook_events(source, received_at)",
    ])
