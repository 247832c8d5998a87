"""Quaderno's open set: a run re-reads a slice of the stored open invoices, oldest-checked first, with the
documented `state` filter (seeds/001 line 1491), and reads by id the stored open invoices the slice no longer
lists (issue 9 point 6); 410/404 on that re-read mark the invoice removed (issue 18 points 5 and 12)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlite_utils import Database

from sandbox.server import client_env
from services.core import NotFoundError
from services.quaderno.client import make_client
from services.settings import Settings
from store.db import iso, utcnow
from store.store import set_checkpoint, upsert_records
from sync.engine import run_all, run_resource
from sync.resources import resources_for
from sync.vendors import quaderno as qopen
from tests.virtual_time import VirtualTime

S = "2026-11-20T10:00:00.000Z"


def invoice(doc_id: int, state: str, total: int, paid: list[Any] | None = None) -> dict[str, Any]:
    return {"id": doc_id, "number": f"{doc_id:05d}", "state": state, "currency": "EUR", "total_cents": total,
            "issue_date": "2026-10-01", "due_date": "2026-10-31", "contact": {"id": 9, "full_name": "Ana"},
            "payments": [{"id": i, "amount_cents": a, "date": "2026-11-19"} for i, a in enumerate(paid or [], 1)]}


class Server:
    """A Quaderno account: the list filtered by `state`, one invoice by id; every request kept."""

    def __init__(self, docs: list[dict[str, Any]], gone: dict[int, int] | None = None) -> None:
        self.docs = {d["id"]: d for d in docs}
        self.gone = gone or {}  # id -> 410 or 404 on a read by id (seeds/001 lines 94, 103)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removesuffix(".json")
        if path.endswith("/invoices"):
            state, limit = request.url.params.get("state"), int(request.url.params.get("limit", 25))
            before = int(request.url.params.get("created_before", 10**9))
            listed = [d for d in sorted(self.docs.values(), key=lambda d: -d["id"])
                      if state in (None, d["state"]) and d["id"] < before]
            more = len(listed) > limit
            headers = {"X-Pages-HasMore": "true" if more else "false"}
            if more:
                headers["X-Pages-NextPage"] = str(request.url.copy_merge_params({"created_before": listed[limit - 1]["id"]}))
            return httpx.Response(200, json=listed[:limit], headers=headers)
        doc_id = int(path.rsplit("/", 1)[1])
        if doc_id in self.docs:
            return httpx.Response(200, json=self.docs[doc_id])
        if self.gone.get(doc_id) == 410:
            return httpx.Response(410, json={"error": "The record requested has been removed from our servers"})
        return httpx.Response(404, json={"error": "The specified record could not be found"})


def open_invoices(db: Database) -> Any:
    return next(r for r in resources_for(db, ["quaderno"]) if r.name == "open_invoices")


def store(db: Database, *docs: dict[str, Any]) -> None:
    rows = [{"invoice_id": str(d["id"]), "number": d["number"], "currency": "EUR", "total": d["total_cents"],
             "amount_due": d["total_cents"], "state": d["state"], "raw": json.dumps(d), "synced_at": S} for d in docs]
    upsert_records(db, "quaderno_invoices", rows, "invoice_id")


def run(db: Database, db_path: Path | str, server: Server) -> Any:
    settings = Settings(opsdash_db=db_path, quaderno_base_url="https://acme.quadernoapp.com/api",
                        quaderno_api_key="sk_test")  # type: ignore[arg-type]
    with make_client(settings, transport=httpx.MockTransport(server)) as client:
        return run_resource(db, client, open_invoices(db))


def state_of(db: Database) -> dict[str, tuple[str, int]]:
    return {r["invoice_id"]: (r["state"], r["amount_due"])
            for r in db.query("SELECT invoice_id, state, amount_due FROM quaderno_invoices")}


def test_a_paid_invoice_leaves_outstanding_in_one_run(db: Database, db_path: Path | str) -> None:
    store(db, invoice(1, "outstanding", 6000), invoice(2, "outstanding", 3240), invoice(3, "late", 3600))
    server = Server([invoice(1, "paid", 6000, [6000]), invoice(2, "outstanding", 3240, [1240]),
                     invoice(3, "late", 3600), invoice(4, "late", 27600)])
    result = run(db, db_path, server)
    assert result.ok, result.error
    # Invoice 4 is newer than every stored one: the `invoices` resource (newest first) brings it, not this one.
    assert state_of(db) == {"1": ("paid", 0), "2": ("outstanding", 2000), "3": ("late", 3600)}
    # The documented filter, by name and place (a query parameter), then the one missing invoice by id.
    lists = [(r.url.path, r.url.params.get("state"), r.url.params.get("limit")) for r in server.requests[:2]]
    assert sorted(p[1] for p in lists) == ["late", "outstanding"] and {p[2] for p in lists} == {"100"}
    assert [r.url.path.removesuffix(".json") for r in server.requests[2:]] == ["/api/invoices/1"]


def test_an_invoice_quaderno_no_longer_knows_does_not_stop_the_run(db: Database, db_path: Path | str) -> None:
    store(db, invoice(7, "outstanding", 100), invoice(9, "outstanding", 200))
    result = run(db, db_path, Server([invoice(9, "paid", 200, [200])]))
    assert result.ok and state_of(db)["9"] == ("paid", 0)
    assert state_of(db)["7"] == ("outstanding", 100)  # its columns kept; `removed_at` says it is gone


def test_outstanding_but_covered_by_payments_has_nothing_due(db: Database, db_path: Path | str) -> None:
    """The recorded `new_sale`: state "outstanding", a payment of the whole total."""
    store(db, invoice(5, "outstanding", 10800), invoice(6, "outstanding", 1000))
    run(db, db_path, Server([invoice(5, "outstanding", 10800, [10800]), invoice(6, "outstanding", 1000, [56.6])]))
    assert state_of(db) == {"5": ("outstanding", 0), "6": ("outstanding", 943)}


def state_at_vendor(client: Any, invoice_id: str) -> str | None:
    try:
        return str(client.get_json(f"/invoices/{invoice_id}.json")["state"])
    except NotFoundError:
        return None


def test_against_the_sandbox_paid_invoices_leave_outstanding_in_one_incremental_run(
    db: Database, relaxed_sandbox: Any, admin: httpx.Client, db_path: Path,
) -> None:
    """Issue 9 "Done when": paying a Quaderno invoice leaves outstanding within one sync."""
    env = client_env(relaxed_sandbox)
    settings = Settings(**{k.lower(): v for k, v in env.items()}, opsdash_db=db_path)
    at = VirtualTime()  # Quaderno's 100 calls / 15 s kept by the client, its waits virtual (tests/virtual_time.py)
    with make_client(settings, sleep=at.sleep, clock=at.clock) as client:
        assert all(r.ok for r in run_all(db, {"quaderno": client}, resources_for(db, ["quaderno"])))
        before = dict(db.execute("SELECT invoice_id, state FROM quaderno_invoices WHERE state IN ('outstanding', "
                                 "'late')").fetchall())
        admin.post("/_admin/clock", json={"advance_seconds": 40 * 86400})  # customers pay as time goes by
        admin.post("/_admin/stats/reset")
        db.execute("UPDATE quaderno_invoices SET synced_at = ?", [S])  # read an hour ago or more
        result = run_resource(db, client, open_invoices(db))
        truth = {i: state_at_vendor(client, i) for i in before}
    assert result.ok, result.error
    removed = {i for i, s in truth.items() if s is None}
    assert removed  # the sandbox removes a few invoices 20 minutes into its life (sandbox/quaderno/documents.py)
    assert {r[0] for r in db.execute("SELECT invoice_id FROM quaderno_invoices WHERE removed_at IS NOT NULL")} == removed
    now_paid = [i for i, s in truth.items() if s not in ("outstanding", "late", None)]
    assert now_paid  # the clock moved far enough for some payments
    stored = dict(db.execute("SELECT invoice_id, state FROM quaderno_invoices").fetchall())
    assert {i: stored[i] for i in before if i not in removed} == {i: s for i, s in truth.items() if i not in removed}
    [(due,)] = db.execute("SELECT count(*) FROM quaderno_invoices WHERE invoice_id IN "
                          f"({','.join('?' * len(now_paid))}) AND state IN ('outstanding', 'late') AND amount_due > 0",
                          now_paid).fetchall()
    assert due == 0


def test_removed_at_the_vendor_leaves_outstanding_and_is_audited(db: Database, db_path: Path | str) -> None:
    """Issue 18 point 5: 410 Gone ("removed from our servers", seeds/001 line 103) and 404 (line 94) on the
    re-read of a stored open invoice: recorded as removed, every stored column kept, no longer outstanding."""
    store(db, invoice(11, "outstanding", 500), invoice(12, "late", 700), invoice(13, "outstanding", 900))
    result = run(db, db_path, Server([invoice(13, "outstanding", 900)], gone={11: 410, 12: 404}))
    assert result.ok, result.error
    rows = {r["invoice_id"]: r for r in db.query("SELECT * FROM quaderno_invoices")}
    assert rows["11"]["removed_at"] and rows["12"]["removed_at"] and rows["13"]["removed_at"] is None
    assert (rows["11"]["state"], rows["11"]["amount_due"], rows["11"]["number"]) == ("outstanding", 500, "00011")
    due = {r[0] for r in db.execute("SELECT invoice_number FROM receivables_outstanding WHERE source = 'quaderno'")}
    assert due == {"00013"}
    history = db.execute("SELECT target, result FROM audit_log WHERE action = 'quaderno.invoice_removed' "
                         "ORDER BY target").fetchall()
    assert [t for t, _ in history] == ["invoice 00011", "invoice 00012"]
    assert "410 Gone" in history[0][1] and "404 Not Found" in history[1][1]


def test_a_removed_invoice_is_not_read_again(db: Database, db_path: Path | str) -> None:
    store(db, invoice(11, "outstanding", 500), invoice(13, "outstanding", 900))
    run(db, db_path, Server([invoice(13, "outstanding", 900)], gone={11: 410}))
    db.execute("UPDATE quaderno_invoices SET synced_at = ?", [S])
    server = Server([invoice(13, "outstanding", 900)], gone={11: 410})
    run(db, db_path, server)
    assert [r.url.path for r in server.requests if "/invoices/" in r.url.path] == []


def test_a_run_right_after_a_full_read_sends_nothing(db: Database, db_path: Path | str) -> None:
    """"Never right after a full read": rows read less than MIN_AGE ago are not read again."""
    store(db, *[invoice(i, "outstanding", 100) for i in range(1, 51)])
    db.execute("UPDATE quaderno_invoices SET synced_at = ?", [iso(utcnow())])
    server = Server([invoice(i, "outstanding", 100) for i in range(1, 51)])
    assert run(db, db_path, server).ok
    assert server.requests == []


def test_a_run_reads_a_slice_oldest_checked_first(db: Database, db_path: Path | str) -> None:
    """1,000 open invoices: one run reads ceil(1000 x 1.25 / 4) = 313 of them, starting at the one checked
    longest ago (ids 400 and below, checked earliest) and going down by id: 4 pages of `late`, 1 of
    `outstanding` (none in that range), no read by id."""
    docs = [invoice(i, "late", 100) for i in range(1, 1001)]
    store(db, *docs)
    recent, older = iso(utcnow() - timedelta(minutes=20)), iso(utcnow() - timedelta(minutes=40))
    db.execute("UPDATE quaderno_invoices SET synced_at = ?", [recent])
    db.execute("UPDATE quaderno_invoices SET synced_at = ? WHERE CAST(invoice_id AS INTEGER) <= 400", [older])
    server = Server(docs)
    assert run(db, db_path, server).ok
    lists = [(r.url.params["state"], r.url.params["created_before"]) for r in server.requests]
    assert lists == [("late", "401"), ("late", "301"), ("late", "201"), ("late", "101"), ("outstanding", "401")]
    checked = {int(r[0]) for r in db.execute("SELECT invoice_id FROM quaderno_invoices WHERE synced_at > ?",
                                             [recent])}
    assert checked == set(range(1, 401))


def test_invoices_about_to_pass_the_hour_are_all_read(db: Database, db_path: Path | str) -> None:
    """1,000 open invoices last read 50 minutes ago: 50 > 60 - 15, so skipping them would leave them unread
    for over an hour at the next run; this run reads all 1,000 (10 pages of `late`, 1 of `outstanding`), not
    its share of 313."""
    docs = [invoice(i, "late", 100) for i in range(1, 1001)]
    store(db, *docs)
    db.execute("UPDATE quaderno_invoices SET synced_at = ?", [iso(utcnow() - timedelta(minutes=50))])
    server = Server(docs)
    assert run(db, db_path, server).ok
    assert [r.url.params["state"] for r in server.requests] == ["late"] * 10 + ["outstanding"]


def test_never_right_after_a_long_full_read(db: Database, db_path: Path | str) -> None:
    """A full pass of `quaderno/invoices` stamps its rows with its START; one that ran 8 minutes and just ended
    leaves rows 8 minutes old, yet none is read again."""
    store(db, *[invoice(i, "outstanding", 100) for i in range(1, 51)])
    started = iso(utcnow() - timedelta(minutes=8))
    db.execute("UPDATE quaderno_invoices SET synced_at = ?", [started])
    set_checkpoint(db, "quaderno", "invoices", json.dumps({"last_full": started}))
    db.execute("INSERT INTO sync_runs (vendor, resource, started_at, finished_at, status) VALUES ('quaderno', "
               "'invoices', ?, ?, 'ok')", [started, iso(utcnow() - timedelta(seconds=30))])
    server = Server([invoice(i, "outstanding", 100) for i in range(1, 51)])
    assert run(db, db_path, server).ok
    assert server.requests == []


def test_rows_per_run_stays_within_five_percent_of_the_hourly_budget() -> None:
    """100 calls per 15.5 s is 23,225 per hour, 5 % of it 1,161, a quarter 290 per run; 20 kept for partial
    pages and reads by id: at most (290 - 20) x 100 = 27,000 rows per run. 31,000 open invoices (the large set):
    ceil(31,000 x 1.25 / 4) = 9,688 rows; 62,000 (2x): 19,375 (~196 pages per run, ~784 per hour: 3.4 %);
    40,000 of them about to pass the hour: 27,000, the cap."""
    assert qopen.RUN_CALLS == 290
    assert qopen.rows_per_run(31_000) == 9_688
    assert qopen.rows_per_run(62_000) == 19_375
    assert qopen.rows_per_run(62_000, overdue=40_000) == 27_000
    assert qopen.rows_per_run(10) == 100


def test_reads_by_id_stay_within_the_run_budget(db: Database, db_path: Path | str, monkeypatch: Any) -> None:
    """Six stored open invoices gone from the listings, a run budget of 4 calls: 2 listings (late,
    outstanding) and 2 reads by id, newest first; the other four wait for a later run."""
    monkeypatch.setattr(qopen, "RUN_CALLS", 4)
    store(db, *[invoice(i, "late", 100) for i in range(1, 7)])
    server = Server([], gone={i: 410 for i in range(1, 7)})
    assert run(db, db_path, server).ok
    assert [r.url.path.rsplit("/", 1)[1] for r in server.requests[2:]] == ["6", "5"]
    removed = [r[0] for r in db.execute("SELECT invoice_id FROM quaderno_invoices WHERE removed_at IS NOT NULL")]
    assert sorted(removed) == ["5", "6"]
