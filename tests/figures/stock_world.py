"""A small stock world both the five answers' and the stock flags' tests count by hand: Bolt and Nut in Brno (1)
and Praha (2), 12 / 24 Bolts and 6 / 1 Nuts available; one order per warehouse dated `order_day` (within the 30
days of demand the dataset counts back from its today): Bolt 3 a day in each warehouse, Nut 1 a day in Brno."""

from __future__ import annotations

from sqlite_utils import Database

from store.store import upsert_records


def stock_world(db: Database, *, order_day: str, synced_at: str, unit: str | None = None) -> None:
    upsert_records(db, "qasida_warehouses", [{"warehouse_id": w, "code": f"0{w}", "name": n, "synced_at": synced_at}
                                             for w, n in (("1", "Brno"), ("2", "Praha"))], "warehouse_id")
    upsert_records(db, "qasida_products", [{"product_id": p, "code": c, "name": n, "synced_at": synced_at}
                                           for p, c, n in (("p1", "BOLT", "Bolt"), ("p2", "NUT", "Nut"))],
                   "product_id")
    upsert_records(db, "qasida_stock_cards", [
        {"stock_card_id": f"s{i}", "warehouse_id": w, "warehouse": n, "product_id": p, "product": name,
         "unit": unit, "quantity": q, "reserved": 0.0, "available": q, "synced_at": synced_at}
        for i, (w, n, p, name, q) in enumerate((("1", "Brno", "p1", "Bolt", 12.0), ("2", "Praha", "p1", "Bolt", 24.0),
                                                ("1", "Brno", "p2", "Nut", 6.0), ("2", "Praha", "p2", "Nut", 1.0)))],
        "stock_card_id")
    upsert_records(db, "qasida_customer_orders", [
        {"order_id": o, "number": f"SO-{o}", "order_date": order_day, "warehouse_id": w, "synced_at": synced_at}
        for o, w in (("o1", "1"), ("o2", "2"))], "order_id")
    upsert_records(db, "qasida_customer_order_lines", [
        {"order_id": "o1", "line_no": 1, "product_id": "p1", "quantity": 90.0, "synced_at": synced_at},  # Bolt, Brno
        {"order_id": "o2", "line_no": 1, "product_id": "p1", "quantity": 90.0, "synced_at": synced_at},  # Bolt, Praha
        {"order_id": "o1", "line_no": 2, "product_id": "p2", "quantity": 30.0, "synced_at": synced_at},  # Nut, Brno
    ], ("order_id", "line_no"))
