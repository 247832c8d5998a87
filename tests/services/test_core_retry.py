"""services.core.retry through VendorClient: the exact sleep schedule, with an injected sleep and clock."""

from __future__ import annotations

import random
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from services.core import (
    RateLimited,
    RetryPolicy,
    ServerError,
    SqliteRateLimiter,
    VendorClient,
    VendorConnectionError,
    VendorSpec,
    VendorTimeout,
)
from services.core.auth import TokenHeader
from services.core.retry import parse_ratelimit_reset, parse_retry_after

NOW = 1_700_000_000.0
Step = httpx.Response | type[httpx.TransportError]


class FakeTime:
    def __init__(self) -> None:
        self.now = NOW
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class Script:
    """A MockTransport handler answering with the given steps in order (an exception class is raised)."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0)
        if isinstance(step, type):
            raise step("simulated", request=request)
        return step


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def client(
    script: Script, fake: FakeTime, rnd: Callable[[], float] = lambda: 1.0, **policy: object
) -> VendorClient:
    retry = RetryPolicy(sleep=fake.sleep, clock=fake.clock, random=rnd, **policy)  # type: ignore[arg-type]
    spec = VendorSpec(
        name="Quaderno", base_url="https://q.example/api", auth=TokenHeader("tok-123456"), retry=retry
    )
    return VendorClient(spec, transport=httpx.MockTransport(script))


OK = httpx.Response(200, json={"ok": True})


def test_retry_after_seconds_is_honoured_exactly(fake: FakeTime) -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "3"}), OK)
    assert client(script, fake).get_json("/ping") == {"ok": True}
    assert fake.sleeps == [3.0]


def test_retry_after_http_date_is_honoured(fake: FakeTime) -> None:
    date = formatdate(NOW + 7, usegmt=True)
    script = Script(httpx.Response(503, headers={"Retry-After": date}), OK)
    client(script, fake).get_json("/ping")
    assert fake.sleeps == [7.0]


@pytest.mark.parametrize(("reset", "wait"), [("12", 12.0), (str(int(NOW) + 9), 9.0)])
def test_quaderno_ratelimit_reset_in_both_generations(fake: FakeTime, reset: str, wait: float) -> None:
    script = Script(httpx.Response(429, headers={"X-RateLimit-Reset": reset}), OK)
    client(script, fake).get_json("/ping")
    assert fake.sleeps == [wait]


def test_backoff_doubles_and_raises_after_max_attempts(fake: FakeTime) -> None:
    script = Script(*[httpx.Response(500)] * 5)
    with pytest.raises(ServerError):
        client(script, fake).get_json("/ping")
    assert fake.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert len(script.requests) == 5


def test_backoff_is_capped(fake: FakeTime) -> None:
    script = Script(*[httpx.Response(502)] * 4, OK)
    client(script, fake, base_delay=10.0, max_delay=15.0).get_json("/ping")
    assert fake.sleeps == [10.0, 15.0, 15.0, 15.0]


def test_full_jitter_stays_within_the_ceiling(fake: FakeTime) -> None:
    script = Script(*[httpx.Response(503)] * 4, OK)
    client(script, fake, rnd=random.Random(7).random).get_json("/ping")
    ceilings = [0.5, 1.0, 2.0, 4.0]
    assert all(0 <= s <= c for s, c in zip(fake.sleeps, ceilings, strict=True))
    assert len(set(fake.sleeps)) == 4  # jittered, not a fixed schedule


def test_a_wait_longer_than_max_wait_raises_instead_of_sleeping(fake: FakeTime) -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimited) as caught:
        client(script, fake).get_json("/ping")
    assert fake.sleeps == []
    assert caught.value.retry_after == 3600.0
    assert str(caught.value) == "Quaderno is rate limiting: retry after 3600 s"


def test_connection_errors_and_timeouts_are_retried_for_get(fake: FakeTime) -> None:
    script = Script(httpx.ConnectError, httpx.ReadTimeout, OK)
    assert client(script, fake).get_json("/ping") == {"ok": True}
    assert fake.sleeps == [0.5, 1.0]


def test_exhausted_timeouts_raise_vendor_timeout(fake: FakeTime) -> None:
    script = Script(*[httpx.ReadTimeout] * 2)
    with pytest.raises(VendorTimeout) as caught:
        client(script, fake, max_attempts=2).get_json("/ping")
    assert str(caught.value) == "Quaderno did not answer GET /api/ping in time (ReadTimeout): retry later"


@pytest.mark.parametrize("step", [httpx.Response(503), httpx.Response(429, headers={"Retry-After": "1"})])
def test_post_is_never_retried_on_an_error_status(fake: FakeTime, step: httpx.Response) -> None:
    script = Script(step, OK)
    with pytest.raises((ServerError, RateLimited)):
        client(script, fake).post_json("/invoices", json={"a": 1})
    assert len(script.requests) == 1
    assert fake.sleeps == []


def test_post_is_not_retried_when_the_request_may_have_been_sent(fake: FakeTime) -> None:
    script = Script(httpx.ReadTimeout, OK)
    with pytest.raises(VendorTimeout):
        client(script, fake).post_json("/invoices", json={"a": 1})
    assert len(script.requests) == 1


def test_post_is_retried_when_the_connection_never_opened(fake: FakeTime) -> None:
    script = Script(httpx.ConnectError, OK)
    assert client(script, fake).post_json("/invoices", json={"a": 1}) == {"ok": True}
    assert len(script.requests) == 2


def test_connection_error_message_names_the_setting(fake: FakeTime) -> None:
    script = Script(httpx.ConnectError)
    with pytest.raises(VendorConnectionError) as caught:
        client(script, fake, max_attempts=1).get_json("/ping")
    assert str(caught.value) == (
        "Could not reach Quaderno for GET /api/ping (ConnectError): check QUADERNO_BASE_URL and the network"
    )


def test_idempotent_post_is_retried(fake: FakeTime) -> None:
    script = Script(httpx.Response(503), httpx.ReadTimeout, OK)
    response = client(script, fake).request("POST", "/v1/orders/order/upload", json={"x": 1}, idempotent=True)
    assert response.status_code == 200
    assert [r.method for r in script.requests] == ["POST"] * 3
    assert script.requests[2].content == b'{"x":1}'


def test_vendor_hook_treats_403_as_rate_limiting(fake: FakeTime) -> None:
    quaderno = frozenset({429, 403, 503})
    script = Script(httpx.Response(403), OK)
    client(script, fake, rate_limit_statuses=quaderno).get_json("/ping")
    assert fake.sleeps == [0.5]
    with pytest.raises(RateLimited):
        client(Script(httpx.Response(403)), fake, rate_limit_statuses=quaderno, max_attempts=1).get_json("/x")


def test_ratelimit_reset_on_a_success_is_not_a_wait(fake: FakeTime) -> None:
    script = Script(httpx.Response(500, headers={"X-RateLimit-Reset": "15"}), OK)
    client(script, fake).get_json("/ping")
    assert fake.sleeps == [0.5]  # backoff: the reset header only means "wait" on a refusal


def test_a_429_makes_every_user_of_the_shared_limiter_hold_off(fake: FakeTime, db_path: Path | str) -> None:
    db = db_path
    mine = SqliteRateLimiter(db, "quaderno", rate=100, burst=10, clock=fake.clock, sleep=fake.sleep)
    theirs = SqliteRateLimiter(db, "quaderno", rate=100, burst=10, clock=fake.clock, sleep=fake.sleep)
    retry = RetryPolicy(sleep=fake.sleep, clock=fake.clock, max_attempts=1)
    spec = VendorSpec(
        name="Quaderno",
        base_url="https://q.example/api",
        auth=TokenHeader("t-123456"),
        retry=retry,
        limiter=mine,
    )
    script = Script(httpx.Response(429, headers={"Retry-After": "5"}))
    with pytest.raises(RateLimited):
        VendorClient(spec, transport=httpx.MockTransport(script)).get_json("/ping")
    assert theirs.acquire() == 5.0
    assert fake.sleeps == [5.0]


@pytest.mark.parametrize(
    ("value", "wait"),
    [("120", 120.0), ("0", 0.0), (formatdate(NOW + 30, usegmt=True), 30.0), ("soon", None), (None, None)],
)
def test_parse_retry_after(value: str | None, wait: float | None) -> None:
    assert parse_retry_after(value, NOW) == wait


@pytest.mark.parametrize(
    ("value", "wait"), [("15", 15.0), ("1689939315", 15.0), ("1689939200", 0.0), ("", None), ("x", None)]
)
def test_parse_ratelimit_reset(value: str, wait: float | None) -> None:
    assert parse_ratelimit_reset(value, 1689939300.0) == wait


def test_a_long_server_wait_is_told_to_whoever_listens_a_short_one_is_not(fake: FakeTime) -> None:
    from services.core.retry import tell_waits

    said: list[str] = []
    stop = tell_waits(said.append)
    try:
        script = Script(httpx.Response(429, headers={"Retry-After": "45"}),
                        httpx.Response(503, headers={"Retry-After": "2"}), OK)
        assert client(script, fake).get_json("/x") == {"ok": True}
    finally:
        stop()
    assert fake.sleeps == [45.0, 2.0]
    assert said == [("Quaderno: waiting 45 s, until 22:14:05 UTC: GET /api/x answered HTTP 429, the vendor asked "
                     "to wait 45 s; then retry 1 of 4 (Ctrl-C stops)")]
