"""services.quaderno.client/resources: replays of the real recordings through MockTransport, then
contract tests over HTTP against the sandbox (faults, tax-ID outcomes, paging, the rate limit)."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.context import SandboxConfig
from sandbox.server import client_env
from services.core import (
    AuthError,
    MalformedResponse,
    PermissionDenied,
    RateLimited,
    ServerError,
    ValidationError,
    VendorClient,
    VendorReadError,
)
from services.core.ratelimit import SqliteWindowLimiter
from services.quaderno import resources as qr
from services.quaderno.client import NotConfigured, make_client
from services.quaderno.models import Credit, Invoice
from services.settings import Settings
from tests.vendor_docs import spec_path

EXTRACTED = spec_path("vendor-specs/quaderno/extracted")  # copies, tests/fixtures/vendor_docs
RECORDED_BASE = "http://quaderno.lvh.me:3000/api"


class FakeTime:
    """Clock and sleep for the client: sleeping advances the clock, nothing really waits."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def recorded(name: str) -> dict[str, Any]:
    return json.loads((EXTRACTED / f"{name}.json").read_text())


def _key(url: httpx.URL) -> str:
    return url.path.removeprefix("/api/").removesuffix(".json")


class Replay:
    """A MockTransport answering from recordings: same method and path, the most specific query."""

    def __init__(self, *names: str, override: dict[str, Any] | None = None) -> None:
        self.records = [recorded(n) for n in names]
        self.override = override or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        matches = [r for r in self.records if self._matches(r, request)]
        if not matches:
            return httpx.Response(404, json={"error": "not recorded"})
        rec = max(matches, key=lambda r: len(httpx.URL(r["request"]["uri"]).params))
        headers = [(k, v) for k, values in rec["headers"].items() for v in values]
        body = b"" if rec["body"] is None else json.dumps(rec["body"]).encode()
        return httpx.Response(self.override.get("status", rec["status"]), headers=headers, content=body)

    @staticmethod
    def _matches(rec: dict[str, Any], request: httpx.Request) -> bool:
        url = httpx.URL(rec["request"]["uri"])
        same = rec["request"]["method"] == request.method and _key(url) == _key(request.url)
        return same and all(request.url.params.get(k) == v for k, v in url.params.items())


def settings(db_path: Path | str, base_url: str | None = RECORDED_BASE, **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "opsdash_db": db_path,
        "quaderno_base_url": base_url,
        "quaderno_api_key": "sk_test_key",
        "quaderno_api_version": "20220325",
        **kw,
    }
    return Settings(**values)


def replay_client(
    db_path: Path | str, handler: Callable[[httpx.Request], httpx.Response], fake: FakeTime
) -> VendorClient:
    transport = httpx.MockTransport(handler)
    return make_client(settings(db_path), transport=transport, sleep=fake.sleep, clock=fake.clock)


# --- replays ----------------------------------------------------------------------------------


def test_calculate_tax_replay_parses_and_sends_key_and_version(db_path: Path | str) -> None:
    replay, fake = Replay("validate_tax_rate__0"), FakeTime()
    with replay_client(db_path, replay, fake) as client:
        calc = qr.calculate_tax(client, from_country="FR", to_country="FR", tax_code="standard")
    assert (calc.status, calc.rate, calc.name, calc.currency) == ("taxable", Decimal("20.0"), "TVA", "EUR")
    sent = replay.requests[0]
    assert sent.headers["accept"] == "application/json; api_version=20220325"
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"sk_test_key:").decode()


def test_validate_tax_id_replays_true_and_false(db_path: Path | str) -> None:
    replay = Replay("validate_valid_tax_ID__0", "validate_invalid_tax_ID__0")
    with replay_client(db_path, replay, FakeTime()) as client:
        assert qr.validate_tax_id(client, "IE", "IE6388047V") is True
        # The recorded "false" number fails our offline check too, so ask the service directly.
        assert qr.validate_tax_id_online(client, "IE", "IE6388047X") is False
    assert [r.url.params["tax_id"] for r in replay.requests] == ["IE6388047V", "IE6388047X"]


