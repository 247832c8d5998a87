"""The orders datasets (`orders`, `business_orders`) and the one rule each for "late" and "expected late"
(`late_on`, `expected_late_on`) they are written with.
"""

from __future__ import annotations

from store.dataset_sql.base import Dataset
from store.statuses import QARGO_JOURNEY_ENDED, sql_list

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
