"""The Cargobase simulator's `shrink_while_paging` fault: the list shrinks while it is paged, newest first
(seeds/004 line 74), and the footer's `count` (line 47) says so on the next page (issue 18 point 4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.context import SandboxConfig
from tests.sandbox.test_cargobase import cargobase


@pytest.fixture
def api(relaxed_sandbox: SandboxConfig) -> Iterator[httpx.Client]:
    with cargobase(relaxed_sandbox) as client:
        yield client


def refs(body: dict[str, Any]) -> list[str]:
    return [r["shipment_reference"] for r in body["results"]]


def test_awaiting_audit_invoices_already_served_are_audited_before_the_next_page(
    api: httpx.Client, admin: httpx.Client
) -> None:
    before = refs(api.get("/invoices/", params={"status": "awaiting_audit", "page_size": 500}).json())
    assert len(before) > 10
    admin.put("/_admin/faults/cargobase", json={"shrink_while_paging": 2})
    first = api.get("/invoices/", params={"status": "awaiting_audit", "page_size": 4}).json()
    admin.delete("/_admin/faults")  # one shrink only: after page 1
    second = api.get(first["next"]).json()
    assert refs(first) == before[:4] and first["count"] == len(before)
    assert second["count"] == len(before) - 2  # the footer shows the shrink
    assert refs(second) == before[6:10]  # before[4:6] slid to page 1, unread
    approved = {r["shipment_reference"]: r["invoice_status"] for r in api.get(
        "/invoices/", params={"status": "approved", "page_size": 500}).json()["results"]}
    assert all(approved.get(ref) == "Approved" for ref in before[:2])  # the 2 newest were audited


def test_final_invoices_already_served_drop_out_of_the_whole_list(api: httpx.Client, admin: httpx.Client) -> None:
    whole = api.get("/invoices/", params={"page_size": 500}).json()["results"]
    served = 15
    final = [r["shipment_reference"] for r in whole[:served]
             if r["invoice_status"] in ("Approved", "Canceled", "Removed")]
    assert final and len(whole) > served  # the small world has audited invoices among its newest
    admin.put("/_admin/faults/cargobase", json={"shrink_while_paging": 1})
    first = api.get("/invoices/", params={"page_size": served}).json()
    admin.delete("/_admin/faults")  # one shrink only: after page 1
    second = api.get(first["next"]).json()
    assert (first["count"], second["count"]) == (len(whole), len(whole) - 1)
    after = {r["shipment_reference"] for r in api.get("/invoices/", params={"page_size": 500}).json()["results"]}
    assert final[0] not in after and len(after) == len(whole) - 1  # the newest final one left
