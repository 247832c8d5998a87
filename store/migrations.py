"""The cache schema, as a sqlite-utils `Migrations` registry (sqlite-utils >= 4 ships it).

Rules every table follows:
- timestamps are UTC ISO-8601 text (`store.db.iso` for our own; vendors' as they send them);
- money is exact: integer minor units, or decimal TEXT where the vendor sends a decimal string
  (Qargo charges), always next to a `currency` column. Tables are STRICT, so a float can never
  land in an INTEGER money column by accident;
- vendor records keep normalized columns for the pages plus `raw` (the vendor JSON) and
  `synced_at`, so a new column can be back-filled from `raw` without a re-sync.

One history for both databases (issue 20). 0001..0025 are written for SQLite alone: a new PostgreSQL
database gets the schema they build, derived from them (store/pg_schema.py runs them on an in-memory SQLite
and translates what they left), with them recorded as applied. Migrations after 0025 run on both: SQL both
databases accept, or a branch on `store.db.is_postgres` (tests/store/test_pg_schema.py compares the two
schemas: columns, types, defaults, keys, checks, indexes). Append new migrations at the end; never edit one
that has shipped (0001..0025 are also PostgreSQL's schema now). DDL runs statement by statement through
`db.execute` (never `executescript`, which would commit the migration's transaction half-way).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("opsdash")

# Columns shared by every mirrored vendor record.
_RECORD = "raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL"


def _run(db: Database, statements: Iterable[str]) -> None:
    for sql in statements:
        db.execute(sql)


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


@MIGRATIONS(name="0005_actions")
def actions(db: Database) -> None:
    _run(db, [
        """CREATE TABLE order_uploads (
            upload_id TEXT PRIMARY KEY, order_identifier TEXT NOT NULL,
            operation TEXT NOT NULL, status TEXT NOT NULL, order_id TEXT, error TEXT,
            payload_digest TEXT, requested_by TEXT, job_id INTEGER,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT""",
        "CREATE INDEX order_uploads_identifier ON order_uploads(order_identifier, created_at)",
        "CREATE INDEX order_uploads_status ON order_uploads(status)",
        """CREATE TABLE tax_calculations (
            id INTEGER PRIMARY KEY, calculated_at TEXT NOT NULL, requested_by TEXT,
            from_country TEXT, to_country TEXT, to_postal_code TEXT, tax_code TEXT,
            transaction_type TEXT, currency TEXT, amount INTEGER, rate TEXT, tax_amount INTEGER,
            tax_name TEXT, status TEXT, notice TEXT, raw TEXT NOT NULL DEFAULT '{}') STRICT""",
        """CREATE TABLE tax_id_validations (
            id INTEGER PRIMARY KEY, country TEXT NOT NULL, tax_id TEXT NOT NULL, name TEXT,
            offline_ok INTEGER NOT NULL,
            result TEXT NOT NULL CHECK (result IN ('valid', 'invalid', 'unavailable')),
            message TEXT, checked_at TEXT NOT NULL, checked_by TEXT, job_id INTEGER) STRICT""",
        "CREATE INDEX tax_id_validations_id ON tax_id_validations(country, tax_id, checked_at)",
    ])


@MIGRATIONS(name="0006_operations")
def operations(db: Database) -> None:
    _run(db, [
        """CREATE TABLE sync_runs (
            run_id INTEGER PRIMARY KEY, vendor TEXT NOT NULL, resource TEXT NOT NULL,
            started_at TEXT NOT NULL, finished_at TEXT,
            status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error')),
            pages INTEGER NOT NULL DEFAULT 0, inserted INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0, error TEXT) STRICT""",
        "CREATE INDEX sync_runs_resource ON sync_runs(vendor, resource, run_id)",
        """CREATE TABLE sync_checkpoints (
            vendor TEXT NOT NULL, resource TEXT NOT NULL, cursor TEXT, server_time TEXT,
            updated_at TEXT NOT NULL, PRIMARY KEY (vendor, resource)) STRICT""",
        """CREATE TABLE jobs (
            job_id INTEGER PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
            dedupe_key TEXT, requested_by TEXT, created_at TEXT NOT NULL,
            started_at TEXT, finished_at TEXT, worker_id TEXT, lease_until TEXT,
            attempts INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, total INTEGER,
            message TEXT, result TEXT, error TEXT) STRICT""",
        "CREATE INDEX jobs_queue ON jobs(status, kind, job_id)",
        # The same action cannot be queued twice while one is pending (jobs.enqueue reuses it).
        """CREATE UNIQUE INDEX jobs_dedupe ON jobs(dedupe_key)
            WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running')""",
        # The payload itself is never stored here (personal data, secrets): only its SHA-256.
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
            target TEXT, payload_digest TEXT, result TEXT, vendor_reference TEXT) STRICT""",
        "CREATE INDEX audit_log_at ON audit_log(at)",
        "CREATE INDEX audit_log_actor ON audit_log(actor, action)",
    ])


# Qasida claims (what a customer owes us) and liabilities (what we owe), read per customer
# (seeds/003 lines 150-173 and 3124-3147): the same row shape, no customerId in the rows, so the
# customer comes from the request. Money is the exact decimal text Qasida sent ("1234.5", "0.125").
# `settled_at` is set when a complete read of the customer's open list no longer has the item; the
# row is kept as history. Customer names are joined from qasida_customers at read time.
_OPEN_ITEM = """invoice_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, type TEXT, document_number TEXT,
    variable_symbol TEXT, currency TEXT NOT NULL, invoiced_amount TEXT, remains_to_be_paid TEXT NOT NULL,
    days_delayed INTEGER, due_date TEXT, issue_date TEXT, last_payment TEXT, settled_at TEXT,
    raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL"""


@MIGRATIONS(name="0007_qasida_open_items")
def qasida_open_items(db: Database) -> None:
    _run(db, [
        "DROP TABLE IF EXISTS qasida_liabilities",
        f"CREATE TABLE qasida_claims ({_OPEN_ITEM}) STRICT",
        f"CREATE TABLE qasida_liabilities ({_OPEN_ITEM}) STRICT",
        "CREATE INDEX qasida_claims_customer ON qasida_claims(customer_id, settled_at)",
        "CREATE INDEX qasida_liabilities_customer ON qasida_liabilities(customer_id, settled_at)",
        # Which customer's open list was read when (rotation, oldest first), and a read cut short by
        # the request budget: the next page to ask for and the invoice ids seen so far.
        """CREATE TABLE qasida_open_item_checks (
            kind TEXT NOT NULL CHECK (kind IN ('claims', 'liabilities')), customer_id TEXT NOT NULL,
            checked_at TEXT, resume TEXT, seen TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (kind, customer_id)) STRICT""",
        # Customer order lines (seeds/003 lines 1243-1262, `customerOrderItems`): product and quantity
        # per line, for demand. The document's items carry no product code or unit: those come from
        # qasida_products at sync time.
        """CREATE TABLE qasida_customer_order_lines (
            order_id TEXT NOT NULL, line_no INTEGER NOT NULL, product_id TEXT, product_code TEXT,
            quantity REAL, unit TEXT, raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL,
            PRIMARY KEY (order_id, line_no)) STRICT""",
        "CREATE INDEX qasida_customer_order_lines_product ON qasida_customer_order_lines(product_id)",
    ])


@MIGRATIONS(name="0012_alerts")
def alerts(db: Database) -> None:
    # Rules are data (alerts/rules.py); one OPEN alert per (rule, key) is enforced here.
    # Deliveries are an outbox: a failing channel keeps them pending until it answers again.
    _run(db, [
        """CREATE TABLE alert_rules (
            rule_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}', channels TEXT NOT NULL DEFAULT '["inbox"]',
            notify_resolved INTEGER NOT NULL DEFAULT 1, enabled INTEGER NOT NULL DEFAULT 1,
            created_by TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            last_evaluated_at TEXT, last_signature TEXT, last_error TEXT, last_report_at TEXT) STRICT""",
        """CREATE TABLE alerts (
            alert_id INTEGER PRIMARY KEY, rule_id INTEGER NOT NULL, key TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
            title TEXT NOT NULL, detail TEXT, link TEXT,
            opened_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, clear_since TEXT,
            resolved_at TEXT, read_at TEXT) STRICT""",
        "CREATE UNIQUE INDEX alerts_one_open ON alerts(rule_id, key) WHERE status = 'open'",
        "CREATE INDEX alerts_recent ON alerts(status, opened_at)",
        "CREATE INDEX alerts_unread ON alerts(read_at)",
        # Conditions measured from when we first saw them (a Qargo charge carries no request time).
        """CREATE TABLE alert_watch (
            kind TEXT NOT NULL, key TEXT NOT NULL, since TEXT NOT NULL,
            PRIMARY KEY (kind, key)) STRICT""",
        """CREATE TABLE alert_deliveries (
            delivery_id INTEGER PRIMARY KEY, channel TEXT NOT NULL, kind TEXT NOT NULL,
            rule_id INTEGER, subject TEXT NOT NULL, body TEXT NOT NULL, recipients TEXT,
            attachments TEXT,               -- JSON [{name, content_type, data (base64)}]
            data TEXT,                      -- JSON: the structured copy the webhook sends
            status TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
            attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
            created_at TEXT NOT NULL, sent_at TEXT) STRICT""",
        "CREATE INDEX alert_deliveries_pending ON alert_deliveries(channel, status, delivery_id)",
        """CREATE TABLE alert_channels (
            channel TEXT PRIMARY KEY, last_attempt_at TEXT, last_success_at TEXT,
            last_error TEXT, last_error_at TEXT, failures INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT, last_digest_at TEXT) STRICT""",
    ])


@MIGRATIONS(name="0010_ui")
def ui(db: Database) -> None:
    # Tax-ID results become three different answers (issue 10): 'malformed' = failed our offline format and
    # check-digit test (no vendor call), 'invalid' = the tax authority's own answer, 'unavailable' = no answer.
    # SQLite cannot alter a CHECK: rebuild the table; earlier offline failures (offline_ok = 0) become
    # 'malformed'. Views reading the table are dropped here and re-created by store.schema.migrate.
    views = db.execute("SELECT name FROM sqlite_master WHERE type = 'view' AND sql LIKE '%tax_id_validations%'")
    _run(db, [f'DROP VIEW IF EXISTS "{name}"' for (name,) in views.fetchall()])
    _run(db, [
        """CREATE TABLE tax_id_validations_new (
            id INTEGER PRIMARY KEY, country TEXT NOT NULL, tax_id TEXT NOT NULL, name TEXT,
            offline_ok INTEGER NOT NULL,
            result TEXT NOT NULL CHECK (result IN ('valid', 'invalid', 'malformed', 'unavailable')),
            message TEXT, checked_at TEXT NOT NULL, checked_by TEXT, job_id INTEGER) STRICT""",
        """INSERT INTO tax_id_validations_new (id, country, tax_id, name, offline_ok, result, message, checked_at,
            checked_by, job_id)
            SELECT id, country, tax_id, name, offline_ok,
                   CASE WHEN offline_ok = 0 AND result = 'invalid' THEN 'malformed' ELSE result END,
                   message, checked_at, checked_by, job_id FROM tax_id_validations""",
        "DROP TABLE tax_id_validations",
        "ALTER TABLE tax_id_validations_new RENAME TO tax_id_validations",
        "CREATE INDEX tax_id_validations_id ON tax_id_validations(country, tax_id, checked_at)",
    ])


@MIGRATIONS(name="0008_reorder_levels")
def reorder_levels(db: Database) -> None:
    # Reorder levels are ours: the ERP document has none (issue 9 point 4; seeds/003 stock cards carry
    # no minimum). Per ERP product code, with an optional per-warehouse override: warehouse_id '' means
    # every warehouse, and a row for the warehouse wins over it (figures/reorder.py, store/datasets.py).
    # lead_time_days (optional) is how long a reorder takes to arrive: "runs out before the next delivery".
    _run(db, [
        """CREATE TABLE reorder_levels (
            product_code TEXT NOT NULL, warehouse_id TEXT NOT NULL DEFAULT '',
            reorder_level REAL NOT NULL CHECK (reorder_level >= 0),
            lead_time_days REAL CHECK (lead_time_days IS NULL OR lead_time_days >= 0),
            updated_at TEXT NOT NULL, updated_by TEXT NOT NULL,
            PRIMARY KEY (product_code, warehouse_id)) STRICT""",
    ])


@MIGRATIONS(name="0009_hardening")
def hardening(db: Database) -> None:
    # Issue 11 point 2. jobs.fence: a number every claim raises; progress, heartbeat and finish carry the
    # claimer's number, so a worker whose lease was taken over can no longer write (jobs/jobs.py).
    # sync_runs gains 'interrupted' (SQLite cannot alter a CHECK: rebuild) plus who runs it (holder
    # "host:pid"), until when (lease_until, renewed per page) and when it was last seen working
    # (heartbeat_at): a run whose holder died is marked interrupted at the next start (sync/runs.py).
    # Views reading sync_runs are dropped here and re-created by store.schema.migrate.
    views = db.execute("SELECT name FROM sqlite_master WHERE type = 'view' AND sql LIKE '%sync_runs%'")
    _run(db, [f'DROP VIEW IF EXISTS "{name}"' for (name,) in views.fetchall()])
    _run(db, [
        "ALTER TABLE jobs ADD COLUMN fence INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE sync_runs_new (
            run_id INTEGER PRIMARY KEY, vendor TEXT NOT NULL, resource TEXT NOT NULL,
            started_at TEXT NOT NULL, finished_at TEXT,
            status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error', 'interrupted')),
            pages INTEGER NOT NULL DEFAULT 0, inserted INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0, error TEXT,
            holder TEXT, lease_until TEXT, heartbeat_at TEXT) STRICT""",
        """INSERT INTO sync_runs_new (run_id, vendor, resource, started_at, finished_at, status, pages, inserted,
            updated, error) SELECT run_id, vendor, resource, started_at, finished_at, status, pages, inserted,
            updated, error FROM sync_runs""",
        "DROP TABLE sync_runs",
        "ALTER TABLE sync_runs_new RENAME TO sync_runs",
        "CREATE INDEX sync_runs_resource ON sync_runs(vendor, resource, run_id)",
        "CREATE INDEX sync_runs_running ON sync_runs(status) WHERE status = 'running'",
    ])