def test_malformed_tax_id_raises_without_any_request(db_path: Path | str) -> None:
    replay = Replay("validate_invalid_tax_ID__0")
    with replay_client(db_path, replay, FakeTime()) as client, pytest.raises(qr.MalformedTaxId) as info:
        qr.validate_tax_id(client, "IE", "IE6388047X")
    assert replay.requests == []
    assert "IE6388047X" in str(info.value) and not info.value.result.ok


def test_null_validation_means_unknown_not_invalid(db_path: Path | str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"valid": None})

    with replay_client(db_path, handler, FakeTime()) as client:
        assert qr.validate_tax_id(client, "IE", "IE6388047V") is None


def test_invoice_pages_follow_next_page_lazily(db_path: Path | str) -> None:
    replay = Replay("paginated_invoices__0", "paginated_invoices__1")
    with replay_client(db_path, replay, FakeTime()) as client:
        pages = list(itertools.islice(qr.invoices(client), 2))
    ids = [inv.id for page in pages for inv in page.records]
    assert len(replay.requests) == 2 and len(ids) == 50 == len(set(ids))
    assert ids == sorted(ids, reverse=True) and ids[0] == 1925214
    assert (
        str(replay.requests[1].url) == "http://quaderno.lvh.me:3000/api/invoices.json?created_before=1925185"
    )
    first = pages[0].records[0]
    assert isinstance(first, Invoice) and (first.total_cents, first.currency) == (6000, "USD")
    assert first.items[0].subtotal_cents == 6000 and first.exchange_rate == Decimal("0.827541")
    assert pages[1].checkpoint() == {
        "url": f"{RECORDED_BASE}/invoices.json?created_before=1925160",
        "params": {},
    }


def test_newer_than_stops_at_the_newest_stored_id(db_path: Path | str) -> None:
    replay = Replay("paginated_invoices__0", "paginated_invoices__1")
    with replay_client(db_path, replay, FakeTime()) as client:
        pages = list(qr.newer_than(qr.invoices(client), known_id=1925200))
    recorded_ids = [d["id"] for d in recorded("paginated_invoices__0")["body"]]
    assert [r.id for p in pages for r in p.records] == [i for i in recorded_ids if i > 1925200]
    assert len(replay.requests) == 1 and pages[-1].checkpoint() is None


def test_contacts_replay(db_path: Path | str) -> None:
    with replay_client(db_path, Replay("all_contacts__0"), FakeTime()) as client:
        contacts = list(qr.iter_contacts(client))
    assert len(contacts) == 11 and (contacts[0].id, contacts[0].display_name) == (677, "asdasd sdasd")


def test_wrong_key_401_is_an_auth_error_naming_the_setting(db_path: Path | str) -> None:
    replay = Replay("wrong_token__0")
    with replay_client(db_path, replay, FakeTime()) as client, pytest.raises(AuthError) as info:
        qr.calculate_tax(client, to_country="ES", to_postal_code="08080")
    assert "QUADERNO_API_KEY" in str(info.value) and info.value.status == 401
    assert len(replay.requests) == 1  # never retried
    assert "sk_test_key" not in repr(info.value) + info.value.body


def test_406_names_the_api_version_setting(db_path: Path | str) -> None:
    replay = Replay("all_address_on_standard_account__0")
    with replay_client(db_path, replay, FakeTime()) as client, pytest.raises(qr.NotAcceptable) as info:
        qr.get(client, "/addresses")
    assert "QUADERNO_API_VERSION" in str(info.value) and "Unsupported account type" in str(info.value)


def test_422_is_a_validation_error_with_fields(db_path: Path | str) -> None:
    replay = Replay("delivered_invoice__2")
    with replay_client(db_path, replay, FakeTime()) as client, pytest.raises(ValidationError) as info:
        qr.get(client, "/invoices/1987/deliver")
    assert info.value.fields == {"delivery_recipients": ["can't be blank", "is invalid"]}
    assert "delivery_recipients" in str(info.value)


@pytest.mark.parametrize(
    ("reset", "now", "expected_wait"),
    [("11", 1_700_000_000.0, 11.0), ("1689844095", 1_689_844_080.0, 15.0)],  # 2017 seconds, 2023 epoch
)
def test_both_ratelimit_reset_generations_set_the_wait(
    db_path: Path | str, reset: str, now: float, expected_wait: float
) -> None:
    answers = iter(
        [httpx.Response(429, headers={"X-RateLimit-Reset": reset}), httpx.Response(200, json={"valid": True})]
    )
    fake = FakeTime(now)
    with replay_client(db_path, lambda request: next(answers), fake) as client:
        assert qr.validate_tax_id(client, "IE", "IE6388047V") is True
    assert expected_wait in fake.sleeps


