"""`opsdash migrate-store` (actions/move_store.py): the sandbox's synced cache (tests/synced_data.py) copied into a
real PostgreSQL database (tests/pgcluster.py, the `pg_url` fixture: a fresh migrated database per test), whatever
--db says. No mocks: the failures are a row PostgreSQL refuses, an interruption, a dataset that differs."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from actions.move_store import MoveRefused, move_store
from exports.export import export
from services.settings import get_settings
from store.datasets import DATASETS, Dataset
from store.db import connect
from tests.synced_data import SyncedTemplate

BIG_MINOR = 2**62 + 1  # 4611686018427387905 cents: past 2**53, where a float would lose the last digits
BIG_TEXT = "12345678901234567.89"  # a Qargo charge's decimal text (18+ significant digits)
# The synced cache plus these rows (money at the edges, a timestamp with milliseconds and Z).
EXTRA: list[tuple[str, list[Any]]] = [
    (("INSERT INTO carrier_invoices (invoice_id, invoice_number, currency, total_amount, total_tax_amount, status, "
     "last_event_updated_at, synced_at) VALUES ('BIG', 'UW-BIG', 'EUR', ?, 0, 'open', '2026-01-02T03:04:05.678Z', "
     "'2026-01-02T03:04:05.678Z')"), [BIG_MINOR]),
    (("INSERT INTO qargo_charges (charge_id, order_id, amount, currency, synced_at) VALUES ('C1', 'T1', ?, 'EUR', "
     "'2026-01-02T03:04:05.678Z')"), [BIG_TEXT]),
]


@pytest.fixture
def source(synced_template: SyncedTemplate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the synced cache with EXTRA, and T2 carrying an order number of its own (see
    test_the_synced_cache_as_it_is_moves_equal for why)."""
    monkeypatch.setenv("OPSDASH_TIMEZONE", "UTC")
    get_settings.cache_clear()
    db = synced_template.copy(tmp_path / "cache.db")
    for sql, params in EXTRA:
        db.execute(sql, params)
    db.execute("UPDATE qargo_orders SET reference = 'SO-OWN' WHERE order_id = 'T2'")
    db.close()
    yield tmp_path / "cache.db"
    get_settings.cache_clear()


def _counts(url: str) -> dict[str, int]:
    """Rows per table on PostgreSQL (the record of migrations left out)."""
    with psycopg.connect(url) as conn:
        names = [n for (n,) in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                            "current_schema() AND table_type = 'BASE TABLE' AND table_name <> "
                                            "'_sqlite_migrations'").fetchall()]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchall()[0][0] for n in names}


def _untouched(url: str) -> None:
    """What a new migrated database holds: only the default lead time its migration inserts."""
    assert {t: n for t, n in _counts(url).items() if n} == {"lead_times": 1}


def test_the_synced_cache_moves_equal_row_by_row_and_dataset_by_dataset(source: Path, pg_url: str,
                                                                        synced_template: SyncedTemplate) -> None:
    lines: list[str] = []
    report = move_store(source, pg_url, now=synced_template.now, say=lines.append)

    assert report.ok, report.comparison
    comparison = report.comparison
    assert comparison is not None
    assert sorted(comparison.datasets_identical + comparison.datasets_canonical) == sorted(DATASETS)
    assert comparison.tables_differ == []
    with connect(source) as src:
        expected = {t: src[t].count for t in report.copied}
    assert report.copied == expected
    assert {t: n for t, n in _counts(pg_url).items() if t in expected} == expected
    assert expected["quaderno_invoices"] == 300 and expected["webhook_events"] == 80  # the sandbox's set
    assert "copied quaderno_invoices: 300 rows" in lines


def test_money_and_timestamps_arrive_exactly_and_ids_continue(source: Path, pg_url: str,
                                                              synced_template: SyncedTemplate) -> None:
    assert move_store(source, pg_url, now=synced_template.now, say=lambda _: None).ok
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT total_amount, last_event_updated_at FROM carrier_invoices "
                            "WHERE invoice_id = 'BIG'").fetchone() == (4611686018427387905, "2026-01-02T03:04:05.678Z")
        assert conn.execute("SELECT amount FROM qargo_charges WHERE charge_id = 'C1'").fetchone() == (BIG_TEXT,)
    db = connect(pg_url)
    try:
        out = io.BytesIO()
        export(db, "carrier_invoices", "json", out, {"invoice_id": "BIG"}, now=synced_template.now)
        assert json.loads(out.getvalue())[0]["total_amount"] == "46116860184273879.05"
        # 80 webhook events were copied with their ids: the next one is 81, not 1
        new = db.execute("INSERT INTO webhook_events (source, event_id, received_at, outcome) "
                         "VALUES ('upwell', 'after-the-move', '2026-01-03T00:00:00.000Z', 'accepted')")
        assert new.lastrowid == 81
    finally:
        db.close()


