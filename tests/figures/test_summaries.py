"""Summaries: built once per data version, read back for the cost of one small SELECT, rebuilt by writers."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from store.queries import query_dataset
from store.store import upsert_records
from tests.conftest import NOW

TODAY = "2025-03-10"


def _invoice(i: int, due: int = 100) -> dict[str, object]:
    return {"invoice_id": f"i{i}", "number": f"N{i}", "currency": "EUR", "amount_due": due, "state": "outstanding",
            "due_date": "2025-03-01", "synced_at": NOW}


class Counting:
    """A builder that counts its runs: 'never recomputes' is a count, not a timing."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, db: Database, state: str) -> int:
        self.runs += 1
        return int(db.execute("SELECT count(*) FROM quaderno_invoices WHERE state = ?", [state]).fetchone()[0])


def test_no_new_data_never_recomputes_and_new_data_shows_next_read(db: Database) -> None:
    upsert_records(db, "quaderno_invoices", [_invoice(1), _invoice(2)], "invoice_id")
    fn = Counting()
    first, version = summaries.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    again, same = summaries.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    assert (first, again, fn.runs, same) == (2, 2, 1, version)
    assert version.startswith("quaderno_invoices=")
    upsert_records(db, "qasida_stock_cards", [{"stock_card_id": "s1", "synced_at": NOW}], "stock_card_id")
    assert summaries.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)[0] == 2 and fn.runs == 1
    upsert_records(db, "quaderno_invoices", [_invoice(3)], "invoice_id")
    assert summaries.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)[0] == 3 and fn.runs == 2


def test_a_new_business_day_rebuilds(db: Database) -> None:
    fn = Counting()
    summaries.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    summaries.read(db, "open", fn, ["outstanding"], today="2025-03-11", now=NOW)
    assert fn.runs == 2


def test_arguments_are_part_of_the_key(db: Database) -> None:
    upsert_records(db, "quaderno_invoices", [_invoice(1)], "invoice_id")
    fn = Counting()
    assert summaries.read(db, "open", fn, ["outstanding"], today=TODAY)[0] == 1
    assert summaries.read(db, "open", fn, ["paid"], today=TODAY)[0] == 0
    assert fn.runs == 2


def test_tables_are_tracked_even_for_a_statement_prepared_before(db: Database) -> None:
    fn = Counting()
    fn(db, "outstanding")  # prepared (and cached by sqlite3) outside any tracking
    _, version = summaries.read(db, "open", fn, ["outstanding"], today=TODAY)
    assert "quaderno_invoices=" in version


def test_refresh_rebuilds_what_was_read_and_changed_only(db: Database) -> None:
    fn = Counting()
    summaries.register("open", fn)
    summaries.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    assert summaries.refresh(db, TODAY, NOW) == 0 and fn.runs == 1
    upsert_records(db, "quaderno_invoices", [_invoice(5)], "invoice_id")
    assert summaries.refresh(db, TODAY, NOW) == 1 and fn.runs == 2
    assert summaries.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)[0] == 1 and fn.runs == 2


def test_refresh_forgets_summaries_nobody_reads(db: Database) -> None:
    from datetime import timedelta

    summaries.read(db, "open", Counting(), ["outstanding"], today=TODAY, now=NOW)
    summaries.refresh(db, TODAY, NOW + summaries.READ_WITHIN + timedelta(minutes=1))
    assert db.execute("SELECT count(*) FROM summaries").fetchone()[0] == 0


def test_a_dataset_page_and_its_count_as_a_summary(db: Database) -> None:
    upsert_records(db, "quaderno_invoices", [_invoice(i, due=100 + i) for i in range(30)], "invoice_id")

    def page(db: Database, name: str, **kwargs: Any) -> Any:
        return query_dataset(db, name, limit=10, now=NOW, **kwargs)

    result, version = summaries.read(db, "page", page, ["invoices_outstanding"], today=TODAY)
    assert result.total == 30 and len(result.rows) == 10
    assert "quaderno_invoices=" in version and "carrier_invoices=" in version
    stored, _ = summaries.read(db, "page", page, ["invoices_outstanding"], today=TODAY)
    assert stored.rows == result.rows


def test_the_worker_refreshes_summaries_on_its_scheduler_pass(db: Database, db_path: Any) -> None:
    from jobs.worker import SCHEDULED, Worker
    from services.settings import Settings

    fn = Counting()
    summaries.register("open", fn)
    assert SCHEDULED.count(summaries.refresh_in_worker) == 1  # jobs/worker.py registers it, once
    today = summaries.business_today()
    summaries.read(db, "open", fn, ["outstanding"], today=today)
    upsert_records(db, "quaderno_invoices", [_invoice(9)], "invoice_id")
    Worker(Settings(opsdash_db=db_path)).schedule_due(db)  # type: ignore[call-arg]
    assert fn.runs == 2
    assert summaries.read(db, "open", fn, ["outstanding"], today=today)[0] == 1 and fn.runs == 2


def test_a_busy_database_skips_keeping_the_summary_and_still_answers(db: Database, db_path: Any) -> None:
    from store.db import connect

    writer = connect(db_path)
    writer.execute("BEGIN IMMEDIATE")  # a sync holding the write lock
    try:
        value, _ = summaries.read(db, "open", Counting(), ["outstanding"], today=TODAY, now=NOW)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert value == 0
    assert db.execute("SELECT count(*) FROM summaries").fetchone()[0] == 0


def test_new_code_rebuilds_what_old_code_stored(db: Database, monkeypatch: Any) -> None:
    fn = Counting()
    summaries.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    monkeypatch.setattr(summaries, "code_fingerprint", lambda: "deployed-later")
    summaries.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    assert fn.runs == 2