@MIGRATIONS(name="0011_perf")
def perf(db: Database) -> None:
    # Issue 12. data_versions: a counter per table, bumped by triggers on every write
    # (store/versions.py installs them for every table, also for tables later migrations create).
    # raw_dicts: the zlib preset dictionary each table's raw JSON is compressed with (store/rawstore.py).
    # summaries: figures the pages show, built once per data version and kept for every viewer
    # and process (figures/summaries.py); `value` is the pickled result, `version` the data it was built from.
    _run(db, [
        """CREATE TABLE data_versions (
            name TEXT PRIMARY KEY, version INTEGER NOT NULL DEFAULT 0) STRICT""",
        """CREATE TABLE raw_dicts (
            dict_id TEXT PRIMARY KEY, table_name TEXT NOT NULL UNIQUE, zdict BLOB NOT NULL) STRICT""",
        """CREATE TABLE summaries (
            key TEXT PRIMARY KEY, name TEXT NOT NULL, args TEXT NOT NULL, version TEXT NOT NULL,
            built_at TEXT NOT NULL, build_ms INTEGER NOT NULL, read_at TEXT NOT NULL,
            value BLOB NOT NULL) STRICT""",
        "CREATE INDEX summaries_name ON summaries(name, read_at)",
    ])


@MIGRATIONS(name="0014_order_number_indexes")
def order_number_indexes(db: Database) -> None:
    # One business order joins the ERP order number to Qargo's customer reference (store/datasets.py,
    # business_orders); days of cover reads the last 30 days of ERP orders. Without these, 60k orders
    # take minutes instead of a fraction of a second.
    _run(db, [
        "CREATE INDEX IF NOT EXISTS qargo_orders_reference ON qargo_orders(reference)",
        "CREATE INDEX IF NOT EXISTS qasida_customer_orders_number ON qasida_customer_orders(number)",
        "CREATE INDEX IF NOT EXISTS qasida_customer_orders_date ON qasida_customer_orders(order_date)",
    ])


