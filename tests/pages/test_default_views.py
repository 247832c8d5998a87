"""Issue 19: after a sync, the pages' default views (figures/page_summaries.py `default_views`) are stored, so
the first view of a database nobody has viewed yet builds nothing: counted builds, not timings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st

from figures import page_summaries, stored
from jobs.worker import refresh_figures
from store.db import connect, iso, utcnow
from tests.pages.conftest import _use_db, run_page
from tests.synced_data import SyncedTemplate

PAGES = ("overview", "invoices", "stock")


@pytest.fixture
def synced_path(synced_template: SyncedTemplate, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Path | str]:
    """A copy of the synced template (nobody has viewed it: no figure stored), the app pointed at it."""
    path = synced_template.suite_copy(tmp_path / "synced.db")  # a file, or a PostgreSQL database
    monkeypatch.setenv("OPSDASH_TIMEZONE", "UTC")
    _use_db(monkeypatch, path, {"OPSDASH_INPROCESS_WORKER": "false"})
    yield path
    st.cache_data.clear()


def _builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the figures built from now on (stored.build wrapped)."""
    built: list[str] = []
    build = stored.build

    def counting(db: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        built.append(name)
        return build(db, name, *args, **kwargs)

    monkeypatch.setattr(stored, "build", counting)
    return built


def _stored_keys(path: Path) -> set[str]:
    db = connect(path)
    try:
        return {r[0] for r in db.execute(f"SELECT key FROM {stored.TABLE} WHERE inputs != ?", [stored.CONTENT])}
    finally:
        db.close()


def test_the_workers_pass_after_a_sync_stores_every_default_view(synced_path: Path) -> None:
    assert _stored_keys(synced_path) == set()  # nobody viewed the synced database yet
    db = connect(synced_path)
    try:
        refresh_figures(db)
        today = stored.business_today()
        views = page_summaries.default_views(utcnow().date())
        wanted = {stored.key_of(page_summaries.name_of(fn), args, kwargs)
                  for calls in views.values() for fn, args, kwargs in calls}
        assert len(wanted) == 22  # 12 Overview, 4 Invoices, 6 Stock (one each: none shared between pages)
        assert wanted <= _stored_keys(synced_path)
        assert all(stored.servable(db, key, today, fresh=True) for key in wanted)
        # figures were read just now (built): the next pass refreshes those, and primes nothing
        assert page_summaries.prime_default_views(db) == 0
    finally:
        db.close()


@pytest.mark.parametrize("page", PAGES)
def test_a_pages_first_view_after_a_sync_builds_nothing(synced_path: Path, page: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    db = connect(synced_path)
    try:
        refresh_figures(db)
        db.execute("DELETE FROM figure_worker")  # no live worker: served only because the figures are current
    finally:
        db.close()
    st.cache_data.clear()
    built = _builds(monkeypatch)
    at = run_page(f"pages/{page}.py")
    assert not at.exception
    assert built == []


def test_nothing_is_primed_while_someone_reads_figures(synced_path: Path) -> None:
    db = connect(synced_path)
    try:
        stored.build(db, page_summaries.name_of(page_summaries.tax_id_kpis), page_summaries.tax_id_kpis,
                     today=stored.business_today())
        assert page_summaries.prime_default_views(db) == 0  # read lately: the readers' figures are refreshed
        db.execute(f"UPDATE {stored.TABLE} SET read_at = ?",
                   [iso(utcnow() - stored.REFRESH_READ_WITHIN - stored.REFRESH_READ_WITHIN)])
        assert page_summaries.prime_default_views(db) == 21  # the 22 less the one already current
    finally:
        db.close()


def test_nothing_is_primed_while_a_sync_is_queued_or_running(synced_path: Path) -> None:
    """Priming between a sync's writes slowed a 1x full sync by ~30 %: the worker waits for its jobs to end."""
    from jobs import jobs

    db = connect(synced_path)
    try:
        job = jobs.enqueue(db, "sync", {"vendor": "quaderno"}, "test")
        assert refresh_figures(db) == 0 and _stored_keys(synced_path) == set()
        jobs.cancel(db, job)
        assert refresh_figures(db) == 22  # every default view (the stock pass they share built once, inside)
    finally:
        db.close()