def test_503_is_rate_limiting_and_retried(db_path: Path | str) -> None:
    answers = iter([httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(200, json={"valid": False})])
    fake = FakeTime()
    with replay_client(db_path, lambda request: next(answers), fake) as client:
        assert qr.validate_tax_id_online(client, "IE", "IE6388047V") is False
    assert 2.0 in fake.sleeps


def test_403_is_a_permission_error_that_says_what_to_check(db_path: Path | str) -> None:
    """seeds/001 lines 91-93: 403 "The record requested is hidden for administrators only"."""
    calls: list[httpx.Request] = []

    def forbidden(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(403, json={"error": "The record requested is hidden for administrators only"})

    with replay_client(db_path, forbidden, FakeTime()) as client, pytest.raises(PermissionDenied) as info:
        qr.get_invoice(client, 7)
    assert len(calls) == 1 and info.value.status == 403 and isinstance(info.value, AuthError)
    message = str(info.value)
    assert "hidden for administrators" in message and "QUADERNO_API_KEY" in message
    assert "rate limit" not in message


@pytest.mark.parametrize(("override", "sent"), [({}, "20220325"), ({"quaderno_api_version": "20240705"}, "20240705")])
def test_the_api_version_is_pinned_by_default_and_overridable(db_path: Path | str, override: dict, sent: str) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["accept"])
        return httpx.Response(200, json={"valid": True})

    values = {"opsdash_db": db_path, "quaderno_base_url": RECORDED_BASE, "quaderno_api_key": "sk_test_key"}
    fake = FakeTime()
    with make_client(Settings(**values, **override), transport=httpx.MockTransport(answer),  # type: ignore[arg-type]
                     sleep=fake.sleep, clock=fake.clock) as client:
        qr.validate_tax_id_online(client, "IE", "IE6388047V")
    assert seen == [f"application/json; api_version={sent}"]


def test_create_transaction_replay_and_no_retry_on_500(db_path: Path | str) -> None:
    replay = Replay("new_sale__0")
    with replay_client(db_path, replay, FakeTime()) as client:
        sale = qr.create_transaction(client, recorded("new_sale__0")["request"]["body"])
    assert isinstance(sale, Invoice) and (sale.id, sale.total_cents, sale.subtotal_cents) == (4, 10800, 10075)
    failing = Replay("new_sale__0", override={"status": 500})
    with replay_client(db_path, failing, FakeTime()) as client, pytest.raises(ServerError):
        qr.create_transaction(client, {"type": "sale", "items": [{"amount": 1}]})
    assert len(failing.requests) == 1


def test_missing_base_url_is_not_configured(db_path: Path | str) -> None:
    with pytest.raises(NotConfigured) as info:
        make_client(settings(db_path, base_url=None))
    assert "QUADERNO_BASE_URL" in str(info.value)


def test_window_limiter_spends_a_window_then_waits(db_path: Path | str) -> None:
    fake = FakeTime(0.0)
    limiter = SqliteWindowLimiter(db_path, "quaderno", 100, 15.5, clock=fake.clock, sleep=fake.sleep)
    times = []
    for _ in range(250):
        limiter.acquire()
        times.append(fake.now)
    assert times[99] == 0.0 and times[100] == 15.5 and times[200] == 31.0
    assert max(sum(1 for t in times if start <= t < start + 15.5) for start in times) == 100


# --- contract tests against the sandbox -------------------------------------------------------


def sandbox_settings(config: SandboxConfig, db_path: Path | str, **kw: Any) -> Settings:
    env = client_env(config)
    values: dict[str, Any] = {
        "opsdash_db": db_path,
        "quaderno_base_url": env["QUADERNO_BASE_URL"],
        "quaderno_api_key": env["QUADERNO_API_KEY"],
        "quaderno_api_version": env["QUADERNO_API_VERSION"],
        **kw,
    }
    return Settings(**values)