@MIGRATIONS(name="0015_keyed_summaries")
def keyed_summaries(db: Database) -> None:
    # Issue 12: per-key summaries (store/keyed.py). summary_dirty holds the keys writes touched since the
    # last fold (the triggers store.keyed.ensure installs write it, in the writer's transaction); the
    # summary tables themselves are declared in store/keyed.py and created by `ensure`. The indexes let a
    # fold or a read recompute one key without scanning a table: they are on the very expressions the
    # datasets' key columns become in each arm (store/datasets.py `_only`).
    _run(db, [
        ("CREATE TABLE summary_dirty (summary TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (summary, key)) "
        "WITHOUT ROWID, STRICT"),
        ("CREATE INDEX IF NOT EXISTS qasida_stock_cards_bucket_key ON qasida_stock_cards("
         "coalesce(warehouse_id, '') || '|' || substr(coalesce(product_id, ''), -2))"),
        "CREATE INDEX IF NOT EXISTS qasida_customer_orders_number_key ON qasida_customer_orders(coalesce(number, ''))",
        "CREATE INDEX IF NOT EXISTS qargo_orders_reference_key ON qargo_orders(coalesce(reference, ''))",
        "CREATE INDEX IF NOT EXISTS cargobase_invoices_party ON cargobase_invoices(coalesce(provider_name, ''))",
        # One index per invoice table, on the due day (the Overview's figures): on a table with triggers, a
        # fourth index halved the insert rate (bench/bench_upsert.py, bench_webhooks.py). The other keys are
        # read through the open invoices' status (or customer) index.
        *(f"CREATE INDEX IF NOT EXISTS {t}_due_date_day ON {t}(coalesce(substr(due_date, 1, 10), ''))"
          for t in ("quaderno_invoices", "carrier_invoices", "qasida_claims", "qasida_liabilities")),
    ])


