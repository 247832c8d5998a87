"""The dataset registry (ARCHITECTURE.md, "Datasets (contract)"): name -> SQL, columns, order, sources.

Datasets are SELECT statements kept here, in the query layer, rather than SQLite views: several
depend on "today" (`days_overdue`, lateness, current unavailabilities), and a view cannot take a
parameter. Each statement may use the named parameters `:today` (YYYY-MM-DD, the business date
of store/calendar.py) and `:now` (UTC ISO timestamp), which `store.queries` binds from a passed-in
clock, so tests fix the date.

Money columns of vendor tables are integer minor units next to `currency`. In the outstanding lists
(`receivables_outstanding`, `payables_outstanding`, their union `invoices_outstanding`) `amount_due`
is exact decimal TEXT for every source ("120.00", JPY "5000"; Qasida sends decimals of any precision,
"12.345"), which `store.queries.format_minor` and `exports.export.money_value` read as a decimal.
Cargobase's list has no amounts (seeds/004 lines 22-30): its `amount_due` and `currency` are NULL
rather than a guess. Sums are exact (`figures.kpis.decimal_sum`), never SQLite's float `sum`.

`columns` is the output schema (a test checks it against the SQL); `filterable` whitelists the
column names a caller may filter or sort on; `sources` maps the dataset to the (vendor, resource)
pairs whose sync freshness it shows.

For ad-hoc SQL (the sqlite3 shell, a notebook) `ensure_views` also installs each derived dataset
as a view of the same name, with `:today`/`:now` read from the clock (`date('now')`, UTC). The
application reads through `store.queries`, which binds the clock instead. Datasets that are a
projection of a table of the same name (jobs, audit_log, ...) need no view: the table is there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlite_utils import Database

from store.db import transaction
from store.statuses import (
    QARGO_JOURNEY_ENDED,
    cargobase_outstanding_sql,
    quaderno_outstanding_sql,
    sql_list,
    upwell_outstanding_sql,
)

Source = tuple[str, str]

# ISO 4217 minor-unit exponents that differ from 2 (the default for every other currency).
CURRENCY_EXPONENTS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}


@dataclass(frozen=True)
class Dataset:
    name: str
    sql: str
    columns: tuple[str, ...]
    order_by: str
    filterable: tuple[str, ...] = ()
    sources: tuple[Source, ...] = field(default=())
    # column -> SQL expression used to filter and sort it (decimal text compares as a number)
    expressions: tuple[tuple[str, str], ...] = ()
    # Tables the SQL reads that another part of the cache may not have created (yet): (table,
    # columns it must have, an empty SELECT with those columns used in its place). `sql_for`.
    optional: tuple[tuple[str, tuple[str, ...], str], ...] = ()

    def can_filter(self, column: str) -> bool:
        return column in (self.filterable or self.columns)

    def expression(self, column: str) -> str:
        """What `WHERE`/`ORDER BY` use for `column` (a whitelisted name): itself, or its expression."""
        return dict(self.expressions).get(column, column)


def _days_overdue(due: str) -> str:
    """Whole days past `due` on :today (the business date, store/calendar.py), 0 when not yet
    due, NULL without a due date."""
    return (f"CASE WHEN nullif({due}, '') IS NULL THEN NULL ELSE max(0, CAST(julianday(:today) - "
            f"julianday(substr({due}, 1, 10)) AS INTEGER)) END")


def minor_text(amount: str, currency: str) -> str:
    """SQL: integer minor units as exact decimal text ("120.00", JPY "5000"); text passes as it is.

    Same result as `store.queries.format_minor`, in SQL, so every source of an outstanding list
    carries one kind of amount: exact decimal text (exports/export.py `money_value` reads it)."""
    by_exponent: dict[int, list[str]] = {}
    for code, exponent in CURRENCY_EXPONENTS.items():
        by_exponent.setdefault(exponent, []).append(code)
    text, amount = amount, f"CAST({amount} AS BIGINT)"  # the integer branches: typed, for PostgreSQL's checks
    sign = f"CASE WHEN {amount} < 0 THEN '-' ELSE '' END"
    whens = [f"WHEN upper({currency}) IN {sql_list(frozenset(codes))} THEN "
             + (f"CAST({amount} AS TEXT)" if exponent == 0 else
                f"printf('%s%d.%0{exponent}d', {sign}, abs({amount}) / {10 ** exponent}, "
                f"abs({amount}) % {10 ** exponent})")
             for exponent, codes in sorted(by_exponent.items())]
    default = f"printf('%s%d.%02d', {sign}, abs({amount}) / 100, abs({amount}) % 100)"
    return (f"CASE WHEN {text} IS NULL THEN NULL WHEN typeof({text}) != 'integer' THEN "
            f"CAST({text} AS TEXT) {' '.join(whens)} ELSE {default} END")


# --- orders -----------------------------------------------------------------------------------
# One rule for "late" and one for "expected late" (issue 18 points 1 and 11), each written once over a
# date-independent form:
# - `late_from`: the planned day after which an order is late: a Qargo order's planned delivery
#   (`delivery_date`, the status endpoint's requested date) while its journey has not ended
#   (store/statuses.py QARGO_JOURNEY_ENDED); an ERP customer order's promised date (`fulfillmentDate`,
#   "Customer order supposed fulfillment date", seeds/003 line 1784) while Qasida lists it as not fulfilled
#   (`onlyNotFulfilled`, seeds/003 line 1196). Late = `late_from` before the business date (`late_on`).
# - `expected_until`: a Qargo order still moving whose ETA day (`eta_date`, visibility webhook) is after its
#   planned day: expected late until that planned day passes; then it is late instead (`expected_late_on`).

def late_on(late_from: str) -> str:
    """1 when `late_from` (SQL, a day or NULL) is before :today, the business date (store/calendar.py)."""
    return f"CASE WHEN {late_from} < :today THEN 1 ELSE 0 END"


def expected_late_on(expected_until: str, late_from: str) -> str:
    """1 when an ETA after the plan is known (`expected_until` today or later) and the order is not late yet."""
    return f"CASE WHEN {expected_until} >= :today AND {late_on(late_from)} = 0 THEN 1 ELSE 0 END"


_MOVING = "upper(coalesce({p}status, '')) NOT IN " + sql_list(QARGO_JOURNEY_ENDED)


def _late_from(prefix: str = "") -> str:
    """A Qargo order's `late_from`: its planned delivery day while its journey has not ended."""
    return (f"CASE WHEN {prefix}delivery_date IS NOT NULL AND {_MOVING.format(p=prefix)} "
            f"THEN substr({prefix}delivery_date, 1, 10) END")


