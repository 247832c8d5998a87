"""Cargobase's audit queue stays exact when the invoice list shrinks while it is paged (issue 18 point 4).

The list is paged by number, newest first (seeds/004 line 74), with a footer `count` (line 47). A fake
Cargobase over `httpx.MockTransport` holds 450 invoices: numbers 1..391 awaiting audit, 392..450 (the 59
newest) approved. Pages of 200: page 1 = invoices 450..251, page 2 = 250..51, page 3 = 50..1.

Worked by hand for the shrinking pass: after page 1 the 5 newest invoices (450..446, approved) leave.
Page 2 of the now 445-long list starts at position 201 = invoice 245, so 250..246 (awaiting audit) slid
to page 1 unread; the read sees 445 distinct invoices under counts {450, 445}. The old code marked
250..246 gone after that one read: the queue fell from 391 to 386. Now the read is not verified, the list
is read again (counts {445}, 445 seen: verified), and the queue is 391 after the pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlite_utils import Database

from sandbox.context import SandboxConfig
from sandbox.server import client_env
from services.cargobase.client import make_client
from services.core import VendorClient
from services.settings import Settings
from store.statuses import cargobase_outstanding_sql
from sync.engine import run_resource, with_fetch
from sync.vendors import cargobase as cargobase_sync

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BASE = "https://pluto.cargobase.com/api/1"


@dataclass
class ShrinkingCargobase:
    """Invoices `k` (newest = highest), the doc's footer, and invoices that leave between page requests."""

    awaiting: int = 391
    total: int = 450
    leave_after_page: dict[int, int] = field(default_factory=dict)  # request number -> how many leave
    listed: list[int] = field(default_factory=list)
    approved: set[int] = field(default_factory=set)
    requests: int = 0

    def __post_init__(self) -> None:
        self.listed = list(range(self.total, 0, -1))
        self.approved = set(range(self.awaiting + 1, self.total + 1))

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        size, number = int(request.url.params.get("page_size", 50)), int(request.url.params.get("page", 1))
        chunk = self.listed[(number - 1) * size: number * size]
        more = number * size < len(self.listed)
        body = {"count": len(self.listed), "page": number, "previous": None,
                "next": str(request.url.copy_set_param("page", number + 1)) if more else None,
                "record_start": (number - 1) * size + 1, "record_end": (number - 1) * size + len(chunk),
                "results": [self.invoice(k) for k in chunk]}
        for _ in range(self.leave_after_page.pop(self.requests, 0)):  # the newest approved leave first
            self.listed.remove(max(k for k in self.listed if k in self.approved))
        return httpx.Response(200, json=body)

    def invoice(self, k: int) -> dict[str, Any]:
        return {"shipment_reference": f"CBS{k:04d}", "provider_invoice_number": f"FF-{k:04d}",
                "invoice_status": "Approved" if k in self.approved else "Awaiting audit",
                "provider_name": "Falcon Forwarding", "submit_date": "2026-11-30",
                "modified": "2026-11-30T10:00:00Z"}

    def queue(self) -> set[str]:
        return {f"CBS{k:04d}" for k in self.listed if k not in self.approved}


def client(db_path: Path | str, vendor: ShrinkingCargobase) -> VendorClient:
    settings = Settings(opsdash_db=db_path, cargobase_base_url=BASE,
                        cargobase_token=SecretStr("tok"))
    return make_client(settings, transport=httpx.MockTransport(vendor.answer), sleep=lambda s: None)


def run_pass(db: Database, db_path: Path | str, vendor: ShrinkingCargobase, at: datetime, reads: int = 3) -> None:
    (res,) = cargobase_sync.declarations()
    res = with_fetch(res, cargobase_sync.verified_reads(page_size=200, reads=reads))
    with client(db_path, vendor) as c:
        assert run_resource(db, c, res, now=at).ok


def queue(db: Database) -> set[str]:
    sql = f"SELECT shipment_reference FROM cargobase_invoices WHERE {cargobase_outstanding_sql()}"
    return {r[0] for r in db.execute(sql).fetchall()}


def gone(db: Database) -> set[str]:
    sql = "SELECT shipment_reference FROM cargobase_invoices WHERE gone_from_vendor_at IS NOT NULL"
    return {r[0] for r in db.execute(sql).fetchall()}


