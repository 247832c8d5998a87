"""The living world (sandbox/living.py): after 8 business hours at the demo's pace every Overview figure is still
non-trivial, and a restart with a saved state resumes the same world.

The 8-hour run drives the sandbox clock through POST /_admin/run (5 s a tick, as `opsdash demo` ticks), then
brings the world into a database the way production does: Quaderno, Qasida and Cargobase by a sync, Qargo and
Upwell by their webhook bodies (collected in-process, the last body per order or invoice ingested: the state
they end in). The sync's clients keep the vendors' rate limits in virtual time (tests/virtual_time.py). The figures are the Overview's own (figures/kpis.py `overview`) at the sandbox's clock.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from actions.reorder import import_levels
from actions.roles import Actor
from figures.kpis import overview
from sandbox.app import create_app
from sandbox.context import Limits, SandboxConfig
from sandbox.server import client_env, free_port, serving
from sandbox.world import World
from services.settings import Settings, get_settings
from store.db import connect
from store.schema import migrate
from sync.engine import run_all
from sync.resources import resources_for
from tests.sandbox.test_qargo import api, preexisting_order_id
from tests.virtual_time import clients_in_virtual_time
from webhooks.ingest import ingest_qargo, ingest_upwell

EIGHT_HOURS = 8 * 3600
PULLED = ("quaderno", "qasida", "cargobase", "qargo")  # qargo: the planned dates of the orders events told of


class Collector:
    """Stands in for the dashboard's webhook routes: keeps every body, answers 200."""

    def __init__(self) -> None:
        self.qargo: dict[str, dict[str, Any]] = {}  # order id -> last visibility body
        self.upwell: dict[str, dict[str, Any]] = {}  # carrier invoice id -> last event

    async def post(self, target: Any, payload: dict[str, Any]) -> int:
        if "events" in payload:
            self.qargo[payload["order"]["id"]] = payload
        else:
            self.upwell[payload["resourceId"]] = payload
        return 200


def living(collected: bool = False, **kwargs: Any) -> SandboxConfig:
    config = SandboxConfig(living=True, limits=Limits.relaxed(), port=free_port(), **kwargs)
    if collected:  # Collector.post stands in for the POST
        config.qargo_webhook.url = config.upwell_webhook.url = "http://collected.invalid/in-process"
    return config


def sync_into(path: Path, config: SandboxConfig, collector: Collector, now: datetime) -> None:
    db = connect(path)
    try:
        migrate(db)
        for body in collector.qargo.values():
            ingest_qargo(db, json.dumps(body).encode(), now)
        for event in collector.upwell.values():
            ingest_upwell(db, json.dumps(event).encode(), now)
        values: dict[str, Any] = {k.lower(): v for k, v in client_env(config).items()}
        settings = Settings(**values, opsdash_db=path)
        clients = clients_in_virtual_time(settings, PULLED)  # the limiters' waits pass in virtual time
        try:
            for _ in range(2):  # Qasida's claims and liabilities read the customers the first pass brings
                assert [r.error for r in run_all(db, clients, resources_for(db, PULLED)) if not r.ok] == []
        finally:
            for client in clients.values():
                client.close()
        # Our reorder levels (the ERP has none): the world's own thresholds, as a buyer would set them.
        csv = "product_code,warehouse,reorder_level\n" + "".join(
            f"{p.sku},,{p.reorder_threshold}\n" for p in World(seed=config.seed).products)
        import_levels(db, Actor("test", "operator"), csv.encode())
    finally:
        db.close()


@pytest.fixture
def utc_business_calendar(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("OPSDASH_TIMEZONE", "UTC")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_after_eight_hours_every_overview_figure_is_still_alive(tmp_path: Path, utc_business_calendar: Any) -> None:
    config, collector = living(collected=True), Collector()
    app = create_app(config)
    app.state.ctx.post_webhook = collector.post
    with serving(app, config.host, config.port, timeout=60) as base:
        with httpx.Client(base_url=base, timeout=300) as admin:
            ran = admin.post("/_admin/run", json={"seconds": EIGHT_HOURS}).json()
        now = datetime.fromisoformat(ran["now"])
        assert ran["ticks"] == EIGHT_HOURS // 5
        sync_into(tmp_path / "cache.db", config, collector, now)
    db = connect(tmp_path / "cache.db")
    try:
        kpi = overview(db, now)
        last_day = overview(db, now, orders={"order_date__gte": (now - timedelta(days=1)).date().isoformat()})
    finally:
        db.close()
    statuses = {status for status, n in kpi.orders_by_status.items() if n}
    # Not every order 'Invoice posted': orders are still planned, on the road and being invoiced.
    assert len(statuses) >= 4, kpi.orders_by_status
    assert last_day.business_orders >= 10  # new orders keep arriving (hundreds in 8 hours at small scale)
    assert kpi.late_orders >= 1
    assert kpi.stock.below_reorder_level >= 10
    assert kpi.receivables.overdue_count >= 10 and kpi.payables.overdue_count >= 3
    assert sum(kpi.receivables.outstanding.values()) > 1_000_000  # about 8.9 M at the start
    assert kpi.payables.outstanding and all(v > 0 for v in kpi.payables.outstanding.values())
    assert kpi.payables.without_amount >= 5  # Cargobase invoices still awaiting audit


def _world_view(config: SandboxConfig) -> dict[str, Any]:
    """What a client sees of the world: Cargobase's queue and the first arrived Qargo orders' statuses."""
    with httpx.Client(base_url=f"{config.base_url}/cargobase/api/1", timeout=30,
                      headers={"Authorization": f"Token {config.credentials.cargobase_token}"}) as cargobase:
        queue = cargobase.get("/invoices/", params={"status": "awaiting_audit", "page_size": 500}).json()
    with api(config) as qargo:
        arrived = [qargo.get(f"/v1/orders/order/{preexisting_order_id(i)}/status") for i in range(41, 46)]
    return {"queue": sorted(r["shipment_reference"] for r in queue["results"]),
            "arrived": [r.json().get("status") if r.status_code == 200 else r.status_code for r in arrived]}


def test_a_restart_resumes_the_saved_world(tmp_path: Path) -> None:
    state = tmp_path / "demo.db.sandbox.json"
    first = living(state_path=str(state))
    with serving(create_app(first), first.host, first.port):
        with httpx.Client(base_url=first.base_url, timeout=120) as admin:
            admin.post("/_admin/run", json={"seconds": 3600})
            admin.post("/_admin/tick")  # a tick outside /_admin/run counts as well
        before = _world_view(first)
    saved = json.loads(state.read_text())
    assert saved["ticks"] == 721 and saved["seed"] == 1

    # Restarted with another seed on its command line: the saved world wins.
    again = living(state_path=str(state), seed=7)
    with serving(create_app(again), again.host, again.port, timeout=60):
        after = _world_view(again)
    assert again.seed == 1
    assert after == before
    assert all(isinstance(s, str) for s in before["arrived"])  # orders that arrived during the hour exist

    fresh = living()  # no state: a new world, in which those orders never arrived
    with serving(create_app(fresh), fresh.host, fresh.port):
        assert _world_view(fresh)["arrived"] == [404] * 5