def test_a_second_move_is_refused_and_replace_says_what_it_removes(source: Path, pg_url: str,
                                                                    synced_template: SyncedTemplate) -> None:
    assert move_store(source, pg_url, now=synced_template.now, say=lambda _: None).ok
    before = _counts(pg_url)

    with pytest.raises(MoveRefused, match=r"already holds data: qargo_orders \(4\), qargo_charges \(1\), "
                                         r"quaderno_invoices \(300\)"):
        move_store(source, pg_url, now=synced_template.now, say=lambda _: None)
    assert _counts(pg_url) == before

    lines: list[str] = []
    report = move_store(source, pg_url, replace=True, now=synced_template.now, say=lines.append)
    assert report.ok
    assert report.removed["quaderno_invoices"] == 300 and "lead_times" not in report.removed  # seeded: not data
    assert "removing 300 rows from quaderno_invoices on the target" in lines
    assert _counts(pg_url) == before


@pytest.mark.parametrize(("broken", "refused"), [
    # SQLite keeps a NUL character in text; PostgreSQL's text cannot hold one (psycopg refuses to send it)
    ("UPDATE qargo_orders SET reference = 'SO' || char(0) || '3' WHERE order_id = 'T3'",
     r"qargo_orders row 3 \(order_id = T3\): .*NUL \(0x00\)"),
    # lead_times is not STRICT: SQLite stores text in its REAL column; the server refuses it (COPY names the line)
    ("INSERT INTO lead_times VALUES ('W9', 'soon', '2026-01-01T00:00:00.000Z', 'ops')",
     r"lead_times row 2 \(warehouse_id = W9\): invalid input syntax for type double precision"),
], ids=["client-side", "server-side"])
def test_a_row_postgresql_refuses_leaves_the_target_as_it_was(source: Path, pg_url: str, broken: str,
                                                               refused: str) -> None:
    with connect(source) as db:
        db.execute(broken)

    with pytest.raises(MoveRefused, match=f"PostgreSQL refused {refused}"):
        move_store(source, pg_url, say=lambda _: None)
    _untouched(pg_url)


def test_an_interrupted_move_leaves_the_target_as_it_was(source: Path, pg_url: str) -> None:
    def interrupt(line: str) -> None:
        if line.startswith("copied quaderno_invoices"):  # several tables are in by now
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        move_store(source, pg_url, say=interrupt)
    _untouched(pg_url)


def test_a_dataset_that_differs_rolls_the_move_back(source: Path, pg_url: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # CAST rounds on PostgreSQL and truncates on SQLite (issue 20): 3 against 2
    probe = Dataset("cast_probe", "SELECT CAST(2.5 AS INTEGER) AS n", ("n",), "n")
    monkeypatch.setitem(DATASETS, probe.name, probe)
    lines: list[str] = []

    report = move_store(source, pg_url, say=lines.append)

    assert not report.ok
    assert report.comparison is not None
    assert report.comparison.datasets_differ == {"cast_probe": "row 1 differs in n (fcb7ecf2 / 389d42d9)"}
    assert lines[-1] == "the target was rolled back: it holds what it held before"
    _untouched(pg_url)


def test_the_synced_cache_as_it_is_moves_equal(synced_template: SyncedTemplate, tmp_path: Path, pg_url: str) -> None:
    synced_template.copy(tmp_path / "as-is.db").close()
    report = move_store(tmp_path / "as-is.db", pg_url, now=synced_template.now, say=lambda _: None)
    assert report.comparison is not None and report.comparison.datasets_differ == {}


def test_what_is_not_a_sqlite_file_or_a_postgresql_url_is_refused(tmp_path: Path, pg_url: str) -> None:
    with pytest.raises(MoveRefused, match="must be an existing SQLite file"):
        move_store(tmp_path / "missing.db", pg_url)
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(MoveRefused, match="must be a postgresql:// URL"):
        move_store(tmp_path / "missing.db", str(tmp_path / "other.db"))


def test_a_vendor_wait_still_running_is_said_not_moved(source: Path, pg_url: str,
                                                        synced_template: SyncedTemplate) -> None:
    until = time.time() + 3600  # a Retry-After of an hour, noted by the file's rate limiter
    with connect(source) as db:
        db.execute("UPDATE rate_buckets SET blocked_until = ? WHERE key = 'quaderno#0'", [until])
    lines: list[str] = []

    assert move_store(source, pg_url, now=synced_template.now, say=lines.append).ok

    stamp = datetime.fromtimestamp(until).astimezone().isoformat("T", "seconds")
    assert f"note: quaderno#0 asked us to wait until {stamp} (Retry-After); its wait does not move: start " \
           "syncing on PostgreSQL after that" in lines
    assert [line for line in lines if line.startswith("note:")] == [lines[0]]  # only the one still waiting
    assert _counts(pg_url).get("rate_buckets", 0) == 0
