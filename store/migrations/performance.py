"""0011 and 0014..0017: performance tables and indexes (data versions, raw dictionaries, the stored summaries
of the time, the per-key summary indexes; docs/performance.md). Several are dropped again by 0022
(store/migrations/reshaping.py). SQLite alone.
"""

from __future__ import annotations

from sqlite_utils import Database

from store.migrations.registry import MIGRATIONS, _run


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
