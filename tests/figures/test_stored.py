"""Stored figures (figures/stored.py, issue 19): built once per input, read back as JSON, out of date after a
noted write; a live worker refreshes them within its pass (readers meanwhile get the stored figure and its
"as of"), and without one a reader refreshes what it reads. After writes and a refresh every page figure
equals a recount from the rows."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlite_utils import Database

from figures import codec, kpis, page_summaries, stored
from figures.kpis import Outstanding
from store.db import connect, iso, transaction
from store.queries import Page, query_dataset
from store.store import upsert_records
from tests.conftest import NOW
from tests.figures import test_kpis

now, synced = test_kpis.now, test_kpis.synced  # the synced sandbox data set and its clock (fixtures)
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


def test_no_new_data_never_recomputes_and_a_noted_write_shows_next_read(db: Database) -> None:
    upsert_records(db, "quaderno_invoices", [_invoice(1), _invoice(2)], "invoice_id")
    fn = Counting()
    first, stamp = stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    again, same = stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    assert (first, again, fn.runs, same) == (2, 2, 1, stamp)
    upsert_records(db, "qasida_stock_cards", [{"stock_card_id": "s1", "synced_at": NOW}], "stock_card_id")
    assert stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)[0] == 2 and fn.runs == 1
    upsert_records(db, "quaderno_invoices", [_invoice(3)], "invoice_id")
    assert stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)[0] == 3 and fn.runs == 2


def test_a_new_business_day_and_other_arguments_rebuild(db: Database) -> None:
    fn = Counting()
    stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    stored.read(db, "open", fn, ["outstanding"], today="2025-03-11", now=NOW)
    stored.read(db, "open", fn, ["paid"], today="2025-03-11", now=NOW)
    assert fn.runs == 3


def test_values_are_stored_as_json_with_their_inputs(db: Database) -> None:
    upsert_records(db, "quaderno_invoices", [_invoice(i, due=100 + i) for i in range(30)], "invoice_id")

    def page(db: Database, name: str) -> Page:
        return query_dataset(db, name, limit=10, now=NOW)

    result, _ = stored.read(db, "page", page, ["invoices_outstanding"], today=TODAY)
    value, inputs = db.execute("SELECT value, inputs FROM figures WHERE name = 'page'").fetchone()
    assert value.startswith('{"$dc":"store.queries:Page"') and '"quaderno_invoices": 1' in inputs
    kept, _ = stored.read(db, "page", page, ["invoices_outstanding"], today=TODAY)
    assert kept == result and kept.total == 30 and len(kept.rows) == 10


def test_the_codec_gives_back_equal_objects_and_refuses_foreign_classes() -> None:
    money = Outstanding("receivable", {"EUR": Decimal("12.345")}, {}, {"JPY": Decimal(5000)}, 1, {},
                        invoices=2, overdue_long={"EUR": Decimal("0.10")})
    frame = pd.DataFrame({"bucket": ["0-30", "31-60"], "amount": ["1.50", ""], "invoices": [2, 3]},
                         dtype=object).astype({"invoices": int})
    value = {"money": money, "frame": frame, "pair": (1, "a"), 3: None}
    back = codec.loads(codec.dumps(value))
    assert back["money"] == money and back["pair"] == (1, "a") and back[3] is None
    assert back["money"].outstanding["EUR"] == Decimal("12.345")  # exact, as text
    pd.testing.assert_frame_equal(back["frame"], frame)
    with pytest.raises(ValueError, match="outside the application"):
        codec.loads('{"$dc": "os:PathLike", "f": {}}')


def test_a_figure_reading_a_table_nobody_notes_is_built_every_time(db: Database) -> None:
    runs: list[int] = []

    def jobs(db: Database) -> int:
        runs.append(1)
        return int(db.execute("SELECT count(*) FROM jobs").fetchone()[0])

    assert stored.read(db, "jobs", jobs, today=TODAY)[1].token.startswith("live:")
    stored.read(db, "jobs", jobs, today=TODAY)
    assert len(runs) == 2 and db.execute("SELECT count(*) FROM figures").fetchone()[0] == 0


def test_a_live_worker_serves_the_stored_figure_until_it_refreshes_it(db: Database) -> None:
    upsert_records(db, "quaderno_invoices", [_invoice(1)], "invoice_id")
    fn = Counting()
    stored.register("open", fn)
    stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    stored.beat(db, NOW)
    upsert_records(db, "quaderno_invoices", [_invoice(2)], "invoice_id")
    value, stamp = stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW + timedelta(seconds=5))
    assert (value, fn.runs) == (1, 1)  # lagging the write, with its "as of"
    assert stamp.built_at == "2025-03-10T12:00:00.000Z"
    assert stored.refresh(db, TODAY, NOW + timedelta(seconds=5)) == 1 and fn.runs == 2
    assert stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW + timedelta(seconds=6))[0] == 2


def test_without_a_live_worker_the_reader_refreshes_what_it_reads(db: Database) -> None:
    upsert_records(db, "quaderno_invoices", [_invoice(1)], "invoice_id")
    fn = Counting()
    stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    stored.beat(db, NOW)
    upsert_records(db, "quaderno_invoices", [_invoice(2)], "invoice_id")
    later = NOW + stored.LIVE_WITHIN + timedelta(seconds=1)  # the worker's last beat is too old
    assert stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=later)[0] == 2 and fn.runs == 2


def test_refresh_rebuilds_what_was_read_and_changed_only_and_forgets_the_unread(db: Database) -> None:
    fn = Counting()
    stored.register("open", fn)
    stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    assert stored.refresh(db, TODAY, NOW) == 0 and fn.runs == 1
    upsert_records(db, "quaderno_invoices", [_invoice(5)], "invoice_id")
    assert stored.refresh(db, TODAY, NOW) == 1 and fn.runs == 2
    stored.refresh(db, TODAY, NOW + stored.READ_WITHIN + timedelta(minutes=1))
    assert db.execute("SELECT count(*) FROM figures").fetchone()[0] == 0


def test_a_refresh_is_not_a_read_so_a_figure_nobody_looks_at_stops_being_rebuilt(db: Database) -> None:
    fn = Counting()
    stored.register("open", fn)
    stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    later = NOW + stored.REFRESH_READ_WITHIN - timedelta(minutes=1)
    upsert_records(db, "quaderno_invoices", [_invoice(6)], "invoice_id")
    assert stored.refresh(db, TODAY, later) == 1 and fn.runs == 2  # read lately: kept up to date
    assert db.execute("SELECT read_at FROM figures").fetchone()[0] == iso(NOW)  # unchanged by it
    upsert_records(db, "quaderno_invoices", [_invoice(7)], "invoice_id")
    assert stored.refresh(db, TODAY, later + timedelta(minutes=2)) == 0 and fn.runs == 2  # nobody looked since


def test_a_sync_without_a_worker_refreshes_what_was_read_within_the_day(db: Database) -> None:
    fn = Counting()
    stored.register("open", fn)
    stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    upsert_records(db, "quaderno_invoices", [_invoice(5)], "invoice_id")
    evening = NOW + timedelta(hours=8)  # read this morning: past the worker's 30 minutes, within the day
    assert stored.refresh(db, TODAY, evening) == 0 and fn.runs == 1
    assert stored.refresh(db, TODAY, evening, read_within=stored.READ_WITHIN) == 1 and fn.runs == 2
    assert stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=evening)[0] == 1 and fn.runs == 2


@pytest.mark.sqlite_only("holds SQLite's write lock (BEGIN IMMEDIATE); PostgreSQL writers do not queue on one lock")
def test_a_busy_database_skips_keeping_the_figure_and_still_answers(db: Database, db_path: Path) -> None:
    writer = connect(db_path)
    writer.execute("BEGIN IMMEDIATE")  # a sync holding the write lock
    try:
        value, _ = stored.read(db, "open", Counting(), ["outstanding"], today=TODAY, now=NOW)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert value == 0 and db.execute("SELECT count(*) FROM figures").fetchone()[0] == 0


def test_new_code_rebuilds_what_old_code_stored(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    fn = Counting()
    stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    monkeypatch.setattr(stored, "code_fingerprint", lambda: "deployed-later")
    stored.read(db, "open", fn, ["outstanding"], today=TODAY, now=NOW)
    assert fn.runs == 2


# --- the pages' figures on the synced data set -------------------------------------------------------

def _writes(db: Database) -> None:
    """One of each kind of write the figures must follow (sync updates, a webhook delete, a rename, stock, our
    own reorder levels, orders on both sides), in one transaction like a sync batch, noted as writers do. Rows
    are picked by key (the first or last), as both databases have keys and only SQLite a rowid."""
    from store.changes import note_write

    with transaction(db):
        note_write(db, "quaderno_invoices", "carrier_invoices", "qasida_customers", "qasida_stock_cards",
                   "qargo_orders", "qasida_customer_orders", "reorder_levels")
        db.execute("UPDATE quaderno_invoices SET amount_due = amount_due + 1 "
                   "WHERE invoice_id = (SELECT min(invoice_id) FROM quaderno_invoices WHERE amount_due > 0)")
        db.execute("UPDATE quaderno_invoices SET due_date = '2020-01-01' "
                   "WHERE invoice_id = (SELECT max(invoice_id) FROM quaderno_invoices WHERE amount_due > 0)")
        db.execute("DELETE FROM carrier_invoices WHERE invoice_id = (SELECT min(invoice_id) FROM carrier_invoices)")
        db.execute("UPDATE qasida_customers SET name = 'Renamed Customer Ltd' "
                   "WHERE customer_id = (SELECT customer_id FROM qasida_claims LIMIT 1)")
        db.execute("UPDATE qasida_stock_cards SET quantity = quantity + 7, available = NULL "
                   "WHERE stock_card_id = (SELECT min(stock_card_id) FROM qasida_stock_cards)")
        warehouse = db.execute("SELECT warehouse_id FROM qasida_stock_cards LIMIT 1").fetchone()[0]
        code = db.execute("SELECT code FROM qasida_products LIMIT 1").fetchone()[0]
        db.execute("UPDATE qargo_orders SET status = 'DELIVERED', delivery_date = '2020-02-02' "
                   "WHERE order_id = (SELECT min(order_id) FROM qargo_orders WHERE nullif(reference, '') IS NOT NULL)")
        db.execute("UPDATE qasida_customer_orders SET order_date = '2021-03-03', status = 'cancelled' "
                   "WHERE order_id = (SELECT min(order_id) FROM qasida_customer_orders)")
        db.execute("INSERT INTO reorder_levels (product_code, warehouse_id, reorder_level, updated_at, updated_by) "
                   "VALUES (?, ?, 1000000, '2026-01-01T00:00:00.000Z', 'test') ON CONFLICT (product_code, "
                   "warehouse_id) DO UPDATE SET reorder_level = excluded.reorder_level", [code, warehouse])


FIGURES: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("order_kpis", ({},)), ("money_kpis", ({}, "receivable")), ("money_kpis", ({}, "payable")),
    ("stock_kpis", ()), ("outstanding_aging", ({}, "payable")), ("stock_below", ()),
    ("counterparty_totals", ({"direction": "receivable"},)), ("aging", ({},)), ("warehouse_totals", ({},)),
    ("dataset_page", ("invoices_outstanding", {"days_overdue__gt": 0})),
)


def _plain(value: Any) -> Any:
    return value.to_dict("records") if isinstance(value, pd.DataFrame) else value


def test_every_page_figure_equals_a_recount_after_writes_and_a_refresh(synced: Database, now: datetime,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page_summaries, "utcnow", lambda: now)
    today = stored.business_today(now)
    builders = {name: getattr(page_summaries, name) for name, _ in FIGURES}
    before = [stored.read(synced, page_summaries.name_of(builders[n]), builders[n], args, today=today, now=now)[0]
              for n, args in FIGURES]
    _writes(synced)
    # and the passes the figures are folded from (built once, by the first that needs them): the stock groups,
    # and the outstanding groups of the three invoice filters (receivable; both directions; overdue)
    assert stored.refresh(synced, today, now) == len({(n, repr(a)) for n, a in FIGURES}) + 1 + 3
    for (name, args), old in zip(FIGURES, before, strict=True):
        kept = stored.read(synced, page_summaries.name_of(builders[name]), builders[name], args, today=today,
                           now=now)[0]
        assert _plain(kept) == _plain(builders[name](synced, *args)), name  # the recount
    money = stored.read(synced, page_summaries.name_of(builders["money_kpis"]), builders["money_kpis"],
                        ({}, "receivable"), today=today, now=now)[0]
    assert money != before[1] and asdict(money)["overdue"]  # the writes moved it; something is overdue


def test_overdue_more_than_60_days_is_part_of_overdue(synced: Database, now: datetime) -> None:
    for direction in ("receivable", "payable"):
        money = kpis.outstanding(synced, now, direction)
        by_hand = kpis.select(synced, f"{direction}s_outstanding", {"days_overdue__gt": 60}, now,
                              f"currency, decimal_sum({kpis.EXACT})", "GROUP BY currency")
        assert money.overdue_long == {c: Decimal(t) for c, t in by_hand if t is not None}
        assert all(money.overdue_long[c] <= money.overdue[c] for c in money.overdue_long)


def test_the_worker_brings_a_figure_up_to_date_within_its_pass(db_path: Path) -> None:
    """The staleness bound, measured: a write, then the time until a reader sees it with the worker running
    (refresh every 0.2 s here; 5 s in production, docs/performance.md)."""
    from jobs.worker import Worker
    from services.settings import Settings

    db = connect(db_path)
    fn = Counting()
    stored.register("open", fn)
    today = stored.business_today()
    stored.read(db, "open", fn, ["outstanding"], today=today)
    stop = threading.Event()
    worker = threading.Thread(target=Worker(Settings(opsdash_db=db_path)).run,  # type: ignore[call-arg]
                              args=(stop,), kwargs={"idle_seconds": 0.05, "refresh_every": 0.2}, daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not stored.worker_live(db) and time.monotonic() < deadline:
            stop.wait(0.02)
        upsert_records(db, "quaderno_invoices", [_invoice(1)], "invoice_id")
        written = time.monotonic()
        while stored.read(db, "open", fn, ["outstanding"], today=today)[0] != 1 and time.monotonic() < deadline:
            stop.wait(0.02)
        lag = time.monotonic() - written
    finally:
        stop.set()
        worker.join(timeout=10)
        db.close()
    assert lag < 1.0, f"the figure lagged the write by {lag:.2f} s"


def test_a_figure_built_from_another_reads_its_inputs(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    upsert_records(db, "quaderno_invoices", [_invoice(1), _invoice(2)], "invoice_id")
    inner = Counting()

    def outer(db: Database) -> int:
        return 10 * stored.nested(db, "open", inner, ["outstanding"], now=NOW)

    monkeypatch.setattr(stored, "BUILDERS", {"open": inner, "ten times": outer})

    today = stored.business_today(NOW)
    assert stored.read(db, "open", inner, ["outstanding"], today=today, now=NOW)[0] == 2 and inner.runs == 1
    assert stored.read(db, "ten times", outer, today=today, now=NOW)[0] == 20 and inner.runs == 1  # served stored
    upsert_records(db, "quaderno_invoices", [_invoice(3)], "invoice_id")  # the inner figure's table only
    stored.beat(db, NOW)  # even with a live worker, the figure built from it is never built from a stale one
    assert stored.refresh(db, today, NOW) == 2 and inner.runs == 2
    assert stored.read(db, "ten times", outer, today=today, now=NOW)[0] == 30 and inner.runs == 2


def test_the_stock_figures_folded_from_one_pass_equal_their_own_pass(synced: Database, now: datetime,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page_summaries, "utcnow", lambda: now)
    from figures import details

    for query in ({}, {"runs_out_before_next_delivery": 1}, {"product__contains": "a"}):
        groups = page_summaries.stock_groups(synced, query)
        assert len({(g["warehouse_id"], g["unit"]) for g in groups}) > 1
        assert page_summaries.warehouse_totals(synced, query) == details.warehouse_totals(synced, query)
        assert (page_summaries.dataset_page(synced, "stock_levels", query).total
                == query_dataset(synced, "stock_levels", query).total == sum(g["products"] for g in groups))
    by_hand = synced.execute("SELECT count(*), count(CASE WHEN below_reorder_level = 1 THEN 1 END), "
                             "count(CASE WHEN reorder_level IS NULL THEN 1 END), "
                             "count(CASE WHEN runs_out_before_next_delivery = 1 THEN 1 END) FROM stock_levels"
                             ).fetchone()
    assert asdict(page_summaries.stock_kpis(synced)) == dict(zip(
        ("items", "below_reorder_level", "no_level", "runs_out_before_next_delivery"), by_hand, strict=True))
    assert by_hand[1] > 0 and by_hand[3] > 0  # the data set has some of each
    below = synced.execute("SELECT coalesce(warehouse, warehouse_id), count(CASE WHEN below_reorder_level = 1 THEN 1 "
                           "END), count(CASE WHEN reorder_level IS NULL THEN 1 END) FROM stock_levels GROUP BY 1 "
                           "ORDER BY 2 DESC, 1").fetchall()
    assert [tuple(r) for r in page_summaries.stock_below(synced).itertuples(index=False)] == below


def test_a_deploy_that_changes_a_figures_sql_rebuilds_it() -> None:
    """The digest covers the rooms that define figures (it once read a folder that no longer exists)."""
    root = Path(stored.__file__).resolve().parents[1]
    names = {path.relative_to(root).as_posix() for path in stored.sources()}
    assert {"figures/kpis.py", "figures/details.py", "store/datasets.py", "store/queries.py", "store/calendar.py",
            "ui/data.py", "pages/overview.py"} <= names
    assert not any(name.startswith(("tests/", "bench/", ".venv/")) for name in names)
