"""The Cargobase simulator over real HTTP: token auth, filters, page/page_size paging with the
footer, the 24 h drop-off of final invoices, the expired-cursor fault, determinism."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from sandbox.context import Limits, SandboxConfig
from tests.conftest import StartSandbox

DOCUMENTED = {
    "shipment_reference",
    "invoice_reference",
    "invoice_status",
    "provider_name",
    "provider_invoice_number",
    "freight_mode",
    "primary_tracking_number",
    "submit_date",
    "modified",
}
FOOTER = {"count", "next", "previous", "page", "record_start", "record_end", "results"}
TOKEN = "sandbox-cargobase-token"


def cargobase(config: SandboxConfig, token: str = TOKEN) -> httpx.Client:
    return httpx.Client(
        base_url=f"{config.base_url}/cargobase/api/1", timeout=10, headers={"Authorization": f"Token {token}"}
    )


@pytest.fixture
def api(relaxed_sandbox: SandboxConfig) -> Iterator[httpx.Client]:
    with cargobase(relaxed_sandbox) as client:
        yield client


def walk(api: httpx.Client, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every result through `next` (bounded), and the pages."""
    pages = [api.get("/invoices/", params=params).json()]
    for _ in range(500):
        if pages[-1]["next"] is None:
            break
        pages.append(api.get(pages[-1]["next"]).json())
    return [r for p in pages for r in p["results"]], pages


def test_missing_or_wrong_token_is_403(relaxed_sandbox: SandboxConfig) -> None:
    missing = httpx.get(f"{relaxed_sandbox.base_url}/cargobase/api/1/invoices/")
    assert missing.status_code == 403 and missing.json() == {
        "detail": "Authentication credentials were not provided."
    }
    with cargobase(relaxed_sandbox, token="nope") as client:
        wrong = client.get("/invoices/")
    assert wrong.status_code == 403 and wrong.json() == {"detail": "Invalid token."}


def test_results_have_exactly_the_documented_fields(api: httpx.Client) -> None:
    body = api.get("/invoices/").json()
    assert set(body) == FOOTER and body["results"]
    for row in body["results"]:
        assert set(row) == DOCUMENTED
        assert row["modified"].endswith("Z") and date.fromisoformat(row["submit_date"])


def test_paging_to_the_last_page(api: httpx.Client, relaxed_sandbox: SandboxConfig) -> None:
    rows, pages = walk(api, page_size=10)
    count = pages[0]["count"]
    assert len(rows) == count > 10 and len({r["shipment_reference"] for r in rows}) == count
    assert [r["submit_date"] for r in rows] == sorted((r["submit_date"] for r in rows), reverse=True)
    assert pages[0]["next"].startswith(f"{relaxed_sandbox.base_url}/cargobase/api/1/invoices/")
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    assert [(p["page"], p["record_start"], p["record_end"]) for p in pages[:2]] == [(1, 1, 10), (2, 11, 20)]
    assert pages[-1]["record_end"] == count
    assert "page=" not in pages[1]["previous"]  # DRF drops page=1


def test_page_size_default_50_and_capped_at_500(api: httpx.Client) -> None:
    default = api.get("/invoices/").json()
    assert len(default["results"]) == min(50, default["count"])
    huge = api.get("/invoices/", params={"page_size": 10_000}).json()
    assert len(huge["results"]) == min(500, huge["count"]) and huge["next"] is None


def test_page_beyond_the_end_is_drf_invalid_page(api: httpx.Client) -> None:
    response = api.get("/invoices/", params={"page": 999})
    assert response.status_code == 404 and response.json() == {"detail": "Invalid page."}
    assert api.get("/invoices/", params={"page": "last", "page_size": 5}).json()["next"] is None


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("awaiting_audit", "Awaiting audit"),
        ("declined", "Declined"),
        ("approved", "Approved"),
    ],
)
def test_status_filter(api: httpx.Client, value: str, label: str) -> None:
    rows, _ = walk(api, status=value, page_size=100)
    assert all(r["invoice_status"] == label for r in rows)


