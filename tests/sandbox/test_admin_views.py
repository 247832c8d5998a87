"""Admin routes the five-questions browser test (tests/e2e/test_five_questions.py) relies on: Upwell's own invoice
rows, and a pause of the timed ticks so the world stands still while a test compares it with the dashboard."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.conftest import StartSandbox


def test_upwell_invoices_are_the_state_its_events_tell(start_sandbox: StartSandbox) -> None:
    with httpx.Client(base_url=f"{start_sandbox().base_url}/_admin", timeout=30) as admin:
        sent = admin.post("/upwell/emit", json={"count": 120}).json()["events"]
        invoices = admin.get("/upwell/invoices").json()["invoices"]
    last: dict[str, dict[str, Any] | None] = {}
    for delivery in sent:  # in the order sent: the last event of an invoice is its state
        new = delivery["event"]["payload"]["new"]
        last[delivery["resourceId"]] = None if new is None or new.get("deleted_at") else new
    # the figures' fields (an event may carry total_tax_amount as a string: test_upwell.py)
    held = {row["id"]: (row["status"], row["balance"], row["currency"]) for row in invoices}
    assert held == {k: (v["status"], v["balance"], v["currency"]) for k, v in last.items() if v is not None}
    assert any(v is None for v in last.values())  # deletes happened, and those invoices are gone


def _ticks(admin: httpx.Client) -> int:
    return int(admin.post("/_admin/pause", json={"paused": True}).json()["ticks"])


def test_a_paused_world_skips_its_timed_ticks_but_not_a_run(start_sandbox: StartSandbox) -> None:
    config = start_sandbox(tick_seconds=0.05)
    with httpx.Client(base_url=config.base_url, timeout=30) as admin:
        before = _ticks(admin)
        time.sleep(0.5)  # ten tick periods observed, not a wait for a condition
        assert _ticks(admin) == before
        assert admin.post("/_admin/run", json={"seconds": 10}).json()["ticks"] == before + 2  # pace 5 s
        assert admin.post("/_admin/pause", json={"paused": False}).json() == {"paused": False, "ticks": before + 2}
        deadline = time.monotonic() + 10
        while _unpaused_ticks(admin) <= before + 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling with a deadline: the timed ticks resume
        assert _unpaused_ticks(admin) > before + 2


def _unpaused_ticks(admin: httpx.Client) -> int:
    return int(admin.post("/_admin/pause", json={"paused": False}).json()["ticks"])