@pytest.fixture
def fake() -> FakeTime:
    import time

    return FakeTime(time.time())


@pytest.fixture
def client(relaxed_sandbox: SandboxConfig, db_path: Path | str, fake: FakeTime) -> Iterator[VendorClient]:
    with make_client(sandbox_settings(relaxed_sandbox, db_path), sleep=fake.sleep, clock=fake.clock) as c:
        yield c


def raw_json(config: SandboxConfig, path: str, params: dict[str, Any]) -> Any:
    env = client_env(config)
    auth = (env["QUADERNO_API_KEY"], "")
    response = httpx.get(env["QUADERNO_BASE_URL"] + path, params=params, auth=auth, timeout=10)
    return json.loads(response.content, parse_float=Decimal)


def stats(admin: httpx.Client) -> dict[str, Any]:
    return dict(admin.get("/_admin/stats/quaderno").json())


def fault(admin: httpx.Client, **faults: Any) -> None:
    assert admin.put("/_admin/faults/quaderno", json=faults).status_code == 200


def test_invoices_page_without_duplicates_or_gaps(
    client: VendorClient, relaxed_sandbox: SandboxConfig
) -> None:
    pages = list(qr.invoices(client, limit=37))
    ids = [inv.id for page in pages for inv in page.records]
    assert len(ids) == 300 and ids == list(range(ids[0], ids[0] - 300, -1))
    assert pages[-1].checkpoint() is None and len(pages) == 9
    raw = raw_json(relaxed_sandbox, "/invoices", {"limit": 5})
    typed = pages[0].records[:5]
    assert [i.total_cents for i in typed] == [int(r["total_cents"]) for r in raw]
    assert [i.number for i in typed] == [r["number"] for r in raw]
    assert all(i.items and i.due_date is not None for i in typed)


def test_paging_resumes_from_a_checkpoint(client: VendorClient) -> None:
    first = next(qr.invoices(client, limit=100))
    resumed = list(qr.invoices(client, start=first.next))
    ids = [i.id for i in first.records] + [i.id for p in resumed for i in p.records]
    assert len(ids) == 300 == len(set(ids))


def test_credits_and_contacts_are_typed(client: VendorClient, relaxed_sandbox: SandboxConfig) -> None:
    credits = list(qr.iter_credits(client))
    assert len(credits) == 30 and all(isinstance(c, Credit) and c.related_document for c in credits)
    raw = raw_json(relaxed_sandbox, "/credits", {"limit": 1})[0]
    assert (credits[0].id, credits[0].total_cents) == (raw["id"], int(raw["total_cents"]))
    contacts = list(qr.iter_contacts(client))
    assert len(contacts) == len({c.id for c in contacts}) > 0 and all(c.full_name for c in contacts)


def test_calculate_tax_exact_amounts(client: VendorClient) -> None:
    calc = qr.calculate_tax(client, to_country="DE", amount=Decimal("99.99"))
    assert (calc.status, calc.rate) == ("taxable", Decimal(19))
    assert (calc.subtotal, calc.tax_amount, calc.total_amount) == (
        Decimal("99.99"),
        Decimal("19.00"),
        Decimal("118.99"),
    )
    with pytest.raises(ValidationError, match="to_country"):
        qr.calculate_tax(client, to_postal_code="10115")


def test_tax_id_outcomes_and_offline_refusal(client: VendorClient, admin: httpx.Client) -> None:
    assert qr.validate_tax_id(client, "DE", "DE136695976") is True
    assert qr.validate_tax_id(client, "IT", "IT00743110157") is None  # Italy's service is down
    assert qr.validate_tax_id_online(client, "DE", "DE136695975") is False
    before = stats(admin)["requests"]
    with pytest.raises(qr.MalformedTaxId):
        qr.validate_tax_id(client, "DE", "DE13669597")
    assert stats(admin)["requests"] == before


def test_server_errors_are_retried_then_succeed(
    client: VendorClient, admin: httpx.Client, fake: FakeTime
) -> None:
    fault(admin, error_rate=0.5)
    assert sum(1 for _ in qr.iter_invoices(client)) == 300
    assert len(fake.sleeps) > 0  # some pages needed a retry (seeded fault stream)


