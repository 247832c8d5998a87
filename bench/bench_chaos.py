"""Chaos against the webhook receiver: 10,000 deliveries from 8 clients, one receiver kill -9, then a flood.

    python bench/bench_chaos.py [DELIVERIES] [CLIENTS]

Part 1, chaos. The receiver runs as `opsdash webhooks` in its own process. 8 senders share out the
invoices (each invoice's events come from one sender, in order, except some adjacent updates swapped:
out-of-order delivery) and send INSERTs, UPDATEs and DELETEs, resends of acknowledged events
(duplicates) and Upwell retries (`retryOfId`). A sender resends whatever was not acknowledged (a
connection error or a 503), like a real webhook sender. Half-way, the receiver is killed with SIGKILL and
started again. Printed: deliveries/s, and from the database:
- lost: an event id sent but not stored;
- duplicated: an event applied twice (a resend or a retry of an accepted event also 'accepted');
- wrong: an invoice whose stored balance/status/deleted state is not its newest event's.
All three must be 0.

Part 2, flood. Legitimate deliveries from 4 senders, alone and then beside 16, 64, 256, 512 concurrent
connections posting with bad credentials as fast as they are answered (past its failure budget an
address is answered 429 after a short pause, so each flooding connection slows itself down). Printed per level: flood requests/s, the flood's
share of all requests, legitimate deliveries/s and the slowdown against the run alone, and the rows the
flood wrote (must be 0). The answer: the largest flood share absorbed with legitimate deliveries slowed
by at most 20 %.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.server import free_port

AUTH = ("bench", "bench-chaos-password")
SEED = 11


# --- the deliveries --------------------------------------------------------------------------------

@dataclass
class Delivery:
    event_id: str
    body: bytes
    invoice: str
    resend: bool = False  # a duplicate of an event already sent (same id) or an Upwell retry (new id)


def _event(invoice: int, step: int, op: str, event_id: str, retry_of: str | None = None) -> dict[str, Any]:
    stamp = f"2026-11-20T{10 + step // 3600:02d}:{step // 60 % 60:02d}:{step % 60:02d}"
    image = {"id": f"ci-{invoice}", "invoice_number": f"CI-{invoice:05d}", "currency": "EUR",
             "total_amount": 500_000, "total_tax_amount": "0", "balance": max(0, 500_000 - 7_000 * step),
             "carrier_id": f"carrier-{invoice % 40}", "status": "paid" if step >= 60 else "open",
             "due_date": "2026-12-31", "updated_at": stamp}
    payload = {"new": None, "old": image} if op == "DELETE" else {"new": image, "old": None}
    body = {"id": event_id, "createdAt": stamp, "updatedAt": stamp, "status": "PENDING", "operation": op,
            "table": "carrier_invoices", "payload": payload}
    if retry_of:
        body["retryOfId"] = retry_of
    return body


def plan(total: int, senders: int, rng: random.Random) -> tuple[list[list[Delivery]], dict[str, dict[str, Any]]]:
    """Per sender, its deliveries in sending order; and per invoice, the newest event (the expected state)."""
    queues: list[list[Delivery]] = [[] for _ in range(senders)]
    newest: dict[str, dict[str, Any]] = {}
    invoice, count = 0, 0
    while count < total:
        queue, events = queues[invoice % senders], []
        steps = rng.randint(3, 14)
        for step in range(steps):
            op = "INSERT" if step == 0 else "DELETE" if step == steps - 1 and rng.random() < 0.2 else "UPDATE"
            events.append(_event(invoice, step, op, f"ev-{invoice}-{step}"))
        newest[f"ci-{invoice}"] = events[-1]
        for i in range(1, len(events) - 1):  # out of order: swap some adjacent updates
            if rng.random() < 0.15:
                events[i], events[i + 1] = events[i + 1], events[i]
        for body in events:
            queue.append(Delivery(body["id"], json.dumps(body).encode(), f"ci-{invoice}"))
            count += 1
            if rng.random() < 0.08:  # the sender resends an acknowledged event
                queue.append(Delivery(body["id"], json.dumps(body).encode(), f"ci-{invoice}", resend=True))
                count += 1
            elif rng.random() < 0.04:  # an Upwell retry of it, under a new id
                retry = {**body, "id": f"{body['id']}-retry", "retryOfId": body["id"]}
                queue.append(Delivery(retry["id"], json.dumps(retry).encode(), f"ci-{invoice}", resend=True))
                count += 1
        invoice += 1
    return queues, newest


# --- the receiver ----------------------------------------------------------------------------------

class Receiver:
    def __init__(self, db: Path, port: int) -> None:
        self.db, self.port, self.proc = db, port, None
        self.env = {**os.environ, "OPSDASH_DB": str(db), "OPSDASH_WEBHOOK_USER": AUTH[0],
                    "OPSDASH_WEBHOOK_PASSWORD": AUTH[1], "PYTHONPATH": str(ROOT)}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/upwell"

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "cli", "webhooks", "--port", str(self.port)],
                                     cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.post(self.url, content=b"{}", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("the receiver did not start")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@contextmanager
def receiver(db: Path) -> Iterator[Receiver]:
    r = Receiver(db, free_port())
    r.start()
    try:
        yield r
    finally:
        r.stop()


# --- senders ---------------------------------------------------------------------------------------

@dataclass
class Tally:
    delivered: int = 0
    resent_after_failure: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    refused: int = 0  # 503 answers (the receiver could not store the event now: resend later)
    refused_without_retry_after: int = 0

    def add(self, resent: int) -> int:
        with self.lock:
            self.delivered += 1
            self.resent_after_failure += resent
            return self.delivered

    def refusal(self, retry_after: str | None) -> None:
        with self.lock:
            self.refused += 1
            self.refused_without_retry_after += not retry_after


def send_all(url: str, queue: list[Delivery], tally: Tally, on_count: Any = None) -> None:
    with httpx.Client(auth=AUTH, timeout=10, headers={"content-type": "application/json"}) as http:
        for delivery in queue:
            resent = 0
            deadline = time.monotonic() + 60
            while True:  # resend until acknowledged, as a webhook sender does
                try:
                    response = http.post(url, content=delivery.body)
                    if response.status_code == 200:
                        break
                    if response.status_code != 503:
                        raise RuntimeError(f"{delivery.event_id}: HTTP {response.status_code} {response.text}")
                    tally.refusal(response.headers.get("retry-after"))
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{delivery.event_id}: not acknowledged within 60 s")
                resent += 1
                time.sleep(0.02)
            count = tally.add(resent)
            if on_count is not None:
                on_count(count)


def run_senders(work: list[tuple[Any, ...]]) -> None:
    """`send_all(*args)` for each item, one thread each; a sender that gave up fails the bench (a thread's
    exception would otherwise only be printed, and the figures computed as if every delivery arrived)."""
    failures: list[Exception] = []

    def guarded(*args: Any) -> None:
        try:
            send_all(*args)
        except Exception as exc:  # noqa: BLE001 - any sender's failure is reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=guarded, args=args) for args in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"{len(failures)} of {len(work)} senders gave up; the first: {failures[0]}")


# The flood comes from another address than the real sender (127.0.0.2, still loopback), as an attacker's
# would: the receiver locks out failing addresses (webhooks/webhook_limits.py), and from one shared address the
# lockout would refuse the real sender too, which is not what a deployment sees.
FLOOD_ADDRESS = "127.0.0.2"


def flood(url: str, stop: threading.Event, answered: list[int]) -> None:
    body = json.dumps(_event(0, 0, "INSERT", "forged")).encode()
    with httpx.Client(auth=("bench", "guess"), timeout=10,
                      transport=httpx.HTTPTransport(local_address=FLOOD_ADDRESS)) as http:
        while not stop.is_set():
            try:
                http.post(url, content=body)
                answered[0] += 1
            except httpx.TransportError:
                pass


# --- part 1: chaos ---------------------------------------------------------------------------------

def chaos(total: int, senders: int) -> dict[str, Any]:
    rng = random.Random(SEED)
    queues, newest = plan(total, senders, rng)
    deliveries = sum(len(q) for q in queues)
    with tempfile.TemporaryDirectory() as tmp, receiver(Path(tmp) / "chaos.db") as rec:
        tally, killed = Tally(), threading.Event()

        def maybe_kill(count: int) -> None:
            if count == deliveries // 2 and not killed.is_set():
                killed.set()
                rec.kill9()
                rec.start()

        started = time.perf_counter()
        run_senders([(rec.url, q, tally, maybe_kill) for q in queues])
        elapsed = time.perf_counter() - started
        verdict = check(rec.db, queues, newest)
    return {"deliveries": deliveries, "seconds": elapsed, "per_second": deliveries / elapsed,
            "killed": killed.is_set(), "resent_after_failure": tally.resent_after_failure, **verdict}


def check(db: Path | str, queues: list[list[Delivery]], newest: dict[str, dict[str, Any]]) -> dict[str, int]:
    """The verdict from the receiver's database: an SQLite file, or a `postgresql://` URL (bench_cluster)."""
    stored = dict(_rows(db, "SELECT event_id, outcome FROM webhook_events WHERE event_id IS NOT NULL"))
    state = {r[0]: r[1:] for r in _rows(
        db, "SELECT invoice_id, balance, status, CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END, last_event_id "
            "FROM carrier_invoices")}
    sent = {d.event_id for q in queues for d in q}
    retries = {d.event_id for q in queues for d in q if d.event_id.endswith("-retry")}
    lost = len(sent - set(stored))
    duplicated = sum(1 for r in retries if stored.get(r) == "accepted" and stored.get(r[:-6]) == "accepted")
    wrong = 0
    for invoice, event in newest.items():
        image = event["payload"]["new"] or event["payload"]["old"]
        want = (image["balance"], image["status"], int(event["operation"] == "DELETE"))
        got = state.get(invoice)
        wrong += got is None or tuple(got[:3]) != want
    return {"lost": lost, "duplicated": duplicated, "wrong": wrong, "stale": sum(v == "stale" for v in stored.values()),
            "duplicates_seen": sum(v == "duplicate" for v in stored.values())}


