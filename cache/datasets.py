"""The dataset registry (ARCHITECTURE.md, "Datasets (contract)"): name -> SQL, columns, order, sources.

Datasets are SELECT statements kept here, in the query layer, rather than SQLite views: several
depend on "today" (`days_overdue`, lateness, current unavailabilities), and a view cannot take a
parameter. Each statement may use the named parameters `:today` (YYYY-MM-DD) and `:now` (UTC ISO
timestamp), which `cache.queries` binds from a passed-in clock, so tests fix the date.

Money columns are integer minor units next to `currency` (`cache.queries.format_minor` renders
exact decimal text), except Cargobase, whose invoice list has no amounts (seeds/004 lines 22-30):
its `amount_due` and `currency` are NULL rather than a guess.

`columns` is the output schema (a test checks it against the SQL); `filterable` whitelists the
column names a caller may filter or sort on; `sources` maps the dataset to the (vendor, resource)
pairs whose sync freshness it shows.

For ad-hoc SQL (the sqlite3 shell, a notebook) `ensure_views` also installs each derived dataset
as a view of the same name, with `:today`/`:now` read from the clock (`date('now')`, UTC). The
application reads through `cache.queries`, which binds the clock instead. Datasets that are a
projection of a table of the same name (jobs, audit_log, ...) need no view: the table is there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlite_utils import Database

from cache.db import transaction

Source = tuple[str, str]


@dataclass(frozen=True)
class Dataset:
    name: str
    sql: str
    columns: tuple[str, ...]
    order_by: str
    filterable: tuple[str, ...] = ()
    sources: tuple[Source, ...] = field(default=())

    def can_filter(self, column: str) -> bool:
        return column in (self.filterable or self.columns)


def _days_overdue(due: str) -> str:
    """Whole days past `due` on :today, 0 when not yet due, NULL without a due date."""
    return (f"CASE WHEN {due} IS NULL THEN NULL ELSE max(0, CAST(julianday(:today) - "
            f"julianday(substr({due}, 1, 10)) AS INTEGER)) END")


# Qargo status names that end an order's journey; anything else past its delivery date is late.
_QARGO_CLOSED = "('DELIVERED', 'COMPLETED', 'CANCELLED', 'CANCELED', 'INVOICED', 'CLOSED')"

ORDERS = Dataset(
    name="orders",
    sql=f"""
        SELECT 'qargo' AS source, order_id, order_identifier, reference, customer, status,
               -- an order learned from a visibility event may carry no dates: date it by when we learned of it
               coalesce(pickup_date, substr(created_at, 1, 10)) AS order_date, delivery_date,
               CASE WHEN delivery_date IS NOT NULL AND substr(delivery_date, 1, 10) < :today
                         AND upper(coalesce(status, '')) NOT IN {_QARGO_CLOSED}
                    THEN 1 ELSE 0 END AS late,
               last_event_at, last_event_type, synced_at
        FROM qargo_orders
        UNION ALL
        SELECT 'qasida', order_id, NULL, number, customer, status, order_date, delivery_date,
               0, NULL, NULL, synced_at
        FROM qasida_customer_orders""",
    columns=("source", "order_id", "order_identifier", "reference", "customer", "status",
             "order_date", "delivery_date", "late", "last_event_at", "last_event_type", "synced_at"),
    order_by="order_date DESC, reference",
    sources=(("qargo", "orders"), ("qasida", "customer_orders")),
)

INVOICES_OUTSTANDING = Dataset(
    name="invoices_outstanding",
    sql=f"""
        SELECT 'quaderno' AS source, number AS invoice_number, contact_name AS counterparty,
               currency, amount_due, substr(due_date, 1, 10) AS due_date,
               {_days_overdue('due_date')} AS days_overdue, state AS status
        FROM quaderno_invoices WHERE state IN ('outstanding', 'late')
        UNION ALL
        SELECT 'qasida', document_number, customer, currency, remains_to_be_paid,
               substr(due_date, 1, 10),
               coalesce({_days_overdue('due_date')}, days_delayed),
               CASE WHEN substr(due_date, 1, 10) < :today THEN 'overdue' ELSE 'open' END
        FROM qasida_liabilities WHERE remains_to_be_paid > 0
        UNION ALL
        SELECT 'cargobase', coalesce(nullif(provider_invoice_number, ''), invoice_reference,
               shipment_reference), provider_name, NULL, NULL, NULL, NULL, invoice_status
        FROM cargobase_invoices
        WHERE lower(replace(invoice_status, ' ', '_')) = 'awaiting_audit'
          AND gone_from_vendor_at IS NULL
        UNION ALL
        SELECT 'upwell', invoice_number, coalesce(carrier, carrier_id), currency, balance,
               substr(due_date, 1, 10), {_days_overdue('due_date')}, status
        FROM carrier_invoices WHERE balance > 0 AND deleted_at IS NULL""",
    columns=("source", "invoice_number", "counterparty", "currency", "amount_due", "due_date",
             "days_overdue", "status"),
    order_by="days_overdue DESC, due_date, source, invoice_number",
    sources=(("quaderno", "invoices"), ("qasida", "liabilities"), ("cargobase", "invoices"),
             ("upwell", "carrier_invoices")),
)

CARRIER_INVOICES = Dataset(
    name="carrier_invoices",
    sql="""
        SELECT invoice_id, invoice_number, coalesce(carrier, carrier_id) AS carrier, load_number,
               currency, total_amount, total_tax_amount, paid_amount, balance, status,
               issue_date, due_date, deleted_at, last_event_updated_at, synced_at
        FROM carrier_invoices""",
    columns=("invoice_id", "invoice_number", "carrier", "load_number", "currency", "total_amount",
             "total_tax_amount", "paid_amount", "balance", "status", "issue_date", "due_date",
             "deleted_at", "last_event_updated_at", "synced_at"),
    order_by="last_event_updated_at DESC, invoice_id",
    sources=(("upwell", "carrier_invoices"),),
)

STOCK_LEVELS = Dataset(
    name="stock_levels",
    sql="""
        SELECT s.warehouse, s.product, s.unit, s.quantity, s.reserved,
               coalesce(s.available, s.quantity - coalesce(s.reserved, 0)) AS available,
               coalesce(s.reorder_threshold, p.reorder_threshold) AS reorder_threshold,
               CASE WHEN coalesce(s.available, s.quantity - coalesce(s.reserved, 0))
                         < coalesce(s.reorder_threshold, p.reorder_threshold)
                    THEN 1 ELSE 0 END AS below_threshold,
               s.warehouse_id, s.product_id, s.synced_at
        FROM qasida_stock_cards AS s LEFT JOIN qasida_products AS p USING (product_id)""",
    columns=("warehouse", "product", "unit", "quantity", "reserved", "available",
             "reorder_threshold", "below_threshold", "warehouse_id", "product_id", "synced_at"),
    order_by="below_threshold DESC, warehouse, product",
    sources=(("qasida", "stock_cards"), ("qasida", "products")),
)

RESOURCES = Dataset(
    name="resources",
    sql="""
        SELECT r.resource_type, r.resource_id, r.name, r.identifier, r.active,
               cur.reason AS unavailable_reason, cur.end_time AS unavailable_until,
               nxt.start_time AS next_unavailable_from, nxt.end_time AS next_unavailable_until,
               nxt.reason AS next_unavailable_reason,
               (SELECT count(*) FROM qargo_unavailabilities AS u
                 WHERE u.resource_id = r.resource_id AND u.start_time > :now) AS coming_unavailabilities,
               CASE WHEN cur.unavailability_id IS NULL THEN 1 ELSE 0 END AS available_now,
               r.synced_at
        FROM qargo_resources AS r
        LEFT JOIN qargo_unavailabilities AS cur ON cur.unavailability_id = (
            SELECT u.unavailability_id FROM qargo_unavailabilities AS u
            WHERE u.resource_id = r.resource_id AND u.start_time <= :now
              AND (u.end_time IS NULL OR u.end_time > :now)
            ORDER BY u.end_time DESC LIMIT 1)
        LEFT JOIN qargo_unavailabilities AS nxt ON nxt.unavailability_id = (
            SELECT u.unavailability_id FROM qargo_unavailabilities AS u
            WHERE u.resource_id = r.resource_id AND u.start_time > :now
            ORDER BY u.start_time LIMIT 1)""",
    columns=("resource_type", "resource_id", "name", "identifier", "active", "unavailable_reason",
             "unavailable_until", "next_unavailable_from", "next_unavailable_until",
             "next_unavailable_reason", "coming_unavailabilities", "available_now", "synced_at"),
    order_by="resource_type, name",
    sources=(("qargo", "resources"), ("qargo", "unavailabilities")),
)


def _table(name: str, table: str, columns: tuple[str, ...], order_by: str) -> Dataset:
    """A dataset that is a plain projection of one local table."""
    return Dataset(name, f"SELECT {', '.join(columns)} FROM {table}", columns, order_by)


LOCAL = (
    _table("order_uploads", "order_uploads",
           ("upload_id", "order_identifier", "operation", "status", "order_id", "error",
            "payload_digest", "requested_by", "job_id", "created_at", "updated_at"),
           "created_at DESC, upload_id"),
    _table("tax_calculations", "tax_calculations",
           ("id", "calculated_at", "requested_by", "from_country", "to_country", "to_postal_code",
            "tax_code", "transaction_type", "currency", "amount", "rate", "tax_amount", "tax_name",
            "status", "notice"),
           "id DESC"),
    _table("tax_id_validations", "tax_id_validations",
           ("id", "country", "tax_id", "name", "offline_ok", "result", "message", "checked_at",
            "checked_by", "job_id"),
           "id DESC"),
    _table("sync_runs", "sync_runs",
           ("run_id", "vendor", "resource", "started_at", "finished_at", "status", "pages",
            "inserted", "updated", "error"),
           "run_id DESC"),
    # The job payload is left out: it can hold personal data and is only for the worker.
    _table("jobs", "jobs",
           ("job_id", "kind", "status", "requested_by", "created_at", "started_at", "finished_at",
            "worker_id", "attempts", "done", "total", "message", "error"),
           "job_id DESC"),
    _table("audit_log", "audit_log",
           ("id", "at", "actor", "action", "target", "payload_digest", "result", "vendor_reference"),
           "id DESC"),
    # The raw body stays in the table (it is evidence), out of the exported dataset.
    _table("webhook_events", "webhook_events",
           ("id", "source", "event_id", "retry_of_id", "operation", "resource_id", "event_updated_at",
            "received_at", "last_received_at", "deliveries", "outcome", "reason"),
           "id DESC"),
)

DATASETS: dict[str, Dataset] = {
    d.name: d for d in (ORDERS, INVOICES_OUTSTANDING, CARRIER_INVOICES, STOCK_LEVELS, RESOURCES, *LOCAL)
}

CONTRACT_NAMES = ("orders", "order_uploads", "invoices_outstanding", "carrier_invoices", "stock_levels",
                  "resources", "tax_calculations", "tax_id_validations", "sync_runs", "jobs",
                  "audit_log", "webhook_events")


def get_dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise KeyError(f"unknown dataset {name!r}; known datasets: {known}") from None


def _view_sql(dataset: Dataset) -> str:
    body = (dataset.sql.replace(":today", "date('now')")
            .replace(":now", "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"))
    return f"CREATE VIEW {dataset.name} AS {body}"


def ensure_views(db: Database) -> list[str]:
    """(Re)create the views whose SQL changed; returns their names. Read-only when none did."""
    tables = set(db.table_names())
    wanted = {d.name: _view_sql(d) for d in DATASETS.values() if d.name not in tables}

    def changed() -> list[str]:
        current = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall())
        return [name for name, sql in wanted.items() if current.get(name) != sql]

    if not changed():
        return []
    with transaction(db):
        names = changed()  # again under the write lock: another process may have done it
        for name in names:
            db.execute(f"DROP VIEW IF EXISTS {name}")
            db.execute(wanted[name])
    return names
