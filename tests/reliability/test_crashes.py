"""kill -9 mid-run: of a sync, of the webhook receiver; and two worker processes on a resource longer than
the lease. Nothing lost, nothing duplicated, the dead run marked `interrupted`, the job run once."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from jobs import jobs
from sandbox.context import SandboxConfig
from sandbox.server import free_port
from store.schema import session
from sync.engine import run_all
from sync.resources import clients_for, resources_for
from tests.conftest import suite_database
from tests.reliability.conftest import VOLATILE, env_for, settings_for, wait_for


def sync_qasida(config: SandboxConfig, path: str) -> list[Any]:
    settings = settings_for(config, path)
    clients = clients_for(settings, ("qasida",))
    try:
        with session(path) as db:
            return run_all(db, clients, resources_for(db, ("qasida",)))
    finally:
        clients["qasida"].close()


def qasida_tables(path: str) -> dict[str, list[tuple[Any, ...]]]:
    with session(path) as db:
        out = {}
        for res in resources_for(db, ("qasida",)):
            columns = [c for c in db[res.table].columns_dict if c not in VOLATILE]
            keys = [res.pk] if isinstance(res.pk, str) else list(res.pk)
            out[res.table] = db.execute(f'SELECT {", ".join(columns)} FROM "{res.table}" '
                                        f'ORDER BY {", ".join(keys)}').fetchall()
        return out


def rows(path: str, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with session(path) as db:
        return db.execute(sql, params or []).fetchall()


def test_kill_9_of_a_sync_loses_nothing_and_the_run_is_marked_interrupted(
    relaxed_sandbox: SandboxConfig, tmp_path: Path, processes: Callable[..., Any],
) -> None:
    reference = suite_database(tmp_path / "reference.db")
    assert all(r.ok for r in sync_qasida(relaxed_sandbox, reference))
    path = suite_database(tmp_path / "cache.db")
    with session(path):
        pass
    with httpx.Client(base_url=relaxed_sandbox.base_url, timeout=10) as admin:
        admin.put("/_admin/faults/qasida", json={"latency_ms": 60})  # the per-customer walk takes seconds
        try:
            proc = processes(["-m", "cli", "sync", "qasida"], env_for(relaxed_sandbox, path))
            wait_for(lambda: rows(path, "SELECT 1 FROM sync_runs WHERE status = 'running' AND pages >= 5"), 60,
                     "a sync run with a few pages done")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            admin.delete("/_admin/faults")
    [(killed, pages)] = rows(path, "SELECT resource, pages FROM sync_runs WHERE status = 'running'")
    again = sync_qasida(relaxed_sandbox, path)
    assert [r.error for r in again if not r.ok] == []
    [(status, error)] = rows(path, "SELECT status, error FROM sync_runs WHERE resource = ? ORDER BY run_id LIMIT 1",
                             [killed])
    assert status == "interrupted" and f"stopped after {pages} pages" in error and "last seen" in error
    assert rows(path, "SELECT count(*) FROM sync_runs WHERE status = 'running'") == [(0,)]
    assert qasida_tables(path) == qasida_tables(reference)


# --- the webhook receiver ----------------------------------------------------------------------------

AUTH = ("hooks", "reliability-password")


def upwell_events(invoices: int, updates: int) -> list[dict[str, Any]]:
    """Per invoice: an INSERT, `updates` UPDATEs a second apart, every third invoice then DELETEd."""
    events = []
    for i in range(invoices):
        for n in range(updates + 1 + (i % 3 == 0)):
            op = "INSERT" if n == 0 else "DELETE" if n > updates else "UPDATE"
            stamp = f"2026-11-20T10:{n // 60:02d}:{n % 60:02d}"
            image = {"id": f"ci-{i}", "invoice_number": f"CI-{i}", "currency": "EUR", "total_amount": 100_000,
                     "total_tax_amount": "0", "balance": 100_000 - 1000 * n, "carrier_id": "c-1", "status": "open",
                     "due_date": "2026-12-01", "updated_at": stamp}
            payload = {"new": None, "old": image} if op == "DELETE" else {"new": image, "old": None}
            events.append({"id": f"ev-{i}-{n}", "createdAt": stamp, "updatedAt": stamp, "status": "PENDING",
                           "operation": op, "table": "carrier_invoices", "payload": payload})
    return events


def image(event: dict[str, Any]) -> dict[str, Any]:
    return event["payload"]["new"] or event["payload"]["old"]


def deliver(url: str, event: dict[str, Any], deadline_s: float = 30.0) -> str:
    """POST until the receiver answers 2xx (a sender retries what was not acknowledged)."""
    body = json.dumps(event).encode()

    def attempt() -> str | None:
        try:
            response = httpx.post(url, content=body, auth=AUTH, timeout=5)
        except httpx.TransportError:
            return None
        assert response.status_code in (200, 503), response.text
        return response.json()["outcome"] if response.status_code == 200 else None

    return str(wait_for(attempt, deadline_s, f"delivery of {event['id']}", every=0.02))


def test_kill_9_of_the_webhook_receiver_loses_and_duplicates_nothing(
    tmp_path: Path, processes: Callable[..., Any],
) -> None:
    path, port = suite_database(tmp_path / "hooks.db"), free_port()
    env = env_for(None, path, OPSDASH_WEBHOOK_USER=AUTH[0], OPSDASH_WEBHOOK_PASSWORD=AUTH[1])

    def start() -> Any:
        proc = processes(["-m", "cli", "webhooks", "--port", str(port)], env)
        wait_for(lambda: _listening(port), 30, "the receiver to listen")
        return proc

    events = upwell_events(invoices=12, updates=8)
    receiver = start()
    outcomes: dict[str, str] = {}
    killed = threading.Event()
    for number, event in enumerate(events):
        if number == len(events) // 2:
            receiver.send_signal(signal.SIGKILL)  # mid-run, between two deliveries the sender is making
            receiver.wait(timeout=10)
            killed.set()
            receiver = start()
        outcomes[event["id"]] = deliver(f"http://127.0.0.1:{port}/webhooks/upwell", event)
        if number % 7 == 0:  # the sender's own resend of an acknowledged event
            assert deliver(f"http://127.0.0.1:{port}/webhooks/upwell", event) == "duplicate"
    assert killed.is_set() and set(outcomes.values()) == {"accepted"}
    stored = rows(path, "SELECT event_id, count(*) FROM webhook_events WHERE outcome != 'rejected' GROUP BY event_id")
    assert sorted(e for e, _ in stored) == sorted(outcomes) and all(n == 1 for _, n in stored)
    final = {image(e)["id"]: e for e in events}  # the last event of each invoice (sent in order per invoice)
    stored_state = {r[0]: (r[1], bool(r[2])) for r in rows(
        path, "SELECT invoice_id, balance, deleted_at IS NOT NULL FROM carrier_invoices")}
    assert stored_state == {i: (image(e)["balance"], e["operation"] == "DELETE") for i, e in final.items()}
    assert rows(path, "SELECT count(*) FROM carrier_invoices") == [(12,)]


def _listening(port: int) -> bool:
    try:
        return httpx.post(f"http://127.0.0.1:{port}/webhooks/upwell", content=b"{}", timeout=1).status_code == 401
    except httpx.TransportError:
        return False


# --- two worker processes, one resource longer than the lease ------------------------------------------

WORKER = """
import sys, time
from datetime import timedelta
from store.db import connect
from store.schema import migrate
from jobs.worker import Worker
from services.settings import get_settings
worker = Worker(get_settings(), worker_id=sys.argv[1], lease=timedelta(seconds=float(sys.argv[2])))
db = connect(get_settings().opsdash_db)
migrate(db)
while True:
    if worker.run_next(db) is None:
        time.sleep(0.05)