def _expected_until(prefix: str = "") -> str:
    """A Qargo order's `expected_until`: its planned delivery day while moving with an ETA day after it."""
    return (f"CASE WHEN {prefix}eta_date > substr({prefix}delivery_date, 1, 10) AND {_MOVING.format(p=prefix)} "
            f"THEN substr({prefix}delivery_date, 1, 10) END")


def _erp_late_from(prefix: str = "") -> str:
    """An ERP customer order's `late_from`: its promised day while Qasida lists it as not fulfilled."""
    return (f"CASE WHEN {prefix}not_fulfilled = 1 AND nullif({prefix}delivery_date, '') IS NOT NULL "
            f"THEN substr({prefix}delivery_date, 1, 10) END")


def _late(prefix: str = "") -> str:
    """Late, for one Qargo order (the `late_from` rule applied to it)."""
    return late_on(_late_from(prefix))


def _earliest(a: str, b: str) -> str:
    """The earlier of two days either of which may be NULL (SQLite's min() of a NULL is NULL)."""
    return f"min(coalesce({a}, {b}), coalesce({b}, {a}))"


def _late_side(transport: str, erp: str) -> str:
    """Which side makes a business order late: 'transport', 'ERP' or 'both' (NULL: not late)."""
    t, e = late_on(transport), late_on(erp)
    return (f"CASE WHEN {t} = 1 AND {e} = 1 THEN 'both' WHEN {t} = 1 THEN 'transport' "
            f"WHEN {e} = 1 THEN 'ERP' END")


