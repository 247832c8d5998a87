"""The invoice datasets: the outstanding lists (`receivables_outstanding`, `payables_outstanding` and their
union `invoices_outstanding`, with `amount_due` as exact decimal text for every source, `EXACT_AMOUNT` for sums,
and the one `days_overdue` rule) and Upwell's `carrier_invoices`.
"""

from __future__ import annotations

from store.dataset_sql.base import Dataset, minor_text
from store.statuses import cargobase_outstanding_sql, quaderno_outstanding_sql, upwell_outstanding_sql


def _days_overdue(due: str) -> str:
    """Whole days past `due` on :today (the business date, store/calendar.py), 0 when not yet
    due, NULL without a due date."""
    return (f"CASE WHEN nullif({due}, '') IS NULL THEN NULL ELSE max(0, CAST(julianday(:today) - "
            f"julianday(substr({due}, 1, 10)) AS INTEGER)) END")


# --- outstanding invoices: receivables apart from payables ----------------------------------

_OUTSTANDING_COLUMNS = ("source", "invoice_number", "counterparty", "currency", "amount_due", "due_date",
                        "days_overdue", "status")
# amount_due is exact decimal text for every source: a UNION column that mixed integer minor units
# with decimal text would be coerced to the first arm's affinity whenever SQLite materialises the
# union (a JOIN, a sort), turning 7000 cents into "7000" -- a hundredfold error. Filters and sorting
# compare it as a number; `EXACT_AMOUNT` (decimal text whatever it is given) is what sums read.
EXACT_AMOUNT = minor_text("amount_due", "currency")
_AMOUNT = (("amount_due", "CAST(amount_due AS NUMERIC)"),)
_ORDER = "days_overdue DESC, due_date, source, invoice_number"


_OPEN_ITEM_COLUMNS = ("customer_id", "document_number", "currency", "remains_to_be_paid", "days_delayed",
                      "due_date", "settled_at")


def _optional_open_items(table: str) -> tuple[str, tuple[str, ...], str]:
    """Until migration 0007 (Qasida open items) is applied, an old or missing table reads as empty."""
    empty = "SELECT " + ", ".join(f"NULL AS {c}" for c in _OPEN_ITEM_COLUMNS) + " WHERE 1 = 0"
    return (table, _OPEN_ITEM_COLUMNS, empty)


def _qasida_open_items(table: str) -> str:
    """Qasida claims or liabilities (seeds/003 ~line 150 / ~line 3124): open, not settled, something
    left to pay. Counterparty names are joined from the customers at read time (issue 11, point 3)."""
    return f"""
        SELECT 'qasida' AS source, i.document_number AS invoice_number, c.name AS counterparty,
               i.currency, i.remains_to_be_paid AS amount_due, substr(i.due_date, 1, 10) AS due_date,
               coalesce({_days_overdue('i.due_date')}, i.days_delayed) AS days_overdue,
               CASE WHEN substr(i.due_date, 1, 10) < :today OR (i.due_date IS NULL AND i.days_delayed > 0)
                    THEN 'overdue' ELSE 'open' END AS status
        FROM {table} AS i LEFT JOIN qasida_customers AS c ON c.customer_id = i.customer_id
        WHERE i.settled_at IS NULL AND CAST(i.remains_to_be_paid AS NUMERIC) > 0"""


def _receivables() -> str:
    return f"""
        SELECT 'quaderno' AS source, number AS invoice_number, contact_name AS counterparty,
               currency, {minor_text('amount_due', 'currency')} AS amount_due,
               substr(due_date, 1, 10) AS due_date, {_days_overdue('due_date')} AS days_overdue,
               state AS status
        FROM quaderno_invoices
        WHERE {quaderno_outstanding_sql()}
        UNION ALL {_qasida_open_items('qasida_claims')}"""


# Upwell: invoices carriers send us (source_system_meta.type ACCOUNTS_PAYABLE, seeds/002 lines 35, 72).
# Cargobase: freight invoices submitted to us for audit (seeds/004); their list has no amounts (nor issue dates).
def _payables() -> str:
    return f"""{_qasida_open_items('qasida_liabilities')}
        UNION ALL
        SELECT 'upwell', invoice_number, coalesce(carrier, carrier_id), currency,
               {minor_text('balance', 'currency')}, substr(due_date, 1, 10),
               {_days_overdue('due_date')}, status
        FROM carrier_invoices
        WHERE {upwell_outstanding_sql()}
        -- one rule with the webhook ingest: not deleted, not ended, balance > 0
        UNION ALL
        SELECT 'cargobase', coalesce(nullif(provider_invoice_number, ''), invoice_reference,
               shipment_reference), provider_name, NULL, NULL, NULL, NULL, invoice_status
        FROM cargobase_invoices
        WHERE {cargobase_outstanding_sql()}"""


# What counts as outstanding per vendor is the status table's rule (store/statuses.py *_outstanding_sql), the
# same one the contract tests hold to the vendors' documents: no second copy of it here.
RECEIVABLES = Dataset(
    name="receivables_outstanding",
    sql=_receivables(),
    columns=_OUTSTANDING_COLUMNS, order_by=_ORDER, expressions=_AMOUNT,
    sources=(("quaderno", "invoices"), ("quaderno", "open_invoices"), ("qasida", "claims")),
    optional=(_optional_open_items("qasida_claims"),),
)

PAYABLES = Dataset(
    name="payables_outstanding",
    sql=_payables(),
    columns=_OUTSTANDING_COLUMNS, order_by=_ORDER, expressions=_AMOUNT,
    sources=(("qasida", "liabilities"), ("upwell", "carrier_invoices"), ("cargobase", "invoices")),
    optional=(_optional_open_items("qasida_liabilities"),),
)

INVOICES_OUTSTANDING = Dataset(
    name="invoices_outstanding",
    sql=f"""
        SELECT *, 'receivable' AS direction FROM ({RECEIVABLES.sql}) AS receivable
        UNION ALL
        SELECT *, 'payable' FROM ({PAYABLES.sql}) AS payable""",
    columns=(*_OUTSTANDING_COLUMNS, "direction"), order_by=_ORDER, expressions=_AMOUNT,
    sources=(*RECEIVABLES.sources, *PAYABLES.sources),
    optional=(*RECEIVABLES.optional, *PAYABLES.optional),
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
