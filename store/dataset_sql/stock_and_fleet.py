"""What operations has on hand: `stock_levels` (ERP stock cards with our reorder levels, days of cover and
lead times) and `resources` (Qargo vehicles, drivers and trailers with their unavailabilities).
"""

from __future__ import annotations

from store.dataset_sql.base import Dataset

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