ORDERS = Dataset(
    name="orders",
    sql=f"""
        SELECT 'qargo' AS source, order_id, order_identifier, reference, customer, status,
               -- an order learned from a visibility event may carry no dates: date it by when we learned of it
               coalesce(pickup_date, created_date) AS order_date, delivery_date,
               {_late()} AS late,
               last_event_at, last_event_type, synced_at, eta_date,
               {expected_late_on(_expected_until(), _late_from())} AS expected_late
        FROM qargo_orders
        UNION ALL
        SELECT 'qasida', order_id, NULL, number, customer, status, order_date, delivery_date,
               {late_on(_erp_late_from())}, NULL, NULL, synced_at, NULL, 0
        FROM qasida_customer_orders""",
    columns=("source", "order_id", "order_identifier", "reference", "customer", "status",
             "order_date", "delivery_date", "late", "last_event_at", "last_event_type", "synced_at",
             "eta_date", "expected_late"),
    # a total order (source and id break ties): PostgreSQL pages ties in any order, one page to the next
    order_by="order_date DESC, reference, source, order_id",
    sources=(("qargo", "orders"), ("qasida", "customer_orders"), ("qasida", "not_fulfilled_orders")),
)


# The transport side of a business order: Qargo orders grouped by the order number they carry. Its status is
# the distinct statuses of those orders in byte order, comma-joined ('COMPLETED,IN_TRANSIT'), its order ids in
# (status, id) order: the input comes sorted, as both databases' aggregates keep it (PostgreSQL also sorts a
# DISTINCT aggregate's input itself; both compare text by bytes, store/schema.py), so the text is the same
# on SQLite and PostgreSQL whatever the rows' scan order.
def _transport() -> str:
    return f"""
    SELECT reference, min(customer) AS customer, group_concat(DISTINCT status) AS status,
           count(*) AS orders, min({_late_from()}) AS late_from, max({_expected_until()}) AS expected_until,
           min(coalesce(pickup_date, created_date)) AS order_date,
           max(delivery_date) AS delivery_date, max(eta_date) AS eta_date, group_concat(order_id) AS order_ids
    FROM (SELECT * FROM qargo_orders WHERE nullif(reference, '') IS NOT NULL ORDER BY reference, status, order_id)
    GROUP BY reference"""


def _business_orders() -> str:
    """The business orders' SQL. Late combines both sides."""
    erp, moving_t = _erp_late_from("e."), _late_from()
    both = _earliest("t.late_from", erp)
    return f"""
        SELECT e.number AS order_number, coalesce(e.customer, t.customer) AS customer,
               e.status AS erp_status, t.status AS transport_status, coalesce(t.orders, 0) AS transport_orders,
               coalesce(e.order_date, t.order_date) AS order_date,
               coalesce(t.delivery_date, e.delivery_date) AS delivery_date, {late_on(both)} AS late,
               e.order_id AS erp_order_id, t.order_ids AS transport_order_ids,
               CASE WHEN t.reference IS NULL THEN 'erp only' ELSE 'both' END AS matched,
               t.eta_date AS eta_date, {expected_late_on("t.expected_until", both)} AS expected_late,
               {_late_side("t.late_from", erp)} AS late_side
        FROM qasida_customer_orders AS e LEFT JOIN ({_transport()}) AS t ON t.reference = e.number
        UNION ALL
        SELECT t.reference, t.customer, NULL, t.status, t.orders, t.order_date, t.delivery_date,
               {late_on("t.late_from")}, NULL, t.order_ids, 'transport only', t.eta_date,
               {expected_late_on("t.expected_until", "t.late_from")}, {_late_side("t.late_from", "NULL")}
        FROM ({_transport()}) AS t
        WHERE NOT EXISTS (SELECT 1 FROM qasida_customer_orders AS e WHERE e.number = t.reference)
        UNION ALL
        SELECT NULL, customer, NULL, status, 1, coalesce(pickup_date, created_date),
               delivery_date, {_late()}, NULL, order_id, 'transport only', eta_date,
               {expected_late_on(_expected_until(), moving_t)}, {_late_side(moving_t, "NULL")}
        FROM qargo_orders WHERE nullif(reference, '') IS NULL""".rstrip()


