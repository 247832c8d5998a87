"""The Qasida simulator at large scale: records are computed lazily from their index.

Speed is measured by bench/bench_sync.py (records/s), not asserted here: timed tests flake on a shared machine."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from sandbox.context import Clock, SandboxConfig, SandboxContext
from sandbox.faults import FaultSwitch, Stats
from sandbox.qasida import Qasida
from sandbox.world import World


@pytest.fixture(scope="module")
def large() -> Qasida:
    ctx = SandboxContext(config=SandboxConfig(scale="large"), world=World(seed=1, scale="large"), clock=Clock(),
                         switches={"qasida": FaultSwitch()}, stats={"qasida": Stats()})
    return Qasida(ctx)


def _run(coroutine: Any) -> None:
    """asyncio.run in a fresh thread: safe even when the test thread has a loop running."""
    worker = threading.Thread(target=asyncio.run, args=(coroutine,))
    worker.start()
    worker.join(30)


def page(render: Callable[[int], dict[str, Any]], ids: range) -> list[dict[str, Any]]:
    return [render(i) for i in ids]


def test_500k_stock_cards_are_never_materialised(large: Qasida) -> None:
    assert large.stock.cards.n == 50 * 10_000
    rows = page(large.stock.card, range(499_001, 500_001))
    assert (rows[-1]["warehouseId"], rows[-1]["productId"]) == (50, 10_000)
    assert large.stock.cards.overlay == {} and len(large.stock.cards.select("all")) == 500_000


@pytest.mark.parametrize("kind", ["orders", "claims", "liabilities"])
def test_a_page_of_1000_orders_or_open_items_renders_from_indexes(large: Qasida, kind: str) -> None:
    render = {"orders": large.sales.order, "claims": large.finance.claims.row,
              "liabilities": large.finance.liabilities.row}[kind]
    rows = page(render, range(8_001, 9_001))
    assert len(rows) == 1000 and rows == page(render, range(8_001, 9_001))  # deterministic


def test_since_after_a_tick_reads_only_the_overlay(large: Qasida) -> None:
    before = large.ctx.clock.now()
    _run(large.tick())
    changed = large.stock.cards.select("cards", before)
    assert 1 <= len(changed) <= 5 and all(large.stock.cards.changed(i) >= before for i in changed)
