"""Contract tests of the Cargobase client and resources over real HTTP against the sandbox: typed
pages with checkpoints, filters, error mapping and every injectable fault."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.context import SandboxConfig
from sandbox.server import client_env
from services.cargobase import resources as cb
from services.cargobase.client import make_client
from services.cargobase.models import Invoice, InvoiceStatus
from services.configured import NotConfigured
from services.core import (
    AuthError,
    MalformedResponse,
    RateLimited,
    ServerError,
    ValidationError,
    VendorClient,
    VendorReadError,
)
from services.settings import Settings


class FakeTime:
    """Injected clock and sleep: the client's waits cost no real time."""

    def __init__(self) -> None:
        self.now = time.time()
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def settings_for(config: SandboxConfig, db: Path | str, **overrides: Any) -> Settings:
    env = {k.lower(): v for k, v in client_env(config).items() if k.startswith("CARGOBASE_")}
    return Settings(opsdash_db=db, **{**env, **overrides})


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(relaxed_sandbox: SandboxConfig, db_path: Path | str, fake: FakeTime) -> Iterator[VendorClient]:
    with make_client(
        settings_for(relaxed_sandbox, db_path), sleep=fake.sleep, clock=fake.time
    ) as c:
        yield c


@pytest.fixture
def everything(client: VendorClient) -> list[Invoice]:
    """The whole list in one page: what every walk must reproduce."""
    (page,) = list(cb.invoices(client, page_size=500))
    return list(page.records)


def refs(invoices: list[Invoice]) -> list[str | None]:
    return [i.shipment_reference for i in invoices]


@pytest.mark.parametrize("missing", ["cargobase_base_url", "cargobase_token"])
def test_a_missing_setting_raises_not_configured_naming_it(db_path: Path | str, missing: str) -> None:
    values = {"cargobase_base_url": "http://127.0.0.1:9/cargobase/api/1", "cargobase_token": "t"}
    with pytest.raises(NotConfigured, match=missing.upper()):
        make_client(Settings(opsdash_db=db_path, **{**values, missing: None}))


def test_invoices_come_in_typed_pages_newest_first(client: VendorClient, everything: list[Invoice]) -> None:
    pages = list(cb.invoices(client, page_size=10))
    assert len(everything) > 20
    assert [len(p.records) for p in pages[:-1]] == [10] * (len(pages) - 1)
    assert all(isinstance(i, Invoice) for p in pages for i in p.records)
    assert refs([i for p in pages for i in p.records]) == refs(everything)
    assert pages[0].response.json()["count"] == len(everything)
    submitted = [i.submit_date for i in everything if i.submit_date]
    assert submitted == sorted(submitted, reverse=True)
    assert pages[-1].checkpoint() is None


def test_a_walk_resumes_from_a_stored_checkpoint(client: VendorClient, everything: list[Invoice]) -> None:
    first = next(cb.invoices(client, page_size=10))
    checkpoint = json.loads(json.dumps(first.checkpoint()))  # as a sync would store it
    rest = [i for p in cb.invoices(client, start=checkpoint) for i in p.records]
    assert refs(list(first.records) + rest) == refs(everything)


def test_filters(client: VendorClient, everything: list[Invoice]) -> None:
    waiting = list(cb.iter_invoices(client, status=InvoiceStatus.AWAITING_AUDIT))
    assert waiting and {i.invoice_status for i in waiting} == {InvoiceStatus.AWAITING_AUDIT}
    assert refs(waiting) == [i.shipment_reference for i in everything if i.invoice_status == "awaiting_audit"]
    day = everything[0].submit_date
    assert day is not None
    on_day = list(cb.iter_invoices(client, submit_date=day))
    assert on_day and {i.submit_date for i in on_day} == {day}
    assert list(cb.iter_invoices(client, status="unsubmitted")) == []  # drafts: providers only


def test_an_unknown_status_filter_is_a_validation_error(client: VendorClient) -> None:
    with pytest.raises(ValidationError) as info:
        list(cb.iter_invoices(client, status="paid"))
    assert "status" in info.value.fields


def test_a_bad_token_is_an_auth_error_naming_the_setting(
    relaxed_sandbox: SandboxConfig, db_path: Path | str
) -> None:
    settings = settings_for(relaxed_sandbox, db_path, cargobase_token="not-the-token-123")
    with make_client(settings) as c, pytest.raises(AuthError) as info:
        list(cb.iter_invoices(c))
    assert info.value.status == 403 and "CARGOBASE_TOKEN" in str(info.value)
    assert "not-the-token-123" not in f"{info.value} {info.value!r} {info.value.body}"


Outcome = type[Exception] | None  # None: the walk succeeds (after retries)


@pytest.mark.parametrize(
    ("faults", "outcome"),
    [
        ({"error_rate": 0.25}, None),
        ({"error_rate": 1.0}, ServerError),
        ({"drop_rate": 0.25}, None),
        ({"drop_rate": 1.0}, VendorReadError),  # the answer broke off mid-body: not "could not reach"
        ({"malformed_rate": 1.0}, MalformedResponse),
        ({"storm": True, "storm_retry_after": 3}, RateLimited),
        ({"latency_ms": 30}, None),
    ],
    ids=[
        "errors-retried",
        "errors-persist",
        "drops-retried",
        "drops-persist",
        "malformed",
        "storm",
        "latency",
    ],
)
def test_each_fault_is_retried_or_mapped(
    client: VendorClient,
    admin: httpx.Client,
    fake: FakeTime,
    everything: list[Invoice],
    faults: dict[str, Any],
    outcome: Outcome,
) -> None:
    admin.put("/_admin/faults/cargobase", json=faults).raise_for_status()
    if outcome is None:
        assert refs(list(cb.iter_invoices(client, page_size=10))) == refs(everything)
        return
    with pytest.raises(outcome):
        list(cb.iter_invoices(client, page_size=10))
    if outcome is RateLimited:  # Retry-After honoured exactly, then given up after max_attempts
        assert fake.sleeps.count(3.0) >= 4


def test_a_vanished_page_restarts_the_walk(
    client: VendorClient, admin: httpx.Client, everything: list[Invoice]
) -> None:
    admin.put("/_admin/faults/cargobase", json={"expire_cursor": True}).raise_for_status()
    walked = refs(list(cb.iter_invoices(client, page_size=10)))
    assert admin.get("/_admin/faults/cargobase").json()["expire_cursor"] is False  # it did fire
    assert walked == refs(everything[:10]) + refs(everything)  # page 1 twice, then complete