def test_persistent_server_errors_give_server_error(client: VendorClient, admin: httpx.Client) -> None:
    fault(admin, error_rate=1.0)
    with pytest.raises((ServerError, RateLimited), match="Quaderno") as info:
        qr.calculate_tax(client, to_country="DE")
    assert stats(admin)["requests"] == 5  # RetryPolicy.max_attempts
    # The injected faults are 500/502/503: Quaderno's 503 is rate limiting (its official client).
    assert isinstance(info.value, RateLimited) == (info.value.status == 503)


def test_a_429_storm_ends_in_rate_limited(client: VendorClient, admin: httpx.Client, fake: FakeTime) -> None:
    fault(admin, storm=True, storm_retry_after=2)
    with pytest.raises(RateLimited) as info:
        qr.calculate_tax(client, to_country="DE")
    assert info.value.retry_after == 2.0 and stats(admin)["rate_limited"] == 5
    assert fake.sleeps.count(2.0) >= 4  # each Retry-After honoured


def test_malformed_body_is_malformed_response(client: VendorClient, admin: httpx.Client) -> None:
    fault(admin, malformed_rate=1.0)  # every answer cut short: retried, then the real cause (issue 11)
    with pytest.raises(MalformedResponse, match="cut short after .* 5 times in a row"):
        qr.calculate_tax(client, to_country="DE")


def test_dropped_connections_are_retried_or_reported(client: VendorClient, admin: httpx.Client) -> None:
    fault(admin, drop_rate=0.4)
    assert qr.calculate_tax(client, to_country="FR").rate == Decimal(20)
    fault(admin, drop_rate=1.0)
    with pytest.raises(VendorReadError):
        qr.calculate_tax(client, to_country="FR")


def test_expired_cursor_is_a_validation_error(client: VendorClient, admin: httpx.Client) -> None:
    fault(admin, expire_cursor=True)
    pages = qr.invoices(client, limit=100)
    assert len(next(pages).records) == 100
    with pytest.raises(ValidationError, match="created_before"):
        next(pages)


def test_latency_is_tolerated(client: VendorClient, admin: httpx.Client) -> None:
    fault(admin, latency_ms=150)
    assert qr.validate_tax_id(client, "DE", "DE136695976") is True


def test_create_transaction_is_never_retried(
    client: VendorClient, admin: httpx.Client, relaxed_sandbox: SandboxConfig
) -> None:
    sale = {"type": "sale", "currency": "EUR", "items": [{"description": "Pallet", "amount": "89.00"}]}
    created = qr.create_transaction(client, sale)
    assert isinstance(created, Invoice) and created.total_cents == 8900
    admin.post("/_admin/stats/reset")
    fault(admin, error_rate=1.0)  # 500, 502 or 503 (Quaderno's 503 reads as RateLimited)
    with pytest.raises((ServerError, RateLimited)):
        qr.create_transaction(client, sale)
    assert stats(admin)["requests"] == 1
    assert admin.get("/_admin/quaderno/transactions").json()["invoices"] == 1


def test_wrong_key_against_the_sandbox(relaxed_sandbox: SandboxConfig, db_path: Path | str) -> None:
    bad = sandbox_settings(relaxed_sandbox, db_path, quaderno_api_key="sk_wrong")
    with make_client(bad) as client, pytest.raises(AuthError, match="QUADERNO_API_KEY"):
        qr.calculate_tax(client, to_country="DE")


def test_unknown_api_version_is_not_acceptable(relaxed_sandbox: SandboxConfig, db_path: Path | str) -> None:
    bad = sandbox_settings(relaxed_sandbox, db_path, quaderno_api_version="19990101")
    with make_client(bad) as client, pytest.raises(qr.NotAcceptable, match="QUADERNO_API_VERSION"):
        qr.calculate_tax(client, to_country="DE")


def test_documented_limit_120_calls_without_a_429(
    start_sandbox: Callable[..., SandboxConfig], db_path: Path | str
) -> None:
    config = start_sandbox()
    with make_client(sandbox_settings(config, db_path)) as client:
        for _ in range(120):
            qr.validate_tax_id_online(client, "DE", "DE136695976")
    answered = httpx.get(f"{config.base_url}/_admin/stats/quaderno").json()
    assert (answered["requests"], answered["rate_limited"]) == (120, 0)
