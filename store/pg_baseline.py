"""The PostgreSQL schema at migration 0025: one squashed baseline, equal to what the 23 migrations 0001..0025
build on SQLite.

Why a baseline and not the migrations themselves: they are SQLite's history (STRICT tables, tables rebuilt to change a
CHECK, triggers created and dropped again, `sqlite_master`, `rowid`, `json_extract` back-fills of data that a new
PostgreSQL database does not have). Replaying them through a translator would port code whose only job was to
move old SQLite files forward. A new PostgreSQL database starts here, with 0001..0025 recorded as applied; every
migration after 0025 runs on both databases (store/schema.py), so there is one history from then on: write it in
SQL both accept, or branch on `store.db.is_postgres` inside it (tests/store/test_pg_schema.py fails otherwise).
tests/store/test_pg_schema.py checks that both databases have the same tables and columns.

Types: SQLite STRICT INTEGER -> BIGINT (8 bytes, as SQLite's), REAL -> DOUBLE PRECISION (never PostgreSQL's
4-byte REAL), BLOB -> BYTEA, TEXT -> TEXT; an `INTEGER PRIMARY KEY` (SQLite's rowid) -> an identity column.
Generated once from the migrated SQLite schema, then kept by hand; never edit it once shipped.
"""

from __future__ import annotations

# Every migration this baseline stands for: recorded as applied when the baseline runs.
COVERS = (
    "0001_qargo", "0002_quaderno", "0003_qasida", "0004_cargobase_upwell", "0005_actions", "0006_operations",
    "0007_qasida_open_items", "0012_alerts", "0010_ui", "0008_reorder_levels", "0009_hardening", "0011_perf",
    "0014_order_number_indexes", "0015_keyed_summaries",
    "0016_quaderno_open_due_index", "0017_carrier_invoice_key_indexes", "0018_order_plans_and_etas",
    "0019_quaderno_removed_and_open_checks", "0021_upload_lines", "0023_raw_fields_as_columns",
    "0022_one_way_to_keep_a_figure", "0024_lead_times", "0025_upload_erp_numbers",
)

