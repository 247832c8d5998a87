"""The status poll never erases a known reference (issue 18 point 2): `OrderWithStatus.customer_reference_number`
is nullable (vendor-specs/qargo/qargo-tms-openapi-v1.2.0-2026.yml line 17295); a null keeps the stored ERP
number, a new value replaces it. The plan is the answer's last delivery stop `date` (line 17042)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlite_utils import Database

from services.qargo import resources as qargo_api
from services.qargo.models import OrderWithStatus
from store.store import upsert_records
from sync.engine import run_resource
from sync.resources import resources_for

ANSWERS = {
    "a": {"id": "a", "customer_reference_number": None, "status": "IN_TRANSIT",
          "last_delivery_stop": {"id": "s1", "location": {"name": "X"}, "date": "2026-11-20"}},
    "b": {"id": "b", "customer_reference_number": "SO-9", "status": "PLANNED",
          "last_delivery_stop": {"id": "s2", "location": {"name": "Y"}, "date": "2026-11-21"}},
}


def test_a_null_reference_from_the_poll_keeps_the_stored_one(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    synced = {"raw": "{}", "synced_at": "2026-11-01T00:00:00.000Z"}
    upsert_records(db, "qargo_orders", [
        {"order_id": "a", "reference": "SO-1", "status": "PLANNED", "delivery_date": "2026-11-19", **synced},
        {"order_id": "b", "reference": "SO-2", "status": "PLANNED", **synced}], "order_id")
    asked: list[str] = []

    def order_status(client: Any, order_id: str) -> OrderWithStatus:
        asked.append(order_id)
        return OrderWithStatus.model_validate(ANSWERS[order_id])

    monkeypatch.setattr(qargo_api, "order_status", order_status)
    [orders] = [r for r in resources_for(db, ["qargo"]) if r.name == "orders"]
    assert run_resource(db, object(), orders).ok
    assert sorted(asked) == ["a", "b"]
    rows = {r["order_id"]: (r["reference"], r["delivery_date"], r["status"])
            for r in db.query("SELECT order_id, reference, delivery_date, status FROM qargo_orders")}
    assert rows == {"a": ("SO-1", "2026-11-20", "IN_TRANSIT"), "b": ("SO-9", "2026-11-21", "PLANNED")}