_BUSINESS_ORDER_COLUMNS = ("order_number", "customer", "erp_status", "transport_status", "transport_orders",
                           "order_date", "delivery_date", "late", "erp_order_id", "transport_order_ids", "matched",
                           "eta_date", "expected_late", "late_side")

# One business order (issue 9, "One business order"): an ERP customer order and the transport
# order(s) carrying it, one row, joined on the order number. Qargo's `customer_reference_number`
# (our `reference`) holds the ERP's `orderNumber` (SO-...): sandbox/qargo/orders.py builds its
# orders that way, and uploads from opsdash send the ERP order number there. A transport order
# without an ERP order and an ERP order without transport each still make one row. `late` combines
# both sides (issue 18 point 11): the transport order's plan, the ERP order's promised date while not
# fulfilled; `late_side` says which. `delivery_date` is the transport plan, else the ERP's promised date;
# `eta_date` the latest ETA day of its transport orders.
BUSINESS_ORDERS = Dataset(
    name="business_orders",
    sql=_business_orders(),
    columns=_BUSINESS_ORDER_COLUMNS,
    # a total order: a transport order without an ERP number is told apart by its id (PostgreSQL pages ties in
    # any order, so a selected order could move to another page)
    order_by="order_date DESC, order_number, transport_order_ids",
    sources=(("qasida", "customer_orders"), ("qasida", "not_fulfilled_orders"), ("qargo", "orders")),
)


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

# Reorder levels are ours (the ERP has none, issue 9 point 4): table reorder_levels (migration
# 0008), per product code with an optional per-warehouse override ('' = every warehouse); the
# per-warehouse row wins. "Below" means at or below the level: that is when a reorder is due.
# Days of cover = available / average daily ERP customer-order demand of the last 30 days (order
# lines, matched on the product and the order's warehouse; an order naming no warehouse counts
# against every warehouse, the cautious reading). Unknown (NULL) without order lines, or when the
# product had no demand. Runs out before the next delivery = cover shorter than the lead time
# operators keep next to the level (NULL when either is unknown). The order's warehouse and the card's
# product code are columns the mappers fill (sync/mappers.py): no dataset reads `raw` (issue 19).
_DEMAND = """
    SELECT l.product_id, o.warehouse_id,
           total(l.quantity) / 30.0 AS daily
    FROM qasida_customer_orders AS o JOIN qasida_customer_order_lines AS l ON l.order_id = o.order_id
    -- the 30 days up to today; bare comparisons (no substr) so the order_date index is used
    WHERE o.order_date >= date(:today, '-29 days') AND o.order_date < date(:today, '+1 day')
    GROUP BY 1, 2"""
_AVAILABLE = "coalesce(s.available, s.quantity - coalesce(s.reserved, 0))"
_LEVEL = "coalesce(rw.reorder_level, ra.reorder_level)"
# Lead time: the product's (per warehouse, else every warehouse), else the warehouse's, else the default row
# (lead_times, migration 0024; warehouse '' = every warehouse, 7 days unless changed). seeds/003 has none.
_LEAD = "coalesce(rw.lead_time_days, ra.lead_time_days, lw.lead_time_days, ld.lead_time_days)"
_KNOWN = "EXISTS (SELECT 1 FROM qasida_customer_order_lines)"
_CODE = "coalesce(p.code, s.product_code)"

_BELOW = "CASE WHEN reorder_level IS NULL THEN NULL WHEN available <= reorder_level THEN 1 ELSE 0 END"
_CARDS = f"""
            FROM qasida_stock_cards AS s LEFT JOIN qasida_products AS p ON p.product_id = s.product_id
            LEFT JOIN reorder_levels AS rw ON rw.product_code = {_CODE} AND rw.warehouse_id = s.warehouse_id
            LEFT JOIN reorder_levels AS ra ON ra.product_code = {_CODE} AND ra.warehouse_id = ''
            LEFT JOIN lead_times AS lw ON lw.warehouse_id = s.warehouse_id
            LEFT JOIN lead_times AS ld ON ld.warehouse_id = ''"""