@MIGRATIONS(name="0016_quaderno_open_due_index")
def quaderno_open_due_index(db: Database) -> None:
    # One index for the open invoices and their due day instead of two (state, due_date) and (due day): a
    # per-due-day recount seeks state and day together, listing the open invoices seeks the state alone, and
    # a sync's upsert maintains one index fewer (bench/bench_upsert.py: ~10 % of an update's time). Nothing
    # reads quaderno_invoices in due_date order through the index.
    _run(db, [
        "DROP INDEX IF EXISTS quaderno_invoices_state",
        "DROP INDEX IF EXISTS quaderno_invoices_due_date_day",
        "CREATE INDEX quaderno_invoices_open_due ON quaderno_invoices(state, coalesce(substr(due_date, 1, 10), ''))",
    ])


@MIGRATIONS(name="0017_carrier_invoice_key_indexes")
def carrier_invoice_key_indexes(db: Database) -> None:
    # Upwell carrier invoices are written one at a time by the webhook receiver, which does not fold the per-key
    # summaries (store/keyed.py): until the worker does, every read recomputes the written invoice's carrier and
    # issue day. Without these two indexes that read every carrier invoice (bench/bench_keyed.py: 0.11 s at 0.5x,
    # 0.29 s at 2x); a webhook's single-row write pays two index entries. The expressions are the ones the
    # payables list narrows by (store/datasets.py `_only`).
    _run(db, [
        "CREATE INDEX IF NOT EXISTS carrier_invoices_party ON carrier_invoices(coalesce(coalesce(carrier, carrier_id), ''))",
        "CREATE INDEX IF NOT EXISTS carrier_invoices_issue_day ON carrier_invoices(coalesce(substr(issue_date, 1, 10), ''))",
    ])