def test_the_450_invoice_shrink_keeps_the_queue_exact_after_every_pass(db: Database, db_path: Path | str) -> None:
    vendor = ShrinkingCargobase()
    run_pass(db, db_path, vendor, T0)  # a quiet pass: 3 pages, verified
    assert len(queue(db)) == 391 and queue(db) == vendor.queue() and vendor.requests == 3

    vendor.leave_after_page = {vendor.requests + 1: 5}  # after page 1 of the next pass, 450..446 leave
    run_pass(db, db_path, vendor, T0 + timedelta(minutes=15))
    assert len(queue(db)) == 391 and queue(db) == vendor.queue()  # was 386 before issue 18
    assert vendor.requests == 3 + 3 + 3  # the shifted read, then one verified read
    assert gone(db) == set()  # 450..446 were seen in this pass's first read: marked by the next pass

    run_pass(db, db_path, vendor, T0 + timedelta(minutes=30))
    assert len(queue(db)) == 391 and queue(db) == vendor.queue()
    assert gone(db) == {f"CBS{k:04d}" for k in range(446, 451)}


def test_a_list_that_never_holds_still_marks_nothing_gone(db: Database, db_path: Path | str) -> None:
    vendor = ShrinkingCargobase()
    run_pass(db, db_path, vendor, T0)
    # Two invoices leave after every first page of a read, for three reads: no read is verified.
    vendor.leave_after_page = {4: 2, 7: 2, 10: 2}
    run_pass(db, db_path, vendor, T0 + timedelta(minutes=15))
    assert vendor.requests == 3 + 9
    assert gone(db) == set() and len(queue(db)) == 391 and queue(db) == vendor.queue()


def test_audited_invoices_leave_the_queue_and_the_gone_marks_follow_a_verified_read(
    db: Database, db_path: Path | str
) -> None:
    vendor = ShrinkingCargobase()
    run_pass(db, db_path, vendor, T0)
    vendor.approved |= {391, 390, 1}  # audited between passes: still listed, as Approved (seeds/004 line 36)
    vendor.listed.remove(450)  # an old approved invoice's 24 h ran out between passes
    run_pass(db, db_path, vendor, T0 + timedelta(minutes=15))
    assert len(queue(db)) == 388 and queue(db) == vendor.queue()
    assert gone(db) == {"CBS0450"} and vendor.requests == 6


# --- against the sandbox: its list shrinks while a pass pages it (the `shrink_while_paging` fault) ------------


def sandbox_listing(config: SandboxConfig, **params: Any) -> list[dict[str, Any]]:
    env = client_env(config)
    body = httpx.get(env["CARGOBASE_BASE_URL"] + "/invoices/", params={"page_size": 500, **params},
                     headers={"Authorization": f"Token {env['CARGOBASE_TOKEN']}"}, timeout=10).json()
    assert body["next"] is None
    return list(body["results"])


def test_the_sandbox_shrinking_while_paged_loses_no_queued_invoice(
    db: Database, db_path: Path | str, relaxed_sandbox: SandboxConfig, admin: httpx.Client
) -> None:
    env = {k.lower(): v for k, v in client_env(relaxed_sandbox).items()}
    # Invoices audited just now, so the whole list holds finished ones the fault can drop whatever the hour: the
    # world's are audited before the start of today (UTC) and leave the list 24 h after (vendor-specs README), so late in
    # the day none was left to drop and the fault had nothing to do.
    admin.post("/_admin/tick", params={"count": 3})
    assert sandbox_listing(relaxed_sandbox, status="approved"), "no finished invoice listed: the fault has none"
    (res,) = cargobase_sync.declarations()
    res = with_fetch(res, cargobase_sync.verified_reads(page_size=5))
    awaiting = {r["shipment_reference"] for r in sandbox_listing(relaxed_sandbox, status="awaiting_audit")}
    with make_client(Settings.model_validate({**env, "opsdash_db": db_path})) as c:
        assert run_resource(db, c, res, now=T0).ok and queue(db) == awaiting
        before = {r["shipment_reference"] for r in sandbox_listing(relaxed_sandbox)}
        admin.put("/_admin/faults/cargobase", json={"shrink_while_paging": 1})  # after every page, every read
        assert run_resource(db, c, res, now=T0 + timedelta(minutes=15)).ok
        admin.delete("/_admin/faults")
        left = before - {r["shipment_reference"] for r in sandbox_listing(relaxed_sandbox)}
        assert left and gone(db) == set() and queue(db) == awaiting  # no read verified: nothing marked gone
        assert run_resource(db, c, res, now=T0 + timedelta(minutes=30)).ok
    assert gone(db) == left and queue(db) == awaiting