BASELINE = (
    """CREATE TABLE qargo_orders (
    order_id TEXT PRIMARY KEY,
    order_identifier TEXT,          -- our idempotency key for uploads (seeds/000)
    reference TEXT, customer TEXT, status TEXT,
    pickup_date TEXT, delivery_date TEXT,   -- delivery_date: planned, drives lateness
    delivered_at TEXT, last_event_at TEXT, last_event_type TEXT,
    created_at TEXT, updated_at TEXT,
    source TEXT NOT NULL DEFAULT 'qargo', raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL, eta_date TEXT, created_date TEXT)""",
    """CREATE INDEX qargo_orders_identifier ON qargo_orders(order_identifier)""",
    """CREATE INDEX qargo_orders_status ON qargo_orders(status, delivery_date)""",
    """CREATE INDEX qargo_orders_customer ON qargo_orders(customer)""",
    """CREATE TABLE qargo_order_events (
    event_id TEXT PRIMARY KEY, order_id TEXT, event_type TEXT,
    occurred_at TEXT, received_at TEXT NOT NULL, via TEXT NOT NULL DEFAULT 'webhook',
    raw TEXT NOT NULL DEFAULT '{}')""",
    """CREATE INDEX qargo_order_events_order ON qargo_order_events(order_id, occurred_at)""",
    """CREATE TABLE qargo_charges (
    charge_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, description TEXT,
    amount TEXT, currency TEXT,     -- exact decimal text as Qargo sends it
    status TEXT, approval_status TEXT, raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL)""",
    """CREATE INDEX qargo_charges_order ON qargo_charges(order_id)""",
    """CREATE TABLE qargo_documents (
    document_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, document_type TEXT,
    file_name TEXT, created_at TEXT, raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL)""",
    """CREATE INDEX qargo_documents_order ON qargo_documents(order_id)""",
    """CREATE TABLE qargo_resources (
    resource_id TEXT PRIMARY KEY, resource_type TEXT NOT NULL,  -- vehicle | driver | trailer
    name TEXT, identifier TEXT, active BIGINT, raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL)""",
    """CREATE INDEX qargo_resources_type ON qargo_resources(resource_type, name)""",
    """CREATE TABLE qargo_unavailabilities (
    unavailability_id TEXT PRIMARY KEY, resource_id TEXT NOT NULL, resource_type TEXT,
    start_time TEXT, end_time TEXT, reason TEXT, external_id TEXT, raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL)""",
    """CREATE INDEX qargo_unavailabilities_resource ON qargo_unavailabilities(resource_id, start_time)""",
    """CREATE TABLE qargo_sync_tasks (
    task_id TEXT PRIMARY KEY, entity_type TEXT, entity_id TEXT, status TEXT,
    created_at TEXT, updated_at TEXT, raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL)""",
    """CREATE INDEX qargo_sync_tasks_status ON qargo_sync_tasks(status)""",
    """CREATE TABLE quaderno_invoices (
    invoice_id TEXT PRIMARY KEY, number TEXT, contact_id TEXT, contact_name TEXT,
    contact_tax_id TEXT, currency TEXT NOT NULL, total BIGINT, amount_due BIGINT,
    state TEXT, issue_date TEXT, due_date TEXT, raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL, removed_at TEXT)""",
    """CREATE TABLE quaderno_credits (
    credit_id TEXT PRIMARY KEY, number TEXT, invoice_id TEXT, contact_id TEXT,
    contact_name TEXT, contact_tax_id TEXT, currency TEXT NOT NULL, total BIGINT,
    state TEXT, issue_date TEXT, due_date TEXT, raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL)""",
    """CREATE INDEX quaderno_credits_state ON quaderno_credits(state)""",
    """CREATE TABLE quaderno_contacts (
    contact_id TEXT PRIMARY KEY, full_name TEXT, kind TEXT, country TEXT,
    tax_id TEXT, raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL)""",
    """CREATE TABLE qasida_warehouses (
    warehouse_id TEXT PRIMARY KEY, code TEXT, name TEXT, raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL)""",
    """CREATE TABLE qasida_products (
    product_id TEXT PRIMARY KEY, code TEXT, name TEXT, unit TEXT,
    reorder_threshold DOUBLE PRECISION, raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL)""",
    """CREATE TABLE qasida_stock_cards (
    stock_card_id TEXT PRIMARY KEY, warehouse_id TEXT, warehouse TEXT,
    product_id TEXT, product TEXT, unit TEXT,
    quantity DOUBLE PRECISION, reserved DOUBLE PRECISION, available DOUBLE PRECISION, reorder_threshold DOUBLE PRECISION,
    raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL, product_code TEXT)""",
    """CREATE INDEX qasida_stock_cards_wh ON qasida_stock_cards(warehouse, product)""",
    """CREATE INDEX qasida_stock_cards_product ON qasida_stock_cards(product_id)""",
    """CREATE TABLE qasida_customers (
    customer_id TEXT PRIMARY KEY, code TEXT, name TEXT, vat_number TEXT,
    country TEXT, raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL)""",
    """CREATE TABLE qasida_customer_orders (
    order_id TEXT PRIMARY KEY, number TEXT, customer_id TEXT, customer TEXT,
    status TEXT, order_date TEXT, delivery_date TEXT, currency TEXT, total BIGINT,
    raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL, not_fulfilled BIGINT, not_fulfilled_seen_at TEXT, warehouse_id TEXT)""",
    """CREATE INDEX qasida_customer_orders_status ON qasida_customer_orders(status, order_date)""",
    """CREATE TABLE cargobase_invoices (
    shipment_reference TEXT NOT NULL, provider_invoice_number TEXT NOT NULL DEFAULT '',
    invoice_reference TEXT, invoice_status TEXT, provider_name TEXT, freight_mode TEXT,
    primary_tracking_number TEXT, submit_date TEXT, modified TEXT,
    first_seen_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, gone_from_vendor_at TEXT,
    raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL, PRIMARY KEY (shipment_reference, provider_invoice_number))""",
    """CREATE INDEX cargobase_invoices_status ON cargobase_invoices(invoice_status)""",
    """CREATE TABLE carrier_invoices (
    invoice_id TEXT PRIMARY KEY, invoice_number TEXT, carrier_id TEXT, carrier TEXT,
    load_number TEXT, currency TEXT, total_amount BIGINT, total_tax_amount BIGINT,
    paid_amount BIGINT, balance BIGINT, status TEXT, issue_date TEXT, due_date TEXT,
    deleted_at TEXT, last_event_id TEXT, last_event_updated_at TEXT,
    raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL)""",
    """CREATE INDEX carrier_invoices_status ON carrier_invoices(status, due_date)""",
    """CREATE TABLE webhook_events (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, source TEXT NOT NULL, event_id TEXT, retry_of_id TEXT,
    operation TEXT, resource_id TEXT, event_updated_at TEXT,
    received_at TEXT NOT NULL, last_received_at TEXT, deliveries BIGINT NOT NULL DEFAULT 1,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'stale', 'rejected')),
    reason TEXT, body TEXT, UNIQUE (source, event_id))""",
    """CREATE INDEX webhook_events_received ON webhook_events(source, received_at)""",
    """CREATE TABLE order_uploads (
    upload_id TEXT PRIMARY KEY, order_identifier TEXT NOT NULL,
    operation TEXT NOT NULL, status TEXT NOT NULL, order_id TEXT, error TEXT,
    payload_digest TEXT, requested_by TEXT, job_id BIGINT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, line BIGINT, attempt BIGINT, erp_order_number TEXT,
    source_row BIGINT)""",
    """CREATE INDEX order_uploads_identifier ON order_uploads(order_identifier, created_at)""",
    """CREATE INDEX order_uploads_status ON order_uploads(status)""",
    """CREATE TABLE tax_calculations (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, calculated_at TEXT NOT NULL, requested_by TEXT,
    from_country TEXT, to_country TEXT, to_postal_code TEXT, tax_code TEXT,
    transaction_type TEXT, currency TEXT, amount BIGINT, rate TEXT, tax_amount BIGINT,
    tax_name TEXT, status TEXT, notice TEXT, raw TEXT NOT NULL DEFAULT '{}', tax_amount_computed BIGINT NOT NULL DEFAULT 0)""",
    """CREATE TABLE sync_checkpoints (
    vendor TEXT NOT NULL, resource TEXT NOT NULL, cursor TEXT, server_time TEXT,
    updated_at TEXT NOT NULL, PRIMARY KEY (vendor, resource))""",
    """CREATE TABLE jobs (
    job_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    dedupe_key TEXT, requested_by TEXT, created_at TEXT NOT NULL,
    started_at TEXT, finished_at TEXT, worker_id TEXT, lease_until TEXT,
    attempts BIGINT NOT NULL DEFAULT 0, done BIGINT NOT NULL DEFAULT 0, total BIGINT,
    message TEXT, result TEXT, error TEXT, fence BIGINT NOT NULL DEFAULT 0)""",
    """CREATE INDEX jobs_queue ON jobs(status, kind, job_id)""",
    """CREATE UNIQUE INDEX jobs_dedupe ON jobs(dedupe_key)
    WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running')""",
    """CREATE TABLE audit_log (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT, payload_digest TEXT, result TEXT, vendor_reference TEXT)""",
    """CREATE INDEX audit_log_at ON audit_log(at)""",
    """CREATE INDEX audit_log_actor ON audit_log(actor, action)""",
    """CREATE TABLE qasida_claims (invoice_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, type TEXT, document_number TEXT,
    variable_symbol TEXT, currency TEXT NOT NULL, invoiced_amount TEXT, remains_to_be_paid TEXT NOT NULL,
    days_delayed BIGINT, due_date TEXT, issue_date TEXT, last_payment TEXT, settled_at TEXT,
    raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL)""",
    """CREATE TABLE qasida_liabilities (invoice_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, type TEXT, document_number TEXT,
    variable_symbol TEXT, currency TEXT NOT NULL, invoiced_amount TEXT, remains_to_be_paid TEXT NOT NULL,
    days_delayed BIGINT, due_date TEXT, issue_date TEXT, last_payment TEXT, settled_at TEXT,
    raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL)""",
    """CREATE INDEX qasida_claims_customer ON qasida_claims(customer_id, settled_at)""",
    """CREATE INDEX qasida_liabilities_customer ON qasida_liabilities(customer_id, settled_at)""",
    """CREATE TABLE qasida_open_item_checks (
    kind TEXT NOT NULL CHECK (kind IN ('claims', 'liabilities')), customer_id TEXT NOT NULL,
    checked_at TEXT, resume TEXT, seen TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (kind, customer_id))""",
    """CREATE TABLE qasida_customer_order_lines (
    order_id TEXT NOT NULL, line_no BIGINT NOT NULL, product_id TEXT, product_code TEXT,
    quantity DOUBLE PRECISION, unit TEXT, raw TEXT NOT NULL DEFAULT '{}', synced_at TEXT NOT NULL,
    PRIMARY KEY (order_id, line_no))""",
    """CREATE INDEX qasida_customer_order_lines_product ON qasida_customer_order_lines(product_id)""",
    """CREATE TABLE alert_rules (
    rule_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}', channels TEXT NOT NULL DEFAULT '["inbox"]',
    notify_resolved BIGINT NOT NULL DEFAULT 1, enabled BIGINT NOT NULL DEFAULT 1,
    created_by TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    last_evaluated_at TEXT, last_signature TEXT, last_error TEXT, last_report_at TEXT)""",
    """CREATE TABLE alerts (
    alert_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, rule_id BIGINT NOT NULL, key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    title TEXT NOT NULL, detail TEXT, link TEXT,
    opened_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, clear_since TEXT,
    resolved_at TEXT, read_at TEXT)""",
    """CREATE UNIQUE INDEX alerts_one_open ON alerts(rule_id, key) WHERE status = 'open'""",
    """CREATE INDEX alerts_recent ON alerts(status, opened_at)""",
    """CREATE INDEX alerts_unread ON alerts(read_at)""",
    """CREATE TABLE alert_watch (
    kind TEXT NOT NULL, key TEXT NOT NULL, since TEXT NOT NULL,
    PRIMARY KEY (kind, key))""",
    """CREATE TABLE alert_deliveries (
    delivery_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, channel TEXT NOT NULL, kind TEXT NOT NULL,
    rule_id BIGINT, subject TEXT NOT NULL, body TEXT NOT NULL, recipients TEXT,
    attachments TEXT,               -- JSON [{name, content_type, data (base64)}]
    data TEXT,                      -- JSON: the structured copy the webhook sends
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
    attempts BIGINT NOT NULL DEFAULT 0, last_error TEXT,
    created_at TEXT NOT NULL, sent_at TEXT)""",
    """CREATE INDEX alert_deliveries_pending ON alert_deliveries(channel, status, delivery_id)""",
    """CREATE TABLE alert_channels (
    channel TEXT PRIMARY KEY, last_attempt_at TEXT, last_success_at TEXT,
    last_error TEXT, last_error_at TEXT, failures BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT, last_digest_at TEXT)""",
    """CREATE TABLE reorder_levels (
    product_code TEXT NOT NULL, warehouse_id TEXT NOT NULL DEFAULT '',
    reorder_level DOUBLE PRECISION NOT NULL CHECK (reorder_level >= 0),
    lead_time_days DOUBLE PRECISION CHECK (lead_time_days IS NULL OR lead_time_days >= 0),
    updated_at TEXT NOT NULL, updated_by TEXT NOT NULL,
    PRIMARY KEY (product_code, warehouse_id))""",
    """CREATE TABLE sync_runs (
    run_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, vendor TEXT NOT NULL, resource TEXT NOT NULL,
    started_at TEXT NOT NULL, finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error', 'interrupted')),
    pages BIGINT NOT NULL DEFAULT 0, inserted BIGINT NOT NULL DEFAULT 0,
    updated BIGINT NOT NULL DEFAULT 0, error TEXT,
    holder TEXT, lease_until TEXT, heartbeat_at TEXT)""",
    """CREATE INDEX sync_runs_resource ON sync_runs(vendor, resource, run_id)""",
    """CREATE INDEX sync_runs_running ON sync_runs(status) WHERE status = 'running'""",
    """CREATE TABLE data_versions (
    name TEXT PRIMARY KEY, version BIGINT NOT NULL DEFAULT 0)""",
    """CREATE TABLE raw_dicts (
    dict_id TEXT PRIMARY KEY, table_name TEXT NOT NULL UNIQUE, zdict BYTEA NOT NULL)""",
    """CREATE INDEX qargo_orders_reference ON qargo_orders(reference)""",
    """CREATE INDEX qasida_customer_orders_number ON qasida_customer_orders(number)""",
    """CREATE INDEX qasida_customer_orders_date ON qasida_customer_orders(order_date)""",
    """CREATE INDEX carrier_invoices_due_date_day ON carrier_invoices(coalesce(substr(due_date, 1, 10), ''))""",
    """CREATE INDEX qasida_claims_due_date_day ON qasida_claims(coalesce(substr(due_date, 1, 10), ''))""",
    """CREATE INDEX qasida_liabilities_due_date_day ON qasida_liabilities(coalesce(substr(due_date, 1, 10), ''))""",
    """CREATE INDEX quaderno_invoices_open_due ON quaderno_invoices(state, coalesce(substr(due_date, 1, 10), ''))""",
    """CREATE TABLE vendor_config_errors (
    vendor TEXT PRIMARY KEY, status BIGINT, message TEXT NOT NULL, action TEXT,
    seen_at TEXT NOT NULL)""",
    """CREATE TABLE tax_id_validations (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, country TEXT NOT NULL, tax_id TEXT NOT NULL, name TEXT,
    offline_ok BIGINT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('valid', 'invalid', 'malformed', 'unavailable', 'refused')),
    message TEXT, checked_at TEXT NOT NULL, checked_by TEXT, job_id BIGINT)""",
    """CREATE INDEX tax_id_validations_id ON tax_id_validations(country, tax_id, checked_at)""",
    """CREATE UNIQUE INDEX order_uploads_line ON order_uploads(job_id, line) WHERE line IS NOT NULL""",
    """CREATE TABLE figures (
    key TEXT PRIMARY KEY, name TEXT NOT NULL, args TEXT NOT NULL, inputs TEXT NOT NULL,
    today TEXT NOT NULL, built_at TEXT NOT NULL, build_ms BIGINT NOT NULL, read_at TEXT NOT NULL,
    value TEXT NOT NULL)""",
    """CREATE INDEX figures_read_at ON figures(read_at)""",
    """CREATE TABLE figure_worker (id BIGINT PRIMARY KEY CHECK (id = 1), beat_at TEXT NOT NULL)""",
    # 0024_lead_times, with its default row for every warehouse (7 days)
    """CREATE TABLE lead_times (
    warehouse_id TEXT PRIMARY KEY,
    lead_time_days DOUBLE PRECISION NOT NULL CHECK (lead_time_days >= 0),
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL)""",
    """INSERT INTO lead_times (warehouse_id, lead_time_days, updated_at, updated_by)
    VALUES ('', 7, to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'default')"""
)

