"""Quaderno's open set: every run re-reads outstanding/late with the documented `state` filter
(seeds/001 line 1491) and refreshes stored open invoices it no longer lists (issue 9 point 6)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from sqlite_utils import Database

from cache.store import upsert_records
from cache.sync.engine import run_all, run_resource
from cache.sync.resources import resources_for
from sandbox.server import client_env
from services.quaderno.client import make_client
from services.settings import Settings

S = "2026-11-20T10:00:00.000Z"


def invoice(doc_id: int, state: str, total: int, paid: list[Any] | None = None) -> dict[str, Any]:
    return {"id": doc_id, "number": f"{doc_id:05d}", "state": state, "currency": "EUR", "total_cents": total,
            "issue_date": "2026-10-01", "due_date": "2026-10-31", "contact": {"id": 9, "full_name": "Ana"},
            "payments": [{"id": i, "amount_cents": a, "date": "2026-11-19"} for i, a in enumerate(paid or [], 1)]}


class Server:
    """A Quaderno account: the list filtered by `state`, one invoice by id; every request kept."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = {d["id"]: d for d in docs}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removesuffix(".json")
        if path.endswith("/invoices"):
            state = request.url.params.get("state")
            listed = [d for d in sorted(self.docs.values(), key=lambda d: -d["id"]) if state in (None, d["state"])]
            return httpx.Response(200, json=listed, headers={"X-Pages-HasMore": "false"})
        doc_id = int(path.rsplit("/", 1)[1])
        if doc_id in self.docs:
            return httpx.Response(200, json=self.docs[doc_id])
        return httpx.Response(404, json={"error": "The specified record could not be found"})


def open_invoices(db: Database) -> Any:
    return next(r for r in resources_for(db, ["quaderno"]) if r.name == "open_invoices")


def store(db: Database, *docs: dict[str, Any]) -> None:
    rows = [{"invoice_id": str(d["id"]), "number": d["number"], "currency": "EUR", "total": d["total_cents"],
             "amount_due": d["total_cents"], "state": d["state"], "raw": json.dumps(d), "synced_at": S} for d in docs]
    upsert_records(db, "quaderno_invoices", rows, "invoice_id")


def run(db: Database, tmp_path: Path, server: Server) -> Any:
    settings = Settings(opsdash_db=tmp_path / "limits.db", quaderno_base_url="https://acme.quadernoapp.com/api",
                        quaderno_api_key="sk_test")  # type: ignore[arg-type]
    with make_client(settings, transport=httpx.MockTransport(server)) as client:
        return run_resource(db, client, open_invoices(db))


def state_of(db: Database) -> dict[str, tuple[str, int]]:
    return {r["invoice_id"]: (r["state"], r["amount_due"])
            for r in db.query("SELECT invoice_id, state, amount_due FROM quaderno_invoices")}


def test_a_paid_invoice_leaves_outstanding_in_one_run(db: Database, tmp_path: Path) -> None:
    store(db, invoice(1, "outstanding", 6000), invoice(2, "outstanding", 3240), invoice(3, "late", 3600))
    server = Server([invoice(1, "paid", 6000, [6000]), invoice(2, "outstanding", 3240, [1240]),
                     invoice(3, "late", 3600), invoice(4, "late", 27600)])
    result = run(db, tmp_path, server)
    assert result.ok, result.error
    assert state_of(db) == {"1": ("paid", 0), "2": ("outstanding", 2000), "3": ("late", 3600), "4": ("late", 27600)}
    # The documented filter, by name and place (a query parameter), then the one missing invoice by id.
    lists = [(r.url.path, r.url.params.get("state"), r.url.params.get("limit")) for r in server.requests[:2]]
    assert sorted(p[1] for p in lists) == ["late", "outstanding"] and {p[2] for p in lists} == {"100"}
    assert [r.url.path.removesuffix(".json") for r in server.requests[2:]] == ["/api/invoices/1"]


def test_an_invoice_quaderno_no_longer_knows_does_not_stop_the_run(db: Database, tmp_path: Path) -> None:
    store(db, invoice(7, "outstanding", 100))
    result = run(db, tmp_path, Server([invoice(8, "outstanding", 200)]))
    assert result.ok and state_of(db)["8"] == ("outstanding", 200)
    assert state_of(db)["7"] == ("outstanding", 100)  # kept as it was: nothing known to change it


def test_outstanding_but_covered_by_payments_has_nothing_due(db: Database, tmp_path: Path) -> None:
    """The recorded `new_sale`: state "outstanding", a payment of the whole total."""
    run(db, tmp_path, Server([invoice(5, "outstanding", 10800, [10800]), invoice(6, "outstanding", 1000, [56.6])]))
    assert state_of(db) == {"5": ("outstanding", 0), "6": ("outstanding", 943)}


def test_against_the_sandbox_paid_invoices_leave_outstanding_in_one_incremental_run(
    db: Database, relaxed_sandbox: Any, admin: httpx.Client, db_path: Path,
) -> None:
    """Issue 9 "Done when": paying a Quaderno invoice leaves outstanding within one sync."""
    env = client_env(relaxed_sandbox)
    settings = Settings(**{k.lower(): v for k, v in env.items()}, opsdash_db=db_path)
    with make_client(settings) as client:
        assert all(r.ok for r in run_all(db, {"quaderno": client}, resources_for(db, ["quaderno"])))
        before = dict(db.execute("SELECT invoice_id, state FROM quaderno_invoices WHERE state IN ('outstanding', "
                                 "'late')").fetchall())
        admin.post("/_admin/clock", json={"advance_seconds": 40 * 86400})  # customers pay as time goes by
        admin.post("/_admin/stats/reset")
        result = run_resource(db, client, open_invoices(db))
        truth = {i: client.get_json(f"/invoices/{i}.json")["state"] for i in before}
    assert result.ok, result.error
    now_paid = [i for i, s in truth.items() if s not in ("outstanding", "late")]
    assert now_paid  # the clock moved far enough for some payments
    stored = dict(db.execute("SELECT invoice_id, state FROM quaderno_invoices").fetchall())
    assert {i: stored[i] for i in before} == truth
    [(due,)] = db.execute("SELECT count(*) FROM quaderno_invoices WHERE invoice_id IN "
                          f"({','.join('?' * len(now_paid))}) AND state IN ('outstanding', 'late') AND amount_due > 0",
                          now_paid).fetchall()
    assert due == 0
