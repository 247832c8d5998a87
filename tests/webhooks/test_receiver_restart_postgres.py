"""Deliveries through a PostgreSQL restart (issue 20): senders that redeliver on 503 (after its Retry-After) and on a
dropped connection, as Upwell and Qargo do, while the database is stopped and started again. Every delivery is
acknowledged 2xx only once stored: none lost, none stored twice, and the refusals meanwhile are 503 with
Retry-After (never a 500). The receiver is not restarted: its kept connections are reopened (services/core/postgres.py
`kept`)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from pydantic import SecretStr

from sandbox.server import free_port, serving
from services.settings import Settings
from store.db import connect
from tests.pgrestart import Restartable, restartable_fixture  # noqa: F401 - the fixture `restartable`
from tests.webhooks.test_webhooks import AUTH, post, upwell_event
from webhooks.webhooks import webhook_app

EVENTS = 60
SENDERS = 4
DEADLINE_S = 60.0


class Sender:
    """Delivers each event until it is acknowledged 2xx, noting every answer."""

    def __init__(self, url: str) -> None:
        self.url, self.answers, self.acked = url, Counter[str](), Counter[str]()
        self.lock = threading.Lock()

    def deliver(self, n: int) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            try:
                answer = post(self.url, "upwell", upwell_event(f"e-{n}", id=f"ci-{n}", invoice_number=f"CI-{n}"))
            except httpx.TransportError:
                self.note("dropped")
                continue
            self.note(str(answer.status_code))
            if answer.status_code == 200:
                with self.lock:
                    self.acked[answer.json()["outcome"]] += 1
                return
            assert answer.status_code == 503 and answer.headers["retry-after"] == "1", answer.text
            time.sleep(float(answer.headers["retry-after"]))  # as the sender is told
        raise AssertionError(f"event e-{n} not acknowledged within {DEADLINE_S:.0f} s")

    def note(self, what: str) -> None:
        with self.lock:
            self.answers[what] += 1


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    db = connect(url)
    try:
        return [tuple(row) for row in db.execute(sql).fetchall()]
    finally:
        db.close()


def wait_for(check: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {DEADLINE_S:.0f} s")
        time.sleep(0.02)


def test_deliveries_through_a_restart_none_lost_none_stored_twice(restartable: Restartable) -> None:
    settings = Settings(opsdash_db=restartable.url, opsdash_webhook_user=AUTH[0],
                        opsdash_webhook_password=SecretStr(AUTH[1]))
    with serving(webhook_app(settings), "127.0.0.1", free_port()) as receiver, \
            ThreadPoolExecutor(SENDERS) as pool:
        sender = Sender(receiver)
        sent = [pool.submit(sender.deliver, n) for n in range(EVENTS)]
        wait_for(lambda: sum(sender.acked.values()) >= EVENTS // 3, "a third acknowledged before the restart")
        restartable.stop()
        wait_for(lambda: sender.answers["503"] >= 1, "a delivery refused while the database is down")
        restartable.start()
        for future in sent:
            future.result()
    assert sum(sender.acked.values()) == EVENTS  # each acknowledged once: its sender stopped there
    assert set(sender.answers) <= {"200", "503", "dropped"}, sender.answers
    invoices = rows(restartable.url, "SELECT invoice_id FROM carrier_invoices")
    assert sorted(i for (i,) in invoices) == sorted(f"ci-{n}" for n in range(EVENTS))  # none lost, none twice
    events = rows(restartable.url, "SELECT event_id, outcome FROM webhook_events")
    assert sorted(events) == sorted((f"e-{n}", "accepted") for n in range(EVENTS))
    print(f"answers {dict(sender.answers)}, acknowledged {dict(sender.acked)}")