@MIGRATIONS(name="0018_order_plans_and_etas")
def order_plans_and_etas(db: Database) -> None:
    # Issue 18 points 1, 7, 11. The planned delivery date (`delivery_date`) comes only from Qargo's order/status
    # endpoints (`OrderStatusStopOutput.date`, "Requested date of the stop"); the visibility webhook's ETA gets
    # its own column, as a business date (store/calendar.py `business_date`). `created_date`: the business date
    # of `created_at` (an order dated by when it was created). `not_fulfilled`: 1 while Qasida lists the customer
    # order under `onlyNotFulfilled=true` (seeds/003 line 1196; `not_fulfilled_seen_at`: the read that listed it),
    # 0 once a complete read of that list lacks it, NULL until one has run. Existing rows: `created_date` from `created_at` in the business zone now; a
    # delivery date an earlier webhook wrote from an ETA is rewritten by the next status poll.
    from store.calendar import business_date  # the calendar reads settings: imported when this runs

    _run(db, [
        "ALTER TABLE qargo_orders ADD COLUMN eta_date TEXT",
        "ALTER TABLE qargo_orders ADD COLUMN created_date TEXT",
        "ALTER TABLE qasida_customer_orders ADD COLUMN not_fulfilled INTEGER",
        "ALTER TABLE qasida_customer_orders ADD COLUMN not_fulfilled_seen_at TEXT",
    ])
    rows = db.execute("SELECT order_id, created_at FROM qargo_orders WHERE created_at IS NOT NULL").fetchall()
    db.conn.executemany("UPDATE qargo_orders SET created_date = ? WHERE order_id = ?",
                        [(business_date(datetime.fromisoformat(at)).isoformat(), oid) for oid, at in rows])


