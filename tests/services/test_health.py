"""Vendor health: configuration only by default for the page; reachability only when asked."""

from __future__ import annotations

import httpx
import pytest

from services import health
from services.settings import Settings


def test_without_reach_no_request_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a vendor was called while only reading the configuration")

    monkeypatch.setattr(httpx, "get", refuse)
    rows = {r.vendor: r.reachable for r in health.probe_all(Settings(qargo_base_url="http://127.0.0.1:9/qargo"),
                                                            reach=False)}
    assert rows["qargo"] == "not checked" and rows["quaderno"] == "not configured"


def test_reach_reports_an_unreachable_server() -> None:
    row = health.probe(Settings(qargo_base_url="http://127.0.0.1:9/qargo"), "qargo", timeout=0.5)
    assert row.reachable.startswith("unreachable (")
