"""0018..0025 (registered 0018, 0019, 0021, 0023, 0022, 0024, 0025): columns and tables reshaped for issues 18-22,
with the back-fills of rows already stored (business dates, recomputed tax amounts, raw fields as columns, ERP
order numbers of uploads), one way to keep a figure, lead times. 0025 is the last migration written for SQLite
alone (store/pg_schema.py `SQUASHED_THROUGH`).
"""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from store.migrations.registry import MIGRATIONS, _run


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
