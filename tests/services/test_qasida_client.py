"""services.qasida.client/resources: unit tests on MockTransport, then contract tests over HTTP
against the sandbox (paging to the last page, since filters, MandantId, every fault)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.context import SandboxConfig
from sandbox.server import client_env
from services.configured import NotConfigured
from services.core import (
    AuthError,
    MalformedResponse,
    RateLimited,
    ServerError,
    VendorReadError,
)
from services.qasida import resources as qr
from services.qasida.client import QasidaClient, make_client
from services.qasida.models import StockCard
from services.qasida.paths import DEFAULT_PATHS, UnknownPath
from services.settings import Settings


class FakeTime:
    def __init__(self, now: float) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def settings(db_path: Path | str, **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "opsdash_db": db_path,
        "qasida_base_url": "http://erp.test/qasida",
        "qasida_token": "jwt-secret",
        "qasida_mandant_id": "7",
        **kw,
    }
    return Settings(**values)


def envelope(data: list[Any], number: int, size: int, more: bool) -> dict[str, Any]:
    nxt = f"http://erp.test/x?PageNumber={number + 1}" if more else None
    return {"data": data, "pageNumber": number, "pageSize": size, "nextPage": nxt, "previousPage": None}


def card(i: int) -> dict[str, Any]:
    return {"id": i, "warehouseId": 1, "quantity": "125.000", "reserveQuantity": 5, "unitPrice": 12.34}


# --- unit tests on MockTransport ---------------------------------------------------------------


def test_headers_paging_and_typed_records(db_path: Path | str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        n, size = int(request.url.params["PageNumber"]), int(request.url.params["PageSize"])
        ids = range((n - 1) * size + 1, min(n * size, 5) + 1)
        return httpx.Response(200, json=envelope([card(i) for i in ids], n, size, n * size < 5))

    with make_client(settings(db_path), transport=httpx.MockTransport(handler)) as client:
        pages = list(qr.stock_cards(client, page_size=2))
    assert [len(p.records) for p in pages] == [2, 2, 1] and pages[-1].checkpoint() is None
    first = pages[0].records[0]
    assert isinstance(first, StockCard) and (first.quantity, first.unit_price) == (
        Decimal("125.000"),
        Decimal("12.34"),
    )
    assert first.available == Decimal("120.000")
    # MandantId is a query parameter in the document (seeds/003 line 152): the default place.
    assert seen[0].headers["authorization"] == "Bearer jwt-secret" and "mandantid" not in seen[0].headers
    assert all(r.url.params["MandantId"] == "7" for r in seen)
    assert seen[0].url.path == "/qasida/api/stock/v1/StockCard/GetAll"
    # No undocumented `warehouseId` (seeds/003 lines 6028-6032 list PageNumber, PageSize, MandantId, since,
    # reservationType): exactly the paging and the mandant.
    assert set(seen[0].url.params) == {"PageNumber", "PageSize", "MandantId"}


def test_mandant_as_a_header_when_so_configured(db_path: Path | str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=envelope([], 1, 10, False))

    transport = httpx.MockTransport(handler)
    with make_client(settings(db_path, qasida_mandant_in="header"), transport=transport) as client:
        list(qr.warehouses(client))
    assert seen[0].headers["mandantid"] == "7" and "MandantId" not in seen[0].url.params


def _serve(pages: list[dict[str, Any]], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=pages[int(request.url.params["PageNumber"]) - 1])
    return httpx.MockTransport(handler)


@pytest.mark.parametrize("echoed_size", [2, 0, None])
def test_a_short_page_does_not_end_the_walk(db_path: Path | str, echoed_size: int | None) -> None:
    """A server that caps PageSize at 2 (we ask 1000), or echoes pageSize 0 as the document's sample does
    (seeds/003 line 170), is walked to the end: only nextPage null ends it."""
    pages = [{"data": [card(1), card(2)], "pageNumber": 1, "pageSize": echoed_size, "nextPage": "p2"},
             {"data": [card(3), card(4)], "pageNumber": 2, "pageSize": echoed_size, "nextPage": "p3"},
             {"data": [card(5)], "pageNumber": 3, "pageSize": echoed_size, "nextPage": None}]
    seen: list[httpx.Request] = []
    with make_client(settings(db_path), transport=_serve(pages, seen)) as client:
        ids = [c.id for c in qr.iter_stock_cards(client)]
    assert ids == [1, 2, 3, 4, 5] and [r.url.params["PageNumber"] for r in seen] == ["1", "2", "3"]
    assert {r.url.params["PageSize"] for r in seen} == {"1000"}


@pytest.mark.parametrize("last", [{"data": [], "nextPage": "p3"}, {"data": [card(9)], "nextPage": ""}])
def test_an_empty_page_or_no_next_page_ends_the_walk(db_path: Path | str, last: dict[str, Any]) -> None:
    pages = [{"data": [card(1)], "pageNumber": 0, "pageSize": 0, "nextPage": "p2"}, last]
    seen: list[httpx.Request] = []
    with make_client(settings(db_path), transport=_serve(pages, seen)) as client:
        assert len(list(qr.iter_stock_cards(client))) == 1 + len(last["data"])
    assert len(seen) == 2


@pytest.mark.parametrize(("read", "ahead"), [(qr.stock_cards, True), (qr.customer_orders, True),
                                             (lambda c: qr.claims(c, 42), False),
                                             (lambda c: qr.liabilities(c, 42), False)])
def test_whole_listings_read_one_page_ahead_open_items_do_not(db_path: Path | str, read: Any, ahead: bool) -> None:
    """Listings read to the end fetch the next page while this one is stored (services/core/pagination.py);
    claims and liabilities, which a sync stops reading when its request budget is spent, never ask ahead."""
    pages = [{"data": [card(n)], "pageNumber": n, "pageSize": 0, "nextPage": f"p{n + 1}"} for n in (1, 2, 3)]
    seen: list[httpx.Request] = []
    with make_client(settings(db_path), transport=_serve(pages, seen)) as client:
        listing = read(client)
        next(listing)
        listing.close()  # a caller that stops after one page (the budget is spent)
    assert [r.url.params["PageNumber"] for r in seen] == (["1", "2"] if ahead else ["1"])


def test_money_of_any_precision_stays_exact(db_path: Path | str) -> None:
    body = ('{"data": [{"invoiceId": 1, "invoicedAmount": 1234.56789, "remainsToBePaid": 0.125, '
            '"currency": "EUR"}, {"invoiceId": 2, "invoicedAmount": 12345678901234567.89, '
            '"remainsToBePaid": 0.1, "currency": "EUR"}], "pageNumber": 1, "pageSize": 0, "nextPage": null}')
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=body.encode()))
    with make_client(settings(db_path), transport=transport) as client:
        items = list(qr.iter_claims(client, 5))
    assert [(i.invoiced_amount, i.remains_to_be_paid) for i in items] == [
        (Decimal("1234.56789"), Decimal("0.125")), (Decimal("12345678901234567.89"), Decimal("0.1"))]


@pytest.mark.parametrize(("read", "path", "every"), [(qr.claims, "/ClaimList/GetByCustomer", "allClaims"),
                                                     (qr.liabilities, "/LiabilityList/GetByCustomer",
                                                      "allLiabilities")])
def test_open_item_lists_send_the_documented_parameters(db_path: Path | str, read: Any, path: str, every: str) -> None:
    seen: list[httpx.Request] = []
    with make_client(settings(db_path), transport=_serve([envelope([], 1, 0, False)], seen)) as client:
        list(read(client, 42))
        list(read(client, "43", only_delayed=True, **{"all_" + every[3:].lower(): True}))
    assert seen[0].url.path.endswith(path)
    assert dict(seen[0].url.params) == {"customerId": "42", every: "false", "onlyDelayed": "false",
                                        "PageNumber": "1", "PageSize": "1000", "MandantId": "7"}
    assert (seen[1].url.params[every], seen[1].url.params["onlyDelayed"]) == ("true", "true")
    assert "since" not in seen[1].url.params


def test_paths_are_overridable_and_checked(db_path: Path | str) -> None:
    custom = settings(db_path, qasida_paths={"warehouses": "/custom/Warehouses"})
    with make_client(custom) as client:
        assert client.paths["warehouses"] == "/custom/Warehouses"
        assert client.paths["products"] == DEFAULT_PATHS["products"]
    with pytest.raises(UnknownPath, match="stock_card"):
        make_client(settings(db_path, qasida_paths={"stock_card": "/typo"}))


@pytest.mark.parametrize(
    ("missing", "setting"),
    [
        ("qasida_base_url", "QASIDA_BASE_URL"),
        ("qasida_token", "QASIDA_TOKEN"),
        ("qasida_mandant_id", "QASIDA_MANDANT_ID"),
    ],
)
def test_not_configured_names_the_setting(db_path: Path | str, missing: str, setting: str) -> None:
    with pytest.raises(NotConfigured, match=setting):
        make_client(settings(db_path, **{missing: None}))


def test_server_time_prefers_the_precise_header() -> None:
    precise = httpx.Response(
        200,
        headers={
            "X-Server-Time": "2024-11-17T18:23:03.123456+00:00",
            "Date": "Sun, 17 Nov 2024 18:23:03 GMT",
        },
    )
    assert qr.server_time(precise) == datetime(2024, 11, 17, 18, 23, 3, 123456, tzinfo=UTC)
    only_date = httpx.Response(200, headers={"Date": "Sun, 17 Nov 2024 18:23:03 GMT"})
    assert qr.server_time(only_date) == datetime(2024, 11, 17, 18, 23, 3, tzinfo=UTC)
    assert qr.server_time(httpx.Response(200)) is None


def test_unreadable_record_is_malformed_and_401_names_the_settings(db_path: Path | str) -> None:
    bad = httpx.MockTransport(lambda r: httpx.Response(200, json=envelope([{"name": "no id"}], 1, 10, False)))
    with (
        make_client(settings(db_path), transport=bad) as client,
        pytest.raises(MalformedResponse, match="Warehouse"),
    ):
        list(qr.warehouses(client))
    denied = httpx.MockTransport(lambda r: httpx.Response(401, json={"title": "Unauthorized"}))
    with make_client(settings(db_path), transport=denied) as client, pytest.raises(AuthError) as info:
        qr.payment_status(client, "2024000001")
    assert "QASIDA_TOKEN" in str(info.value) and "jwt-secret" not in repr(info.value) + info.value.body


# --- contract tests against the sandbox -------------------------------------------------------


def sandbox_settings(config: SandboxConfig, db_path: Path | str, **kw: Any) -> Settings:
    env = client_env(config)
    values: dict[str, Any] = {
        "opsdash_db": db_path,
        "qasida_base_url": env["QASIDA_BASE_URL"],
        "qasida_token": env["QASIDA_TOKEN"],
        "qasida_mandant_id": env["QASIDA_MANDANT_ID"],
        **kw,
    }
    return Settings(**values)


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime(time.time())


@pytest.fixture
def client(relaxed_sandbox: SandboxConfig, db_path: Path | str, fake: FakeTime) -> Iterator[QasidaClient]:
    with make_client(sandbox_settings(relaxed_sandbox, db_path), sleep=fake.sleep, clock=fake.clock) as c:
        yield c


def raw(config: SandboxConfig, resource: str, **params: Any) -> Any:
    """The same read without the client, money parsed as Decimal: the reference for exact values."""
    env = client_env(config)
    headers = {"Authorization": f"Bearer {env['QASIDA_TOKEN']}", "MandantId": env["QASIDA_MANDANT_ID"]}
    url = env["QASIDA_BASE_URL"] + DEFAULT_PATHS[resource]
    response = httpx.get(url, params=params, headers=headers, timeout=10)
    return json.loads(response.content, parse_float=Decimal)


def fault(admin: httpx.Client, **faults: Any) -> None:
    assert admin.put("/_admin/faults/qasida", json=faults).status_code == 200


def test_stock_cards_page_to_the_last_page(client: QasidaClient, relaxed_sandbox: SandboxConfig) -> None:
    pages = list(qr.stock_cards(client, page_size=100))
    ids = [c.id for p in pages for c in p.records]
    assert len(pages) == 5 and ids == list(range(1, 481)) and pages[-1].checkpoint() is None
    reference = raw(relaxed_sandbox, "stock_cards", PageSize=3)["data"]
    typed = pages[0].records[:3]
    assert [c.quantity for c in typed] == [Decimal(r["quantity"]) for r in reference]
    assert [c.unit_price for c in typed] == [r["unitPrice"] for r in reference]
    assert [c.available for c in typed] == [r["availableQuantity"] for r in reference]
    assert {c.warehouse_id for p in pages for c in p.records} == {1, 2, 3, 4}  # every warehouse: no filter


def test_catalogue_and_customers_are_typed(client: QasidaClient, relaxed_sandbox: SandboxConfig) -> None:
    assert [w.id for w in qr.iter_warehouses(client)] == [1, 2, 3, 4]
    products = list(qr.iter_products(client, page_size=50))
    assert (
        len(products) == 120
        and products[0].vat_rate == raw(relaxed_sandbox, "products", PageSize=1)["data"][0]["vat"]
    )
    assert all(isinstance(p.is_valid, bool) for p in products)  # "Y"/"N" on the wire
    customers = list(qr.iter_customers(client))
    assert len(customers) == 60 and customers[0].internal_code == "C00001"


def test_orders_filters(client: QasidaClient) -> None:
    everything = list(qr.iter_customer_orders(client))
    open_ = list(qr.iter_customer_orders(client, only_not_fulfilled=True))
    assert len(everything) == 400 and 0 < len(open_) < 400
    assert {o.workflow_status_code for o in open_} <= {"NEW", "CONFIRMED", "RESERVED", "PICKING"}
    reserved = list(qr.iter_customer_orders(client, only_reserved=True))
    assert reserved and {o.workflow_status_code for o in reserved} <= {"RESERVED", "PICKING"}
    assert all(o.price is not None and o.currency for o in everything)


def _all_items(config: SandboxConfig, kind: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{config.base_url}/_admin/qasida/open-items", params={"kind": kind}, timeout=10)
    return json.loads(response.content, parse_float=Decimal)["items"]


@pytest.mark.parametrize("kind", ["claims", "liabilities"])
def test_open_items_per_customer_exact(client: QasidaClient, relaxed_sandbox: SandboxConfig, kind: str) -> None:
    items = _all_items(relaxed_sandbox, kind)
    read = qr.iter_claims if kind == "claims" else qr.iter_liabilities
    for customer in sorted({i["customerId"] for i in items})[:4]:
        mine = list(read(client, customer, page_size=2))  # several pages
        expected = [i for i in items if i["customerId"] == customer and i["remainsToBePaid"] > 0]
        assert [(x.invoice_id, x.invoiced_amount, x.remains_to_be_paid, x.currency) for x in mine] == [
            (r["invoiceId"], r["invoicedAmount"], r["remainsToBePaid"], r["currency"]) for r in expected]
        delayed = list(read(client, customer, only_delayed=True))
        assert all((x.days_delayed or 0) > 0 for x in delayed)


def test_payment_status(client: QasidaClient, relaxed_sandbox: SandboxConfig) -> None:
    ref = next(i for i in _all_items(relaxed_sandbox, "claims") if i["remainsToBePaid"] > 0)
    (status,) = qr.payment_status(client, ref["variableSymbol"])  # asked by variableSymbol (seeds/003 line 1119)
    assert (status.invoice_number, status.variable_symbol, status.total_sum, status.not_paid_sum) == (
        ref["documentNumber"],
        ref["variableSymbol"],
        ref["invoicedAmount"],
        ref["remainsToBePaid"],
    )
    assert qr.payment_status(client, "0000000000") == []  # a filtered list: none carries it


def test_since_uses_the_server_time(client: QasidaClient, admin: httpx.Client) -> None:
    first = next(qr.stock_cards(client, page_size=10))
    mark = qr.server_time(first.response)
    assert mark is not None
    assert list(qr.iter_stock_cards(client, since=mark)) == []
    admin.post("/_admin/tick", params={"count": 3})
    changed = list(qr.iter_stock_cards(client, since=mark))
    assert 0 < len(changed) <= 15
    assert 0 < len(list(qr.iter_customer_orders(client, since=mark))) < 400  # statuses and payments


def test_wrong_mandant_is_an_auth_error(relaxed_sandbox: SandboxConfig, db_path: Path | str) -> None:
    other = sandbox_settings(relaxed_sandbox, db_path, qasida_mandant_id="99")
    with make_client(other) as client, pytest.raises(AuthError, match="QASIDA_MANDANT_ID") as info:
        list(qr.warehouses(client))
    assert info.value.status == 403


def test_server_errors_retried_then_persistent(
    client: QasidaClient, admin: httpx.Client, fake: FakeTime
) -> None:
    fault(admin, error_rate=0.5)
    assert len(list(qr.iter_stock_cards(client, page_size=100))) == 480 and fake.sleeps
    fault(admin, error_rate=1.0)
    with pytest.raises(ServerError, match="Qasida"):
        list(qr.warehouses(client))


def test_storm_malformed_drop_and_latency(client: QasidaClient, admin: httpx.Client, fake: FakeTime) -> None:
    fault(admin, storm=True, storm_retry_after=3)
    with pytest.raises(RateLimited) as info:
        list(qr.warehouses(client))
    assert info.value.retry_after == 3.0 and fake.sleeps.count(3.0) >= 4
    fault(admin, malformed_rate=1.0)
    with pytest.raises(MalformedResponse):
        list(qr.warehouses(client))
    fault(admin, drop_rate=1.0)
    with pytest.raises(VendorReadError):
        list(qr.warehouses(client))
    fault(admin, drop_rate=0.3, latency_ms=20)
    assert len(list(qr.iter_products(client, page_size=40))) == 120


def test_expired_paging_says_restart(client: QasidaClient, admin: httpx.Client) -> None:
    fault(admin, expire_cursor=True)
    pages = qr.stock_cards(client, page_size=100)
    assert len(next(pages).records) == 100
    with pytest.raises(qr.PagingExpired, match="page 1"):
        next(pages)
    assert len(list(qr.iter_stock_cards(client, page_size=100))) == 480  # a restart works
