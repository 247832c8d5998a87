"""Webhook ingestion on PostgreSQL under concurrency (issue 20): receivers on separate connections applying one
invoice's versions in any order leave every invoice at its newest version (the staleness check is the upsert's
own WHERE). The issue's measurement before this: 191 of 300 invoices left on an older version; with the SQLite
path forced on PostgreSQL this test fails the same way."""

from __future__ import annotations

import random
import threading
from collections import Counter

from store.db import connect
from tests.webhooks.test_ingest import NOW, envelope, image
from webhooks.ingest import Outcome, ingest_upwell

INVOICES, VERSIONS, RECEIVERS = 300, 3, 6


def _deliveries() -> list[tuple[str, int, bytes]]:
    """(invoice, version number, body): each invoice updated VERSIONS times, balance 1000 x the version."""
    out = []
    for n in range(INVOICES):
        for v in range(VERSIONS):
            row = image(f"2026-11-20T10:00:0{v}.00000{v + 1}Z", id=f"cari_{n}", balance=1000 * (v + 1))
            out.append((f"cari_{n}", v, envelope(f"whe_{n}_{v}", "UPDATE", row)))
    random.Random(20).shuffle(out)
    return out


def test_concurrent_receivers_leave_every_invoice_at_its_newest_version(pg_url: str) -> None:
    deliveries = _deliveries()
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(RECEIVERS)

    def receive(i: int) -> None:
        db = connect(pg_url)
        try:
            start.wait()
            for _, _, body in deliveries[i::RECEIVERS]:
                outcome = ingest_upwell(db, body, NOW)
                with lock:
                    outcomes[outcome.value] += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=receive, args=(i,)) for i in range(RECEIVERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    db = connect(pg_url)
    rows = db.execute("SELECT invoice_id, balance, last_event_id FROM carrier_invoices").fetchall()
    assert len(rows) == INVOICES
    behind = [r for r in rows if r[1] != 1000 * VERSIONS or not r[2].endswith(f"_{VERSIONS - 1}")]
    assert behind == []
    assert sum(outcomes.values()) == INVOICES * VERSIONS and outcomes[Outcome.ACCEPTED.value] >= INVOICES
    recorded = db.execute("SELECT count(*) FROM webhook_events WHERE source = 'upwell'").fetchone()[0]
    assert recorded == INVOICES * VERSIONS
    db.close()