def _rows(db: Path | str, sql: str) -> list[tuple[Any, ...]]:
    if str(db).startswith("postgresql://"):
        from store.db import connect

        pg = connect(str(db))
        try:
            return [tuple(r) for r in pg.execute(sql).fetchall()]
        finally:
            pg.close()
    conn = sqlite3.connect(db)
    try:
        return list(conn.execute(sql))
    finally:
        conn.close()


# --- part 2: flood ---------------------------------------------------------------------------------

def legit_rate(url: str, deliveries: int, senders: int, offset: int) -> float:
    rng = random.Random(SEED + offset)
    queues, _ = plan(deliveries, senders, rng)
    for q in queues:  # fresh ids per level, so every level does the same work (new events, not duplicates)
        for d in q:
            d.body = d.body.replace(b'"ev-', f'"L{offset}-ev-'.encode()).replace(b'"ci-', f'"L{offset}-ci-'.encode())
    started = time.perf_counter()
    run_senders([(url, q, Tally()) for q in queues])
    return sum(len(q) for q in queues) / (time.perf_counter() - started)


def flood_levels(deliveries: int, senders: int, levels: tuple[int, ...]) -> list[dict[str, Any]]:
    out = []
    with tempfile.TemporaryDirectory() as tmp, receiver(Path(tmp) / "flood.db") as rec:
        legit_rate(rec.url, min(300, deliveries), senders, 0)  # warm up
        base = legit_rate(rec.url, deliveries, senders, 1)
        for n, flooders in enumerate(levels, start=2):
            stop, answered = threading.Event(), [0]
            threads = [threading.Thread(target=flood, args=(rec.url, stop, answered)) for _ in range(flooders)]
            for t in threads:
                t.start()
            started = time.perf_counter()
            rate = legit_rate(rec.url, deliveries, senders, n)
            elapsed = time.perf_counter() - started
            stop.set()
            for t in threads:
                t.join()
            conn = sqlite3.connect(rec.db)
            forged = conn.execute("SELECT count(*) FROM webhook_events WHERE event_id = 'forged' OR "
                                  "outcome = 'rejected'").fetchone()[0]
            conn.close()
            flood_rate = answered[0] / elapsed
            out.append({"flooders": flooders, "flood_per_s": flood_rate, "legit_per_s": rate, "base_per_s": base,
                        "share": flood_rate / (flood_rate + rate), "slowdown": 1 - rate / base, "rows": forged})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("deliveries", nargs="?", type=int, default=10_000, help="chaos deliveries (default 10,000)")
    parser.add_argument("clients", nargs="?", type=int, default=8, help="concurrent senders (default 8)")
    parser.add_argument("--flood-deliveries", type=int, default=1_500,
                        help="legitimate deliveries measured per flood level (default 1,500)")
    parser.add_argument("--flooders", type=int, nargs="+", default=[16, 64, 256, 512],
                        help="unauthenticated connections per flood level (default 16 64 256 512)")
    args = parser.parse_args()
    total, senders = args.deliveries, args.clients
    result = chaos(total, senders)
    print(f"chaos: {result['deliveries']} deliveries from {senders} clients in {result['seconds']:.1f} s = "
          f"{result['per_second']:.0f} deliveries/s; receiver killed -9 once: {result['killed']}; "
          f"{result['resent_after_failure']} resends after a failed delivery")
    print(f"  lost {result['lost']}, duplicated {result['duplicated']}, wrong {result['wrong']} "
          f"(stale kept unapplied: {result['stale']}, duplicates recognised: {result['duplicates_seen']})")
    levels = flood_levels(args.flood_deliveries, 4, tuple(args.flooders))
    best = 0.0
    for level in levels:
        ok = level["slowdown"] <= 0.20 and level["rows"] == 0
        best = max(best, level["share"]) if ok else best
        print(f"flood {level['flooders']} connections: {level['flood_per_s']:.0f} forged req/s "
              f"({level['share']:.0%} of requests), legit {level['legit_per_s']:.0f}/s vs {level['base_per_s']:.0f}/s "
              f"alone (slowdown {level['slowdown']:+.0%}), rows written by the flood: {level['rows']}")
    print(f"absorbed: up to {best:.0%} of all requests unauthenticated with legitimate deliveries slowed <= 20 %")
    if result["lost"] or result["duplicated"] or result["wrong"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
