"""Webhook throughput: 2,000 Upwell events, each on a new connection, against `opsdash webhooks`.

    python bench/bench_webhooks.py [EVENTS] [CONCURRENCY]

The receiver runs in its own process (as `opsdash webhooks` would); the client opens a new TCP
connection per event from a few threads. Prints events/s (target >= 300), and checks the database:
every event stored once (zero lost, zero duplicated). A tenth of the deliveries are resent duplicates.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.server import free_port

AUTH = ("bench", "bench-webhook-password")


def event(i: int) -> bytes:
    image = {"id": f"ci-{i}", "invoice_number": f"CI-{i:06d}", "currency": "EUR", "total_amount": 10_000 + i,
             "total_tax_amount": "0", "balance": 10_000 + i, "carrier_id": f"carrier-{i % 50}",
             "status": "open", "due_date": "2026-12-31", "updated_at": "2026-11-20T10:00:00"}
    return json.dumps({"id": f"evt-{i}", "createdAt": "2026-11-20T10:00:00", "updatedAt": "2026-11-20T10:00:00",
                       "status": "PENDING", "operation": "INSERT", "table": "carrier_invoices",
                       "payload": {"new": image, "old": None}}).encode()


AUTH_HEADER = "Basic " + base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode()).decode()


def deliver(url: str, body: bytes, auth_header: str = AUTH_HEADER) -> int:
    """One event on a new TCP connection (http.client: a plain, cheap client, like a vendor's sender)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST", parts.path, body=body, headers={"Authorization": auth_header,
                                                              "Content-Type": "application/json"})
        return conn.getresponse().status
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("events", nargs="?", type=int, default=2000, help="Upwell events (default 2,000)")
    parser.add_argument("concurrency", nargs="?", type=int, default=8, help="client threads (default 8)")
    args = parser.parse_args()
    events, concurrency = args.events, args.concurrency
    db = Path(tempfile.mkdtemp()) / "hooks.db"
    port = free_port()
    env = {**os.environ, "OPSDASH_DB": str(db), "OPSDASH_WEBHOOK_USER": AUTH[0], "OPSDASH_WEBHOOK_PASSWORD": AUTH[1]}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "webhooks", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/webhooks/upwell"
    try:
        _wait(url)
        bodies = [event(i) for i in range(events)] + [event(i) for i in range(0, events, 10)]  # 10 % resent
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            statuses = list(pool.map(lambda b: deliver(url, b), bodies))
        elapsed = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*), count(DISTINCT event_id) FROM webhook_events "
                              "WHERE source = 'upwell' AND outcome = 'accepted'").fetchone()
        invoices = conn.execute("SELECT count(*) FROM carrier_invoices").fetchone()[0]
        resent = conn.execute("SELECT sum(deliveries) - count(*) FROM webhook_events").fetchone()[0]
    rate = len(bodies) / elapsed
    print(f"{len(bodies)} deliveries ({events} events + {len(bodies) - events} resent) in {elapsed:.2f} s "
          f"= {rate:.0f} events/s  ratio to 300/s: {rate / 300:.2f}")
    print(f"non-200 answers: {sum(s != 200 for s in statuses)}")
    print(f"stored once: {stored[0]} accepted events, {stored[1]} distinct, {invoices} invoices "
          f"(lost: {events - stored[1]}, duplicated: {stored[0] - stored[1]}); resends recognised: {resent}")


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(url, content=b"{}", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(url)


if __name__ == "__main__":
    main()
