"""What an alert pass costs the worker on a large cache (issue 13).

    python bench/bench_alerts.py [--invoices 100000]

Fills a temporary cache with N Quaderno invoices (a third of them overdue, spread over 0..120 days)
and prints, for a `receivable_overdue` rule at 60 days: the first evaluation (opens every alert and
queues one message), a pass when nothing changed (the rule is not due: signature check only), and a
forced re-evaluation with no change (reads the dataset, opens nothing), each in seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.engine import evaluate_due
from alerts.rules import insert_rule
from services.settings import Settings
from store.db import connect, iso, transaction
from store.schema import migrate


def fill(db, count: int, now: datetime) -> None:  # type: ignore[no-untyped-def]
    today = now.date()
    rows = ([f"INV-{i}", f"INV-{i}", f"Customer {i % 500}", "EUR", 10000 + i, 10000 + i,
             "late" if i % 3 == 0 else "outstanding", (today - timedelta(days=i % 120 if i % 3 == 0 else -10)).isoformat(),
             iso(now)] for i in range(count))
    with transaction(db):
        db.conn.executemany("INSERT INTO quaderno_invoices (invoice_id, number, contact_name, currency, total, amount_due, "
                            "state, due_date, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=100_000)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        db = connect(path)
        migrate(db)
        fill(db, args.invoices, now)
        settings = Settings(opsdash_db=path, opsdash_alert_webhook_url=SecretStr("http://127.0.0.1:9/x"))
        insert_rule(db, "Overdue 60", "receivable_overdue", {"days": 60}, ("webhook",), True, "bench",
                    now - timedelta(days=1))
        first = timed(lambda: evaluate_due(db, settings, now))
        opened = db.execute("SELECT count(*) FROM alerts").fetchone()[0]
        idle = timed(lambda: evaluate_due(db, settings, now + timedelta(seconds=15)))
        db.execute("UPDATE alert_rules SET last_signature = 'forced'")
        again = timed(lambda: evaluate_due(db, settings, now + timedelta(seconds=30)))
        messages = db.execute("SELECT count(*) FROM alert_deliveries").fetchone()[0]
        db.close()
    print(f"{args.invoices} invoices, {opened} alerts opened, {messages} message(s) queued")
    print(f"first evaluation {first:.3f} s; idle pass {idle * 1000:.1f} ms; re-evaluation, no change {again:.3f} s")


if __name__ == "__main__":
    main()
