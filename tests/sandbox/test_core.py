"""The sandbox's shared machinery: limiters, fault switches, admin routes, determinism of the world."""

from __future__ import annotations

import httpx
import pytest

from sandbox.faults import Faults, max_in_window
from sandbox.limits import FixedWindow, SlidingWindow, TokenBucket, retry_after_header
from sandbox.world import World


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_token_bucket_allows_burst_then_sustained_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    assert [bucket.acquire("t") for _ in range(3)] == [None, None, None]
    assert bucket.acquire("t") == pytest.approx(0.5)
    clock.t += 0.5
    assert bucket.acquire("t") is None
    assert bucket.acquire("other-tenant") is None  # per tenant


def test_sliding_window_rations_tokens_per_rolling_hour() -> None:
    clock = FakeClock()
    window = SlidingWindow(limit=5, window=3600, clock=clock)
    for _ in range(5):
        assert window.acquire() is None
        clock.t += 60
    assert window.acquire() == pytest.approx(3600 - 300)
    clock.t += 3600 - 300
    assert window.acquire() is None


def test_fixed_window_reports_remaining_and_reset() -> None:
    clock = FakeClock()
    window = FixedWindow(limit=2, window=15, clock=clock)
    assert window.acquire() is None and window.acquire() is None
    assert window.state() == (2, 0, 15)
    clock.t += 5
    assert window.acquire() == pytest.approx(10)
    clock.t += 10
    assert window.acquire() is None


def test_retry_after_is_whole_seconds_never_zero() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"


def test_max_in_window() -> None:
    assert max_in_window([0.0, 0.1, 0.2, 1.15, 1.3], 1.0) == 3
    assert max_in_window([], 1.0) == 0


def test_unknown_fault_is_rejected_with_the_known_names() -> None:
    with pytest.raises(ValueError, match="unknown fault.*bogus.*known:.*drop_rate"):
        Faults.parse({"bogus": 1})


def test_world_is_deterministic_for_a_seed() -> None:
    a, b, c = World(seed=7), World(seed=7), World(seed=8)
    assert a.customers == b.customers and a.products == b.products
    assert a.customers != c.customers
    assert a.anchor == b.anchor


def test_world_vat_numbers_are_mostly_valid_and_some_broken() -> None:
    from stdnum import get_cc_module

    customers = [c for c in World(seed=3).customers if c.vat_number]
    for c in customers:
        assert get_cc_module(c.country.lower(), "vat").is_valid(c.vat_number) == c.vat_valid
    assert sum(c.vat_valid for c in customers) > len(customers) * 0.8


def test_admin_health_and_fault_roundtrip(admin: httpx.Client) -> None:
    assert admin.get("/_admin/health").json()["seed"] == 1
    armed = admin.put("/_admin/faults/qargo", json={"error_rate": 0.5, "latency_ms": 10}).json()
    assert armed["error_rate"] == 0.5 and armed["latency_ms"] == 10
    assert admin.put("/_admin/faults/qargo", json={"nope": 1}).status_code == 400
    assert admin.get("/_admin/faults/nobody").status_code == 404
    admin.delete("/_admin/faults")
    assert admin.get("/_admin/faults/qargo").json()["error_rate"] == 0.0


def test_storm_answers_429_with_retry_after_and_is_counted(admin: httpx.Client) -> None:
    admin.put("/_admin/faults/cargobase", json={"storm": True, "storm_retry_after": 7})
    response = admin.get("/cargobase/api/1/invoices/")
    assert response.status_code == 429 and response.headers["retry-after"] == "7"
    assert admin.get("/_admin/stats/cargobase").json()["rate_limited"] == 1