# SQLite functions the shared SQL calls that PostgreSQL lacks, defined with SQLite's meaning; (re)created at every
# migrate (CREATE OR REPLACE), like the dataset views on SQLite. Only what the ported SQL needs.
FUNCTIONS = (
    # instr(haystack, needle): 1-based position, 0 when absent (store/audit.py, store/queries.py search)
    """CREATE OR REPLACE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS INTEGER
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT strpos(haystack, needle)'""",
    # julianday(text): fractional days since noon UTC, 24 November 4714 BC; NULL for text that is not a time, as
    # SQLite answers (sessions run in UTC: services/core/postgres.py), e.g. the Qargo poll's order
    """CREATE OR REPLACE FUNCTION julianday(moment TEXT) RETURNS DOUBLE PRECISION
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED AS $$
    BEGIN
        RETURN extract(epoch FROM moment::timestamptz) / 86400.0 + 2440587.5;
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END $$""",
    # SQLite's two-argument max: NULL when either is NULL (greatest() would skip the NULL)
    *(f"""CREATE OR REPLACE FUNCTION max(a {t}, b {t}) RETURNS {t} LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE greatest(a, b) END'"""
      for t in ("INTEGER", "BIGINT", "DOUBLE PRECISION", "TEXT")),
    *(f"""CREATE OR REPLACE FUNCTION min(a {t}, b {t}) RETURNS {t} LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE least(a, b) END'"""
      for t in ("INTEGER", "BIGINT", "DOUBLE PRECISION", "TEXT")),
    # round(x, digits) of a float, as SQLite's (PostgreSQL rounds only numeric to digits)
    """CREATE OR REPLACE FUNCTION round(x DOUBLE PRECISION, digits INTEGER) RETURNS DOUBLE PRECISION
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT round(x::numeric, digits)::double precision'""",
    # typeof(x): SQLite's storage class ('integer', 'real', 'text', 'blob', 'null'), e.g. minor units or decimal text
    """CREATE OR REPLACE FUNCTION typeof(value ANYELEMENT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NULL THEN 'null'
                WHEN pg_typeof(value) IN ('bigint'::regtype, 'integer'::regtype, 'smallint'::regtype) THEN 'integer'
                WHEN pg_typeof(value) IN ('double precision'::regtype, 'real'::regtype, 'numeric'::regtype) THEN 'real'
                WHEN pg_typeof(value) = 'bytea'::regtype THEN 'blob' ELSE 'text' END $$""",
    # printf(format, text, integer, integer) as store/datasets.py `minor_text` calls it: %s, %d and %0Nd only
    """CREATE OR REPLACE FUNCTION printf(format TEXT, a TEXT, b BIGINT, c BIGINT) RETURNS TEXT
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE
        args TEXT[] := ARRAY[a, b::text, c::text];
        spec TEXT[];
        result TEXT := '';
        rest TEXT := format;
        i INT := 1;
    BEGIN
        LOOP
            spec := regexp_match(rest, '^(.*?)%(0?)([0-9]*)([sd])(.*)$', 's');
            EXIT WHEN spec IS NULL;
            result := result || spec[1] || CASE WHEN spec[2] = '0' AND spec[3] <> ''
                THEN lpad(coalesce(args[i], ''), spec[3]::int, '0') ELSE coalesce(args[i], '') END;
            rest := spec[5];
            i := i + 1;
        END LOOP;
        RETURN result || rest;
    END $$""",
    # date(day, modifier): SQLite's date with one '+N days' / '-N days' modifier, as text; NULL for a bad day
    """CREATE OR REPLACE FUNCTION date(day TEXT, modifier TEXT) RETURNS TEXT
    LANGUAGE plpgsql IMMUTABLE PARALLEL RESTRICTED AS $$
    BEGIN
        RETURN to_char(day::date + modifier::interval, 'YYYY-MM-DD');
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END $$""",
    # group_concat(text): comma-joined, NULLs skipped (DISTINCT works as on SQLite)
    """CREATE OR REPLACE FUNCTION opsdash_concat_step(joined TEXT, value TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    'SELECT CASE WHEN value IS NULL THEN joined WHEN joined IS NULL THEN value ELSE joined || '','' || value END'""",
    """CREATE OR REPLACE AGGREGATE group_concat(TEXT) (SFUNC = opsdash_concat_step, STYPE = TEXT)""",
    # decimal_sum(x): store/decimals.py's exact sum of decimal text or integers, as decimal text; NULL and '' are
    # skipped, a value that is not a number makes the sum NULL, no values give NULL
    """CREATE OR REPLACE FUNCTION opsdash_decimal_step(state TEXT, value TEXT) RETURNS TEXT
    LANGUAGE plpgsql IMMUTABLE PARALLEL RESTRICTED AS $$
    BEGIN
        IF value IS NULL OR value = '' OR state = 'bad' THEN
            RETURN state;
        END IF;
        RETURN (coalesce(state::numeric, 0) + value::numeric)::text;
    EXCEPTION WHEN others THEN
        RETURN 'bad';
    END $$""",
    """CREATE OR REPLACE FUNCTION opsdash_decimal_step(state TEXT, value NUMERIC) RETURNS TEXT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    'SELECT CASE WHEN value IS NULL OR state = ''bad'' THEN state ELSE (coalesce(state::numeric, 0) + value)::text END'""",
    """CREATE OR REPLACE FUNCTION opsdash_decimal_final(state TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT nullif(state, ''bad'')'""",
    *(f"""CREATE OR REPLACE AGGREGATE decimal_sum({t}) (SFUNC = opsdash_decimal_step, STYPE = TEXT,
    FINALFUNC = opsdash_decimal_final)""" for t in ("TEXT", "NUMERIC")),
    # total(x): a float sum that is 0.0, not NULL, over no rows
    """CREATE OR REPLACE AGGREGATE total(DOUBLE PRECISION) (SFUNC = float8pl, STYPE = DOUBLE PRECISION,
    INITCOND = '0')""",
)