"""


def test_two_worker_processes_run_a_resource_longer_than_the_lease_once(
    relaxed_sandbox: SandboxConfig, tmp_path: Path, processes: Callable[..., Any],
) -> None:
    path = suite_database(tmp_path / "cache.db")
    clients = clients_for(settings_for(relaxed_sandbox, path), ("qasida",))
    with session(path) as db:  # claims are read per cached customer: cache the customers first
        customers = [r for r in resources_for(db, ("qasida",)) if r.name == "customers"]
        assert all(r.ok for r in run_all(db, clients, customers))
        clients["qasida"].close()
        job_id = jobs.enqueue(db, "sync", {"vendor": "qasida", "resource": "claims"}, "ops@example.com")
    with httpx.Client(base_url=relaxed_sandbox.base_url, timeout=10) as admin:
        # 60 customers at 150 ms: ~10 s, the lease 3 s (a lease of 1 s was lost to a busy machine's stall)
        admin.put("/_admin/faults/qasida", json={"latency_ms": 150})
        admin.post("/_admin/stats/reset")
        try:
            for name in ("worker-a", "worker-b"):
                processes(["-c", WORKER, name, "3.0"], env_for(relaxed_sandbox, path))
            wait_for(lambda: rows(path, "SELECT 1 FROM jobs WHERE job_id = ? AND status NOT IN ('queued', 'running')",
                                  [job_id]), 90, "the sync job to end")
            requests = admin.get("/_admin/stats/qasida").json()["requests"]
        finally:
            admin.delete("/_admin/faults")
    [(status, attempts, fence, error)] = rows(path, "SELECT status, attempts, fence, error FROM jobs")
    assert (status, attempts, fence, error) == ("done", 1, 1, None)
    assert rows(path, "SELECT resource, status, pages FROM sync_runs WHERE resource = 'claims'") == [
        ("claims", "ok", requests)]  # one run, one request per page: no page fetched by a second worker
    [(count,)] = rows(path, "SELECT count(*) FROM qasida_customers")
    assert requests == count >= 30  # one walk of the customers: 30+ pages at 150 ms, far longer than the lease