STOCK_LEVELS = Dataset(
    name="stock_levels",
    sql=f"""
        SELECT warehouse, product, product_code, unit, quantity, reserved, available, reorder_level,
               {_BELOW} AS below_reorder_level,
               CASE WHEN known AND daily > 0 THEN round(max(available, 0) / daily, 1) END AS days_of_cover,
               CASE WHEN NOT known OR lead_time_days IS NULL THEN NULL WHEN daily <= 0 THEN 0
                    WHEN max(available, 0) / daily < lead_time_days THEN 1 ELSE 0 END
                   AS runs_out_before_next_delivery,
               lead_time_days, warehouse_id, product_id, synced_at
        FROM (
            WITH demand AS ({_DEMAND}),
                 by_warehouse AS (SELECT product_id, warehouse_id, daily FROM demand WHERE warehouse_id IS NOT NULL),
                 anywhere AS (SELECT product_id, total(daily) AS daily FROM demand WHERE warehouse_id IS NULL
                              GROUP BY product_id)
            SELECT s.warehouse, s.product, {_CODE} AS product_code,
                   s.unit, s.quantity, s.reserved, {_AVAILABLE} AS available, {_LEVEL} AS reorder_level,
                   {_LEAD} AS lead_time_days, coalesce(dw.daily, 0) + coalesce(da.daily, 0) AS daily,
                   {_KNOWN} AS known, s.warehouse_id, s.product_id, s.synced_at{_CARDS}
            LEFT JOIN by_warehouse AS dw ON dw.product_id = s.product_id AND dw.warehouse_id = s.warehouse_id
            LEFT JOIN anywhere AS da ON da.product_id = s.product_id) AS stock""",
    columns=("warehouse", "product", "product_code", "unit", "quantity", "reserved", "available",
             "reorder_level", "below_reorder_level", "days_of_cover", "runs_out_before_next_delivery",
             "lead_time_days", "warehouse_id", "product_id", "synced_at"),
    order_by="below_reorder_level DESC, runs_out_before_next_delivery DESC, warehouse, product",
    sources=(("qasida", "stock_cards"), ("qasida", "products"), ("qasida", "customer_orders")),
    optional=(("qasida_customer_order_lines", ("order_id", "product_id", "quantity"),
               "SELECT NULL AS order_id, NULL AS line_no, NULL AS product_id, NULL AS quantity WHERE 1 = 0"),
              ("lead_times", ("warehouse_id", "lead_time_days"),
               "SELECT NULL AS warehouse_id, NULL AS lead_time_days WHERE 1 = 0")),
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
            "payload_digest", "requested_by", "job_id", "created_at", "updated_at",
            "erp_order_number", "source_row"),  # the ERP number and file row staff know it by (issue 21)
           "created_at DESC, upload_id"),
    _table("tax_calculations", "tax_calculations",
           ("id", "calculated_at", "requested_by", "from_country", "to_country", "to_postal_code",
            "tax_code", "transaction_type", "currency", "amount", "rate", "tax_amount", "tax_name",
            "status", "notice", "tax_amount_computed"),
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
    d.name: d for d in (ORDERS, BUSINESS_ORDERS, RECEIVABLES, PAYABLES, INVOICES_OUTSTANDING,
                        CARRIER_INVOICES, STOCK_LEVELS, RESOURCES, *LOCAL)
}

CONTRACT_NAMES = ("orders", "order_uploads", "invoices_outstanding", "carrier_invoices", "stock_levels",
                  "resources", "tax_calculations", "tax_id_validations", "sync_runs", "jobs",
                  "audit_log", "webhook_events", "receivables_outstanding", "payables_outstanding",
                  "business_orders")


def sql_for(db: Database, dataset: Dataset) -> str:
    """The dataset's SQL for this database: an optional table that is missing, or lacks a column
    the SQL reads, is replaced by an empty SELECT (so a figure degrades to "none"/"unknown")."""
    sql = dataset.sql
    for table, columns, empty in dataset.optional:
        present = set(db[table].columns_dict)  # empty when the table is missing (either database)
        if not set(columns) <= present:
            sql = re.sub(rf"\b{table}\b", f"({empty})", sql)
    return sql


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
