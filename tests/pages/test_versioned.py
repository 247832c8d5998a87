"""ui.versioned and ui.figures: stored figures read back until their inputs change, chart specs built once per data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from sqlite_utils import Database

from store.schema import session
from store.store import upsert_records
from ui import figures, versioned

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
RUNS: list[str] = []


@pytest.fixture
def db_path(db_path: Path | str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path | str]:
    path = db_path  # the suite's: a migrated file, or with --db=postgresql a PostgreSQL database (tests/conftest.py)
    monkeypatch.setattr(versioned, "db_path", lambda: str(path))
    st.cache_data.clear()
    st.cache_resource.clear()
    RUNS.clear()
    with session(path):
        pass
    yield path


@versioned.versioned
def open_invoices(db: Database, state: str) -> int:
    RUNS.append(state)
    return int(db.execute("SELECT count(*) FROM quaderno_invoices WHERE state = ?", [state]).fetchone()[0])


def _add(path: Path, *ids: int) -> None:
    with session(path) as db:
        upsert_records(db, "quaderno_invoices", [{"invoice_id": f"i{i}", "currency": "EUR", "state": "late",
                                                  "synced_at": NOW} for i in ids], "invoice_id")


def test_reruns_without_new_data_never_recompute(db_path: Path) -> None:
    _add(db_path, 1, 2)
    assert [open_invoices("late") for _ in range(5)] == [2] * 5
    assert RUNS == ["late"]


def test_new_data_shows_on_the_next_call(db_path: Path) -> None:
    _add(db_path, 1)
    assert open_invoices("late") == 1
    _add(db_path, 2, 3)
    assert open_invoices("late") == 3
    assert open_invoices("late") == 3
    assert RUNS == ["late", "late"]


def test_a_write_to_another_table_keeps_the_result(db_path: Path) -> None:
    _add(db_path, 1)
    open_invoices("late")
    with session(db_path) as db:
        upsert_records(db, "qasida_stock_cards", [{"stock_card_id": "s", "synced_at": NOW}], "stock_card_id")
    assert open_invoices("late") == 1 and RUNS == ["late"]


def test_a_figure_is_built_once_per_data() -> None:
    st.cache_resource.clear()
    builds: list[int] = []

    def bar(frame: pd.DataFrame, x: str) -> dict[str, object]:
        builds.append(len(frame))
        return {"x": list(frame[x])}

    frame = pd.DataFrame({"day": ["2025-03-01", "2025-03-02"], "orders": [3, 4]})
    first = figures.cached(bar, frame, x="day")
    assert figures.cached(bar, frame.copy(), x="day") is first
    assert figures.cached(bar, frame.assign(orders=[3, 5]), x="day") is not first
    assert figures.cached(bar, frame, x="orders") != first
    assert builds == [2, 2, 2]
    rows = [{"bucket": "1–30", "invoices": 2}]
    assert figures.cached(len, rows) == 1 and figures.cached(len, [dict(r) for r in rows]) == 1
    assert figures.digest(rows) == figures.digest([dict(r) for r in rows]) != figures.digest([{"bucket": "x"}])


def test_a_memoized_builder_takes_positional_arguments() -> None:
    st.cache_resource.clear()
    builds: list[str] = []

    @figures.memoized
    def aging(frame: pd.DataFrame, currency: str, title: str = "") -> tuple[str, int]:
        builds.append(currency)
        return currency, len(frame)

    frame = pd.DataFrame({"bucket": ["1–30"], "value": [1]})
    assert aging(frame, "EUR", title="t") == ("EUR", 1)
    assert aging(frame, "EUR", title="t") == ("EUR", 1)
    assert aging(frame, "USD", title="t") == ("USD", 1)
    assert builds == ["EUR", "USD"]


def test_a_cached_plotly_figure_keeps_one_spec_and_a_new_process_reads_it_back(db_path: Path) -> None:
    import plotly.express as px

    frame = pd.DataFrame({"day": ["2025-03-01", "2025-03-02"], "orders": [3, 4]})
    fig = figures.cached(px.bar, frame, x="day", y="orders")
    assert fig.to_dict() is fig.to_dict()
    assert list(fig.to_dict()["data"][0]["x"]) == ["2025-03-01", "2025-03-02"]
    st.cache_resource.clear()  # as in a new server process: memory empty, SQLite kept
    calls: list[int] = []

    def never(frame: pd.DataFrame, **options: object) -> None:
        calls.append(1)

    never.__module__, never.__qualname__ = px.bar.__module__, px.bar.__qualname__  # the same builder name
    again = figures.cached(never, frame, x="day", y="orders")
    import plotly.io

    assert calls == []
    assert plotly.io.to_json(again.to_dict(), validate=False) == plotly.io.to_json(fig.to_dict(), validate=False)


def test_sessions_arriving_together_build_a_summary_once(db_path: Path) -> None:
    import threading

    _add(db_path, 1, 2, 3)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(open_invoices("late"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == [3] * 8 and RUNS == ["late"]


def test_a_summary_served_from_memory_is_still_noted_as_read(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _add(db_path, 1)
    open_invoices("late")
    with session(db_path) as db:
        db.execute("UPDATE figures SET read_at = '2000-01-01T00:00:00.000Z'")
    monkeypatch.setattr(versioned, "TOUCH_EVERY_S", -1.0)
    assert open_invoices("late") == 1 and RUNS == ["late"]  # from memory, not rebuilt
    with session(db_path) as db:
        assert db.execute("SELECT min(read_at) FROM figures").fetchone()[0] > "2000-01-01T00:00:00.000Z"


def test_kept_values_are_built_once_and_read_back_by_a_new_process(db_path: Path) -> None:
    builds: list[int] = []

    def fmt_rows(rows: list[dict[str, object]], columns: list[str]) -> list[dict[str, str]]:
        builds.append(len(rows))
        return [{c: f"<{r[c]}>" for c in columns} for r in rows]

    rows = [{"counterparty": f"C{i}", "invoices": i} for i in range(300)]
    first = figures.kept(fmt_rows, rows, ["counterparty"])
    assert figures.kept(fmt_rows, [dict(r) for r in rows], ["counterparty"]) is first
    st.cache_resource.clear()  # a new process: memory empty, SQLite kept
    assert figures.kept(fmt_rows, rows, ["counterparty"]) == first and builds == [300]
    assert figures.kept(fmt_rows, rows, ["invoices"])[1] == {"invoices": "<1>"} and builds == [300, 300]