def test_unsubmitted_are_invisible_and_unknown_status_is_400(api: httpx.Client) -> None:
    assert api.get("/invoices/", params={"status": "unsubmitted"}).json()["count"] == 0
    assert api.get("/invoices/", params={"status": "lost"}).status_code == 400


def test_submit_date_filters(api: httpx.Client) -> None:
    today = datetime.now(UTC).date()
    this_month = walk(api, submit_date="this_month", page_size=500)[0]  # empty early on the 1st
    assert all(r["submit_date"][:7] == today.isoformat()[:7] for r in this_month)
    last = (today.replace(day=1) - timedelta(days=1)).isoformat()[:7]
    last_month = walk(api, submit_date="last_month", page_size=500)[0]
    assert last_month and all(r["submit_date"][:7] == last for r in last_month)
    day = api.get("/invoices/").json()["results"][0]["submit_date"]
    exact_day = walk(api, submit_date=day, page_size=500)[0]
    assert exact_day and {r["submit_date"] for r in exact_day} == {day}
    assert api.get("/invoices/", params={"submit_date": "yesterday"}).status_code == 400


def test_expired_cursor_fault_answers_invalid_page_once(api: httpx.Client, admin: httpx.Client) -> None:
    admin.put("/_admin/faults/cargobase", json={"expire_cursor": True})
    assert api.get("/invoices/").status_code == 200  # no page parameter: still armed
    failed = api.get("/invoices/", params={"page": 1})
    assert failed.status_code == 404 and failed.json() == {"detail": "Invalid page."}
    assert api.get("/invoices/", params={"page": 1}).status_code == 200


def test_final_invoices_leave_the_list_after_24_hours(start_sandbox: StartSandbox) -> None:
    config = start_sandbox(limits=Limits.relaxed())

    def approved(client: httpx.Client) -> set[str]:
        return {r["shipment_reference"] for r in walk(client, status="approved", page_size=500)[0]}

    with cargobase(config) as client, httpx.Client(base_url=config.base_url, timeout=10) as admin:
        before, fresh = approved(client), set()
        for _ in range(20):  # bounded: each round decides ~30 % of the waiting invoices
            admin.post("/_admin/tick")
            fresh = approved(client) - before
            if fresh:
                break
        assert fresh
        total = client.get("/invoices/").json()["count"]
        admin.post("/_admin/clock", json={"advance_seconds": 23 * 3600})
        assert fresh <= approved(client)  # approved by the tick 23 h ago: still listed
        admin.post("/_admin/clock", json={"advance_seconds": 2 * 3600})
        assert approved(client) == set()
        assert client.get("/invoices/").json()["count"] <= total - len(fresh)


def test_ticks_stamp_modified_with_business_time(start_sandbox: StartSandbox) -> None:
    config = start_sandbox(limits=Limits.relaxed())
    with cargobase(config) as client, httpx.Client(base_url=config.base_url, timeout=10) as admin:
        admin.post("/_admin/clock", json={"advance_seconds": 3 * 86_400})
        admin.post("/_admin/tick", params={"count": 3})
        now = datetime.fromisoformat(admin.get("/_admin/health").json()["now"])
        newest = max(r["modified"] for r in walk(client, page_size=500)[0])
    assert now - timedelta(minutes=5) <= datetime.fromisoformat(newest) <= now


def test_a_seed_gives_the_same_invoices(start_sandbox: StartSandbox, api: httpx.Client) -> None:
    with (
        cargobase(start_sandbox(limits=Limits.relaxed())) as same,
        cargobase(start_sandbox(limits=Limits.relaxed(), seed=2)) as other,
    ):
        mine = api.get("/invoices/", params={"page_size": 500}).json()["results"]
        assert same.get("/invoices/", params={"page_size": 500}).json()["results"] == mine
        assert other.get("/invoices/", params={"page_size": 500}).json()["results"] != mine
