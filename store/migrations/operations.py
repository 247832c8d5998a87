"""0005..0012 (registered 0005, 0006, 0007, 0012, 0010, 0008, 0009): our own operational tables and their first
reshaping: staff actions (order uploads, tax calculations, tax-ID checks), sync runs, checkpoints, jobs and the
audit log, Qasida's open items (claims and liabilities per customer, with their order lines), alerts, the tax-ID
results of the UI, reorder levels, and the hardening of jobs and sync runs (fences, leases). SQLite alone.
"""

from __future__ import annotations

from sqlite_utils import Database

from store.migrations.registry import MIGRATIONS, _run


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
