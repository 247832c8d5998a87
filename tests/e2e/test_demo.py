"""`opsdash demo` end to end: the app serves, the sandbox answers, one Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Demo, rows, start_demo, stop_demo

pytestmark = pytest.mark.e2e
VENDORS = ("qargo", "quaderno", "qasida", "cargobase", "upwell")


def test_vendors_page_shows_each_sandbox_vendor_answering(demo: Demo, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{demo.url}/vendors")
    table = page.locator("[data-testid='stTable']").first
    table.wait_for()
    assert "not checked" in table.inner_text()  # opening the page calls no vendor
    page.get_by_role("button", name="Check connections").click()
    page.get_by_text("answers (HTTP").first.wait_for()
    page.screenshot(path=str(demo.folder / "vendors.png"))
    cells = [[c.inner_text().strip() for c in tr.locator("th, td").all()] for tr in table.locator("tbody tr").all()]
    rows = {next(c.lower() for c in r if c.lower() in VENDORS): " ".join(r) for r in cells}  # shown as "Qargo"
    for vendor in ("qargo", "quaderno", "qasida", "cargobase"):
        assert "answers (HTTP" in rows[vendor], rows
    assert "pushes to /webhooks/upwell" in rows["upwell"]


def test_demo_sandbox_prints_its_env_and_serves_every_prefix(demo: Demo) -> None:
    health = httpx.get(f"{demo.sandbox_url}/_admin/health").json()
    assert health["ok"] is True and health["scale"] == "small"


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False).stdout
    return [int(x) for x in out.split()]


def test_one_ctrl_c_stops_everything(tmp_path: Path) -> None:
    demo = start_demo(tmp_path)
    pids = [demo.process.pid, *_children(demo.process.pid)]
    pids += [c for p in pids[1:] for c in _children(p)]
    assert len(pids) >= 3  # demo supervisor, sandbox, streamlit
    stop_demo(demo)
    assert demo.process.returncode is not None
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            alive.append(pid)
        except ProcessLookupError:
            pass
    assert alive == [], f"processes left behind: {alive}"
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{demo.url}/_stcore/health", timeout=1)
    assert signal.SIGINT  # documented: the test sends SIGINT, as Ctrl-C does


def test_sandbox_events_arrive_through_the_dashboards_webhook_routes(demo: Demo) -> None:
    """The demo seeds nothing by hand: Upwell and Qargo push to /webhooks/* on the dashboard's port."""
    import time

    httpx.post(f"{demo.sandbox_url}/_admin/tick", params={"count": 3}, timeout=30)
    deadline, counts = time.monotonic() + 30, {}
    while time.monotonic() < deadline:
        counts = dict(rows(demo.db, "SELECT source, count(*) FROM webhook_events WHERE outcome = 'accepted' "
                                    "GROUP BY source"))
        if counts.get("upwell") and counts.get("qargo"):
            break
        time.sleep(0.5)
    assert counts.get("upwell", 0) > 0 and counts.get("qargo", 0) > 0, counts
    assert rows(demo.db, "SELECT count(*) FROM carrier_invoices")[0][0] > 0
