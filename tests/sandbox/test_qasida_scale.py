"""The Qasida simulator at large scale: records are computed lazily, a page of 1000 is cheap."""

from __future__ import annotations

import asyncio
import time
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


def timed_page(render: Callable[[int], dict[str, Any]], ids: range) -> tuple[float, list[dict[str, Any]]]:
    render(ids[0])  # warm the world's cached customers/products
    start = time.perf_counter()
    rows = [render(i) for i in ids]
    return time.perf_counter() - start, rows


def test_500k_stock_cards_are_never_materialised(large: Qasida) -> None:
    assert large.stock.cards.n == 50 * 10_000
    elapsed, rows = timed_page(large.stock.card, range(499_001, 500_001))
    assert elapsed < 0.5  # ~0.02 s on a laptop; the bound leaves room for a busy CI machine
    assert (rows[-1]["warehouseId"], rows[-1]["productId"]) == (50, 10_000)
    assert large.stock.cards.overlay == {} and len(large.stock.cards.select("all")) == 500_000


@pytest.mark.parametrize("kind", ["orders", "liabilities"])
def test_a_page_of_1000_orders_or_liabilities_is_fast(large: Qasida, kind: str) -> None:
    render = large.sales.order if kind == "orders" else large.finance.liability
    elapsed, rows = timed_page(render, range(40_001, 41_001))
    assert elapsed < 0.5 and len(rows) == 1000


def test_since_after_a_tick_reads_only_the_overlay(large: Qasida) -> None:
    before = large.ctx.clock.now()
    asyncio.run(large.tick())
    start = time.perf_counter()
    changed = large.stock.cards.select("cards", before)
    assert time.perf_counter() - start < 0.05
    assert 1 <= len(changed) <= 5 and all(large.stock.cards.changed(i) >= before for i in changed)
