"""Sync & health: freshness in words, runs, webhook outcomes, and Refresh now enqueueing one job."""

from __future__ import annotations

from pathlib import Path

from jobs import jobs
from store.db import connect
from store.health import rate_budgets
from tests.pages.conftest import NOW, run_page


def _queued(path: Path) -> list[jobs.Job]:
    db = connect(path)
    try:
        return jobs.recent(db, kinds=["sync"], statuses=["queued", "running"])
    finally:
        db.close()


def _frame(at, column: str):  # type: ignore[no-untyped-def]
    """The first dataframe with `column` (AppTest does not expose a dataframe's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_sources_show_last_error_and_staleness(seeded_db: Path) -> None:
    at = run_page("pages/sync.py")
    assert not at.exception
    sources = _frame(at, "last_error").set_index("source")
    assert sources.loc["Qargo orders", "state"] == "OK"
    assert sources.loc["Quaderno invoices", "state"] == "Failing"
    assert "check QUADERNO_API_KEY" in sources.loc["Quaderno invoices", "last_error"]
    assert sources.loc["Qasida stock levels", "state"] == "Stale"
    assert sources.loc["Upwell carrier invoices", "state"] == "OK"
    assert " ago" in sources.loc["Qargo orders", "last_success"]  # local time and "… ago", not UTC ISO


def test_runs_jobs_and_webhook_outcomes(seeded_db: Path) -> None:
    at = run_page("pages/sync.py")
    assert len(_frame(at, "inserted")) == 4
    assert _frame(at, "requested_by")["status"].tolist() == ["Finished"]
    events = _frame(at, "outcome")
    assert dict(zip(events.outcome, events.events, strict=True)) == {"Accepted": "2", "Rejected": "1"}


def test_refresh_twice_enqueues_one_job(seeded_db: Path) -> None:
    at = run_page("pages/sync.py")
    assert [b.label for b in at.button if b.key and b.key.startswith("refresh.")] == [
        "Refresh Qargo", "Refresh Quaderno", "Refresh Qasida", "Refresh Cargobase"]
    at.button(key="refresh.qargo").click().run()
    at.button(key="refresh.qargo").click().run()
    queued = _queued(seeded_db)
    assert [(j.payload, j.dedupe_key, j.status) for j in queued] == [
        ({"vendor": "qargo"}, "refresh:qargo", "queued")]
    assert any("Refresh Qargo: queued" in p.proto.text for p in at.get("progress"))


def test_a_finished_refresh_reruns_the_page_once_with_new_data(seeded_db: Path) -> None:
    at = run_page("pages/sync.py")
    at.button(key="refresh.qargo").click().run()
    [job] = _queued(seeded_db)
    db = connect(seeded_db)
    jobs.finish(db, job.job_id, result={"pages": 1})
    db.close()
    at.run()  # the fragment's next tick: the job ended, so the app reran with the cache cleared
    assert not at.exception
    assert any("Refresh Qargo: finished" in s.value for s in at.success)
    assert _frame(at, "requested_by")["status"].tolist()[0] == "Finished"


def test_empty_database_explains(empty_db: Path) -> None:
    at = run_page("pages/sync.py")
    assert not at.exception
    infos = " ".join(i.value for i in at.info)
    assert "No vendor is configured" in infos and "No webhook events" in infos
    assert not [b for b in at.button if b.key and b.key.startswith("refresh.")]


def test_rate_budgets_read_both_limiter_shapes(seeded_db: Path) -> None:
    db = connect(seeded_db)
    # the limiter's table (services/core/store.py); DOUBLE PRECISION: SQLite's REAL, PostgreSQL's 8-byte float
    db.execute("CREATE TABLE rate_buckets (key TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, "
               "updated_at DOUBLE PRECISION NOT NULL, blocked_until DOUBLE PRECISION NOT NULL DEFAULT 0)")
    t = NOW.timestamp()
    db["rate_buckets"].insert_all([
        {"key": "qargo", "tokens": 0.5, "updated_at": t, "blocked_until": t + 10},
        {"key": "quaderno", "tokens": 0, "updated_at": t, "blocked_until": 0},
        {"key": "quaderno#0", "tokens": 0, "updated_at": t - 5, "blocked_until": 0},
        {"key": "quaderno#1", "tokens": 0, "updated_at": t - 120, "blocked_until": 0}])
    budgets = {b.name: b for b in rate_budgets(db, NOW)}
    db.close()
    assert (budgets["qargo"].tokens_left, budgets["qargo"].blocked_for_s) == (0.5, 10.0)
    assert (budgets["quaderno"].tokens_left, budgets["quaderno"].calls_last_minute) == (None, 1)
