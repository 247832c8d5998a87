"""Orders page (AppTest) on a seeded temporary database: rows, filters, details, empty state.

`open_page` is shared by the Invoices, Tax and Stock page tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlite_utils import Database
from streamlit.testing.v1 import AppTest

from figures.freshness import SOURCES
from services.settings import get_settings
from store.db import iso, utcnow
from store.schema import session
from tests.conftest import suite_database
from tests.figures.test_details import seed_details

ROOT = Path(__file__).resolve().parents[2]
VENDOR_URLS = ("QARGO_BASE_URL", "QUADERNO_BASE_URL", "QASIDA_BASE_URL", "CARGOBASE_BASE_URL")


def open_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, page: str, *, seeded: bool = True,
              synced: bool = False, state: dict[str, object] | None = None) -> AppTest:
    """Run `pages/<page>.py` against a fresh database (seeded with `seed_details` unless told not).

    Vendors are not configured, unless `synced`: then each is configured and synced a moment ago."""
    path = suite_database(tmp_path / "cache.db")  # a new file, or a new PostgreSQL database (tests/conftest.py)
    with session(path) as db:
        if seeded:
            seed_details(db)
        if synced:
            _synced_now(db)
    monkeypatch.setenv("OPSDASH_DB", path)
    for name in VENDOR_URLS:
        if synced:
            monkeypatch.setenv(name, "http://127.0.0.1:9")  # never called: pages only read SQLite
        else:
            monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=30)
    at.session_state["filters.dates"] = (date(2025, 1, 1), date(2025, 12, 31))
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _synced_now(db: Database) -> None:
    moment = iso(utcnow())
    for spec in SOURCES:
        db.execute("INSERT INTO sync_runs (vendor, resource, started_at, finished_at, status) "
                   "VALUES (?, ?, ?, ?, 'ok')", [spec.vendor, spec.resource, moment, moment])


def select_row(at: AppTest, key: str, index: int) -> AppTest:
    at.session_state[f"{key}.table"] = {"selection": {"rows": [index], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Forget the test's settings afterwards (get_settings is cached); imported by the sibling tests."""
    yield
    get_settings.cache_clear()


def test_one_row_per_business_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "orders")
    table = at.dataframe[0].value
    # SO-1 is the ERP order and its Qargo transport order together; the others are in Qargo only.
    assert list(table["order_number"]) == ["SO-1", "REF-B2", "REF-A1"]  # newest order date first
    assert next(str(v) for v in table["erp_status"]).lower() == "open"
    assert next(str(v) for v in table["transport_status"]).lower().replace("_", " ") == "in transit"
    # The page reads the real clock: SO-1 (IN_TRANSIT) and REF-A1 (PLANNED) are past their delivery dates;
    # REF-B2 is COMPLETED, so its journey has ended and it is not late.
    assert [bool(v) for v in table["late"]] == [True, False, True]


def test_orders_filters_remove_the_right_rows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "orders", synced=True, state={"orders.reference": "ref-a"})
    assert list(at.dataframe[0].value["order_number"]) == ["REF-A1"]
    at.text_input(key="orders.reference").set_value("")
    at.text_input(key="orders.customer").set_value("acme").run()
    assert sorted(at.dataframe[0].value["order_number"]) == ["REF-A1", "SO-1"]
    at.session_state["filters.dates"] = (date(2025, 3, 9), date(2025, 3, 10))
    at.run()
    assert len(at.dataframe) == 0
    assert "No rows match the filters" in at.info[0].value


def test_selecting_an_order_opens_its_details(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # ui/details.selectable_table keeps the selection by the record's id columns
    at = open_page(monkeypatch, tmp_path, "orders", state={"orders.selected": ("REF-A1", None, "O1")})
    assert next(t.value for t in at.text) == "REF-A1"
    charges = at.dataframe[3].value  # stops, goods, charges, ...
    assert [str(v) for v in charges["amount"]] == ["12.50 EUR", "30.00 EUR"]
    timeline = next(d.value for d in at.dataframe if "occurred_at" in d.value.columns)  # documents: buttons
    assert len(timeline) == 2


def test_a_business_order_shows_the_erp_order_and_its_transport(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "orders", state={"orders.selected": ("SO-1", "C1", "O3")})
    assert next(t.value for t in at.text) == "SO-1"
    assert any(e.label == "ERP order (Qasida)" for e in at.expander)
    assert len(at.tabs) == 6  # the transport order's stops, goods, charges, documents, uploads, timeline


def test_orders_empty_state_explains_no_vendor_is_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    at = open_page(monkeypatch, tmp_path, "orders", seeded=False)
    assert len(at.dataframe) == 0
    assert "No source of this data is configured" in at.info[0].value