@MIGRATIONS(name="0019_quaderno_removed_and_open_checks")
def quaderno_removed_and_open_checks(db: Database) -> None:
    # Issue 18 points 3, 5, 9. `removed_at`: when a re-read of an invoice answered 410 Gone ("the record
    # requested has been removed from our servers", seeds/001 lines 103-105) or 404 Not Found (line 94); such
    # an invoice is no longer outstanding (store/statuses.py). When it was last checked is `synced_at` (every
    # read of the invoice, listing or by id, rewrites the row). `tax_amount_computed`: 1 when Quaderno answered a
    # taxable rate without `tax_amount` (recording validate_tax_rate__0) and opsdash computed the amount; NULL
    # `tax_amount` stays "unknown". `vendor_config_errors`: the last 401/403 a staff action met per vendor,
    # shown on the Vendors page until a call succeeds again (never the credential itself).
    _run(db, [
        "ALTER TABLE quaderno_invoices ADD COLUMN removed_at TEXT",
        "ALTER TABLE tax_calculations ADD COLUMN tax_amount_computed INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE vendor_config_errors (
            vendor TEXT PRIMARY KEY, status INTEGER, message TEXT NOT NULL, action TEXT,
            seen_at TEXT NOT NULL) STRICT""",
    ])
    _recompute_tax_amounts(db)
    # Issue 18 point 9: a 422 from Quaderno is its refusal, with its message ('refused': not retried), not
    # "unavailable". SQLite cannot alter a CHECK: rebuild the table as 0010_ui did (views re-created by migrate).
    views = db.execute("SELECT name FROM sqlite_master WHERE type = 'view' AND sql LIKE '%tax_id_validations%'")
    _run(db, [f'DROP VIEW IF EXISTS "{name}"' for (name,) in views.fetchall()])
    _run(db, [
        """CREATE TABLE tax_id_validations_new (
            id INTEGER PRIMARY KEY, country TEXT NOT NULL, tax_id TEXT NOT NULL, name TEXT,
            offline_ok INTEGER NOT NULL,
            result TEXT NOT NULL CHECK (result IN ('valid', 'invalid', 'malformed', 'unavailable', 'refused')),
            message TEXT, checked_at TEXT NOT NULL, checked_by TEXT, job_id INTEGER) STRICT""",
        """INSERT INTO tax_id_validations_new (id, country, tax_id, name, offline_ok, result, message, checked_at,
            checked_by, job_id)
            SELECT id, country, tax_id, name, offline_ok, result, message, checked_at, checked_by, job_id
            FROM tax_id_validations""",
        "DROP TABLE tax_id_validations",
        "ALTER TABLE tax_id_validations_new RENAME TO tax_id_validations",
        "CREATE INDEX tax_id_validations_id ON tax_id_validations(country, tax_id, checked_at)",
    ])


def _recompute_tax_amounts(db: Database) -> None:
    """Rows stored before 0019 from an answer that collects tax but sent no `tax_amount` (stored as 0): the
    amount computed as a new calculation would be (services/quaderno/models.py), flagged; NULL without a rate."""
    import json

    from services.quaderno.models import TaxCalculation  # imported when this runs
    from services.types import Money

    rows = db.execute("SELECT id, amount, currency, raw FROM tax_calculations WHERE json_extract(raw, "
                      "'$.tax_amount') IS NULL AND amount IS NOT NULL AND currency IS NOT NULL").fetchall()
    for row_id, amount, currency, raw in rows:
        answer = TaxCalculation.model_validate(json.loads(raw or "{}"))
        if not answer.collects_tax:
            continue
        tax = answer.computed_tax_minor(Money(amount_minor=amount, currency=currency).amount, currency)
        db.execute("UPDATE tax_calculations SET tax_amount = ?, tax_amount_computed = ? WHERE id = ?",
                   [tax, int(tax is not None), row_id])


@MIGRATIONS(name="0021_upload_lines")
def upload_lines(db: Database) -> None:
    # Issue 22: one `order_uploads` row per order line of an upload job, whatever the attempts. `line`: the
    # order's position in the job's batch (NULL on rows written before this migration, one per attempt);
    # `attempt`: the job's fence when the row was last written (actions/orders.py).
    _run(db, [
        "ALTER TABLE order_uploads ADD COLUMN line INTEGER",
        "ALTER TABLE order_uploads ADD COLUMN attempt INTEGER",
        "CREATE UNIQUE INDEX order_uploads_line ON order_uploads(job_id, line) WHERE line IS NOT NULL",
    ])



@MIGRATIONS(name="0023_raw_fields_as_columns")
def raw_fields_as_columns(db: Database) -> None:
    # Issue 19: no dataset reads `raw` any more. The two fields days of cover and the stock codes read from it
    # become columns the mappers fill (sync/mappers.py), back-filled here from the stored raw exactly as the
    # dataset SQL read it (`CAST(json_extract(raw, '$.warehouseId') AS TEXT)`, `json_extract(raw,
    # '$.productCode')`); and raw has one stored form (store/rawstore.py): the plain-key envelope
    # `{"productCode": ..., "~z": "<dict id>:<base64>"}` the old writer kept for that SQL becomes
    # `z:<dict id>:<base64>`, the same compressed bytes.
    _run(db, [
        "ALTER TABLE qasida_stock_cards ADD COLUMN product_code TEXT",
        "ALTER TABLE qasida_customer_orders ADD COLUMN warehouse_id TEXT",
    ])
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
        if "raw" in db[table].columns_dict:
            _unwrap_raw_envelopes(db, table)
    _fill_from_raw(db, "qasida_stock_cards", "product_code", "$.productCode")
    _fill_from_raw(db, "qasida_customer_orders", "warehouse_id", "$.warehouseId")


def _unwrap_raw_envelopes(db: Database, table: str) -> None:
    """Envelope rows (`{..., "~z": "<dict id>:<base64>"}`, written before 0023) as `z:<dict id>:<base64>`. Only
    a JSON object whose `~z` names a dictionary of raw_dicts is one; any other row stays as it is."""
    import json

    dicts = {d for (d,) in db.execute("SELECT dict_id FROM raw_dicts")}
    name = '"' + table.replace('"', '""') + '"'
    changed = []
    for rowid, raw in db.execute(f"""SELECT rowid, raw FROM {name} WHERE raw LIKE '{{%' AND instr(raw, '"~z":"') > 0"""):
        try:
            packed = json.loads(raw).get("~z")
        except (ValueError, AttributeError):
            continue
        if isinstance(packed, str) and packed.partition(":")[0] in dicts:
            changed.append(("z:" + packed, rowid))
    db.conn.executemany(f"UPDATE {name} SET raw = ? WHERE rowid = ?", changed)


def _fill_from_raw(db: Database, table: str, column: str, path: str, batch: int = 2_000) -> None:
    """`column` set to the text at `path` of each row's decoded raw (plain or `z:`; NULL when the key is
    missing or the raw is not JSON), in rowid batches so a large table is never held in memory at once."""
    from store.rawstore import decode  # imported when this runs (it imports store.db)

    last = 0
    sql = (f"UPDATE {table} SET {column} = CASE WHEN json_valid(?1) THEN CAST(json_extract(?1, '{path}') AS TEXT) "
           "END WHERE rowid = ?2")
    while rows := db.execute(f"SELECT rowid, raw FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                             [last, batch]).fetchall():
        last = rows[-1][0]
        db.conn.executemany(sql, [(decode(db, raw), rowid) for rowid, raw in rows])


@MIGRATIONS(name="0022_one_way_to_keep_a_figure")
def one_way_to_keep_a_figure(db: Database) -> None:
    # Issue 19: one way to keep a figure (figures/stored.py). Writers note their writes in code
    # (store/changes.py `note_write`, same `data_versions` counters), so the data-version triggers (dv_*)
    # and the per-key summaries (store/keyed.py: ks_* triggers, summary_dirty, summary_* tables) go; stored
    # results are JSON in `figures` instead of pickles in `summaries`; `figure_worker` holds the worker's beat.
    triggers = db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND (name LIKE 'dv\\_%' ESCAPE '\\' "
                          "OR name LIKE 'ks\\_%' ESCAPE '\\')").fetchall()
    tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'summary\\_%' ESCAPE '\\' "
                        "OR name = 'summaries')").fetchall()
    _run(db, [*(f'DROP TRIGGER IF EXISTS "{name}"' for (name,) in triggers),
              *(f'DROP TABLE IF EXISTS "{name}"' for (name,) in tables),
              """CREATE TABLE figures (
                  key TEXT PRIMARY KEY, name TEXT NOT NULL, args TEXT NOT NULL, inputs TEXT NOT NULL,
                  today TEXT NOT NULL, built_at TEXT NOT NULL, build_ms INTEGER NOT NULL, read_at TEXT NOT NULL,
                  value TEXT NOT NULL)""",
              "CREATE INDEX figures_read_at ON figures(read_at)",
              "CREATE TABLE figure_worker (id INTEGER PRIMARY KEY CHECK (id = 1), beat_at TEXT NOT NULL)",
              # indexes only the per-key summaries read (0015, 0017): every upsert paid for them
              *(f"DROP INDEX IF EXISTS {name}" for name in (
                  "qasida_stock_cards_bucket_key", "qasida_customer_orders_number_key", "qargo_orders_reference_key",
                  "cargobase_invoices_party", "carrier_invoices_party", "carrier_invoices_issue_day"))])


@MIGRATIONS(name="0024_lead_times")
def lead_times(db: Database) -> None:
    # Issue 21: "runs out before the next delivery" needs a lead time for every item. The ERP document has no
    # lead-time, supplier-delivery or purchase-order field (seeds/003: none; docs/vendor-readings.md), so lead
    # times are ours: per product (reorder_levels.lead_time_days, 0008), else per warehouse here, else the row
    # for every warehouse (warehouse_id ''), which starts at 7 days (docs/figures.md).
    _run(db, [
        """CREATE TABLE lead_times (
            warehouse_id TEXT PRIMARY KEY,
            lead_time_days REAL NOT NULL CHECK (lead_time_days >= 0),
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL)""",
    ])
    from store.db import iso, utcnow  # our one UTC timestamp form (as every writer stamps)

    db.execute("INSERT INTO lead_times (warehouse_id, lead_time_days, updated_at, updated_by) "
               "VALUES ('', 7, ?, 'default')", [iso(utcnow())])  # bound, not SQLite's strftime: portable


@MIGRATIONS(name="0025_upload_erp_numbers")
def upload_erp_numbers(db: Database) -> None:
    # Issue 21: an uploaded order is listed by the ERP order number the user typed or uploaded, with the file row
    # it came from, never by our identifier's hash. Earlier lines get the number from their job's batch (the first
    # consignment's reference, where actions/order_file.py puts it); their row was not kept, so it stays NULL.
    _run(db, [
        "ALTER TABLE order_uploads ADD COLUMN erp_order_number TEXT",
        "ALTER TABLE order_uploads ADD COLUMN source_row INTEGER",
        """UPDATE order_uploads SET erp_order_number = (
               SELECT json_extract(j.payload, '$.orders[' || order_uploads.line || '].consignments[0].'
                                              || 'consignment_reference_number')
               FROM jobs j WHERE j.job_id = order_uploads.job_id AND json_valid(j.payload))
           WHERE line IS NOT NULL AND job_id IS NOT NULL""",
    ])


@MIGRATIONS(name="0027_receivable_filters")
def receivable_filters(db: Database) -> None:
    # Issue 19: a filter on the receivables nobody used yet (overdue only, counterparty or currency) is built by
    # its reader from every open Quaderno invoice (~62k at 2x the large set). This index holds the open ones only,
    # with every column the receivables list reads (store/datasets.py), so that pass reads no table row: its
    # WHERE is the open rule of store/statuses.py `quaderno_outstanding_sql()`, as the list writes it (the planner
    # uses a partial index only for a query that states its WHERE; tests/store/test_receivable_filters.py checks
    # they are the same text). Half the CPU of the pass at 2x (docs/performance.md).
    _run(db, [
        ("CREATE INDEX IF NOT EXISTS quaderno_invoices_open ON quaderno_invoices(state, due_date, number, "
         "contact_name, currency, amount_due, removed_at) "
         "WHERE state IN ('late', 'outstanding') AND coalesce(amount_due, 0) > 0 AND removed_at IS NULL"),
    ])


@MIGRATIONS(name="0031_document_files")
def document_files(db: Database) -> None:
    # Issue 20: a Qargo document a worker fetched was kept in a folder beside the SQLite file
    # (`<db name>-documents/<document id>`), on that worker's disk: a dashboard on another machine never saw it, and
    # on PostgreSQL the folder was named after the URL. Files now live in the database every process shares. On
    # SQLite the files already fetched are read in (the folder is left as it is, no longer read).
    from pathlib import Path

    from store.db import is_postgres

    _run(db, [f"""CREATE TABLE qargo_document_files (
                    document_id TEXT PRIMARY KEY, content {'BYTEA' if is_postgres(db) else 'BLOB'} NOT NULL,
                    fetched_at TEXT NOT NULL)"""])
    if is_postgres(db):
        return
    main = next((row[2] for row in db.execute("PRAGMA database_list").fetchall() if row[1] == "main"), "")
    folder = Path(main).with_name(f"{Path(main).stem}-documents") if main else None
    for file in sorted(folder.iterdir()) if folder and folder.is_dir() else ():
        if file.is_file() and not file.name.endswith(".part"):
            db.execute("INSERT INTO qargo_document_files (document_id, content, fetched_at) VALUES (?, ?, ?)",
                       [file.name, file.read_bytes(), "before 0031"])
