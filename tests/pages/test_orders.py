"""Orders page (AppTest) on a seeded temporary database: rows, filters, details, empty state.

`open_page` is shared by the Invoices, Tax and Stock page tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlite_utils import Database
from streamlit.testing.v1 import AppTest

from cache.db import iso, utcnow
from cache.freshness import SOURCES
from cache.schema import session
from services.settings import get_settings
from tests.cache.test_details import seed_details

ROOT = Path(__file__).resolve().parents[2]
VENDOR_URLS = ("QARGO_BASE_URL", "QUADERNO_BASE_URL", "QASIDA_BASE_URL", "CARGOBASE_BASE_URL")


def open_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, page: str, *, seeded: bool = True,
              synced: bool = False, state: dict[str, object] | None = None) -> AppTest:
    """Run `pages/<page>.py` against a fresh database (seeded with `seed_details` unless told not).

    Vendors are not configured, unless `synced`: then each is configured and synced a moment ago."""
    path = tmp_path / "cache.db"
    with session(path) as db:
        if seeded:
            seed_details(db)
        if synced:
            _synced_now(db)
    monkeypatch.setenv("OPSDASH_DB", str(path))
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


def test_orders_table_shows_qargo_and_erp_orders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "orders")
    table = at.dataframe[0].value
    assert list(table["reference"]) == ["SO-1", "REF-B2", "REF-A1"]  # newest order date first
    assert list(table["late"]) == [0, 0, 1]


def test_orders_filters_remove_the_right_rows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(monkeypatch, tmp_path, "orders", synced=True, state={"orders.reference": "ref-a"})
    assert list(at.dataframe[0].value["reference"]) == ["REF-A1"]
    at.text_input(key="orders.reference").set_value("")
    at.text_input(key="orders.customer").set_value("acme").run()
    assert sorted(at.dataframe[0].value["reference"]) == ["REF-A1", "SO-1"]
    at.session_state["filters.sources"] = ["qasida"]
    at.run()
    assert list(at.dataframe[0].value["reference"]) == ["SO-1"]
    at.session_state["filters.dates"] = (date(2025, 3, 2), date(2025, 3, 7))
    at.session_state["filters.sources"] = []
    at.run()
    assert len(at.dataframe) == 0
    assert "No rows match the filters" in at.info[0].value


def test_selecting_an_order_opens_its_details(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = select_row(open_page(monkeypatch, tmp_path, "orders"), "orders", 2)
    assert at.subheader[0].value == "Order REF-A1 (qargo)"
    charges = at.dataframe[3].value  # stops, goods, charges, ...
    assert list(charges["amount"]) == ["12.50", "30.00"]
    assert list(charges["approval_status"]) == ["REQUESTED", "APPROVED"]
    timeline = at.dataframe[6].value
    assert list(timeline["event_type"]) == ["STOP:COMPLETED", "STOP:ARRIVED"]
    assert list(at.dataframe[5].value["status"]) == ["done", "error"]
    download = at.button(key="orders.document_download")
    assert download.disabled and "actions issue" in download.help


def test_orders_empty_state_explains_no_vendor_is_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    at = open_page(monkeypatch, tmp_path, "orders", seeded=False)
    assert len(at.dataframe) == 0
    assert "No source of this data is configured" in at.info[0].value
