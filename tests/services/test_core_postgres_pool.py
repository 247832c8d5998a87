"""services/core/postgres.py `pooled` (issue 20): one pool per process and database (its size fixed by the first
borrower), at most `size` connections,
each checked as it is handed out, so one the server dropped is replaced instead of failing its borrower."""

from __future__ import annotations

import threading

import psycopg
import pytest

from services.core.postgres import pooled

pytestmark = pytest.mark.timeout(60)


def backend(url: str, size: int = 1) -> int:
    with pooled(url, size) as db:
        (pid,) = db.execute("SELECT pg_backend_pid()").fetchall()[0]
    return int(pid)


def test_a_connection_the_server_ended_is_replaced_as_it_is_handed_out(pg_url: str) -> None:
    first = backend(pg_url)
    assert backend(pg_url) == first  # given back and handed out again
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [first])
    replaced = backend(pg_url)
    assert replaced != first
    with pooled(pg_url, 1) as db:
        assert db.execute("SELECT 1 + 1").fetchall() == [(2,)]


def test_borrowers_beyond_the_size_wait_for_a_connection_and_share_them(pg_url: str) -> None:
    seen: set[int] = set()
    barrier, lock = threading.Barrier(6), threading.Lock()

    def borrow() -> None:
        barrier.wait(timeout=30)
        with pooled(pg_url, 2) as db:
            (pid,) = db.execute("SELECT pg_backend_pid() FROM pg_sleep(0.05)").fetchall()[0]
        with lock:
            seen.add(int(pid))

    threads = [threading.Thread(target=borrow) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert 1 <= len(seen) <= 2  # six borrowers at once, two connections
