"""The Qasida ERP simulator over real HTTP: guard, envelopes, paging, `since`, filters, faults."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from sandbox.context import SandboxConfig
from sandbox.qasida.sales import NOT_FULFILLED, RESERVED
from tests.conftest import StartSandbox

STOCK = "/api/stock/v1/StockCard/GetAll"
WAREHOUSES = "/api/stock/v1/Warehouse/GetAll"
PRODUCTS = "/api/eshop/v1/Product/GetAll"
CUSTOMERS = "/api/crm/v1/Customer/GetAll"
ORDERS = "/api/sales/v1/CustomerOrder/GetAll"
CLAIMS = "/api/finance/v1/ClaimList/GetByCustomer"
LIABILITIES = "/api/finance/v1/LiabilityList/GetByCustomer"
# The document's row of both lists (seeds/003 lines 157-168 and 3131-3143): no customer in it.
OPEN_ITEM_FIELDS = {"invoiceId", "type", "documentNumber", "invoicedAmount", "currency", "remainsToBePaid",
                    "daysDelayed", "dueDate", "issueDate", "variableSymbol", "lastPayment"}
PAYMENT = "/api/finance/v1/Invoice/GetPaymentStatus"
ENVELOPE = {"data", "pageNumber", "pageSize", "nextPage", "previousPage"}


def client_for(config: SandboxConfig) -> httpx.Client:
    cred = config.credentials
    return httpx.Client(base_url=f"{config.base_url}/qasida", timeout=30,
                        headers={"Authorization": f"Bearer {cred.qasida_token}", "MandantId": cred.qasida_mandant_id})


@pytest.fixture
def qasida(relaxed_sandbox: SandboxConfig) -> Iterator[httpx.Client]:
    with client_for(relaxed_sandbox) as client:
        yield client


def fetch_all(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Follow nextPage to the end (bounded), asserting the page numbers on the way."""
    rows: list[dict[str, Any]] = []
    url = path
    for expected in range(1, 1001):
        body = client.get(url, params=params if expected == 1 else None).json()
        assert body["pageNumber"] == expected
        rows.extend(body["data"])
        if body["nextPage"] is None:
            return rows
        url = body["nextPage"]
    raise AssertionError("paging did not end")


def test_missing_or_wrong_bearer_is_401_problem(relaxed_sandbox: SandboxConfig) -> None:
    base = f"{relaxed_sandbox.base_url}/qasida"
    for headers in ({"MandantId": "1"}, {"MandantId": "1", "Authorization": "Bearer nope"}):
        response = httpx.get(base + STOCK, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["status"] == 401
        assert "sandbox-qasida-jwt" not in response.text


def test_mandant_header_missing_400_foreign_403(qasida: httpx.Client) -> None:
    missing = qasida.get(STOCK, headers={"MandantId": ""})
    assert missing.status_code == 400
    assert missing.headers["content-type"].startswith("application/problem+json")
    problem = missing.json()
    assert problem["status"] == 400 and "MandantId" in problem["errors"] and "MandantId" in problem["detail"]
    assert qasida.get(STOCK, headers={"MandantId": "abc"}).status_code == 400
    foreign = qasida.get(STOCK, headers={"MandantId": "2"})
    assert foreign.status_code == 403 and foreign.json()["title"] == "Forbidden"


@pytest.mark.parametrize(("path", "fields"), [
    (STOCK, {"id", "warehouseId", "productId", "productCode", "quantity", "reserveQuantity", "availableQuantity",
             "lastChange", "mandantId"}),
    (WAREHOUSES, {"id", "number", "name", "mandantId", "isValid"}),
    (PRODUCTS, {"productId", "productCode", "productName", "productValidity", "edited"}),
    (CUSTOMERS, {"id", "internalCode", "ico", "dic", "name", "isVATPayer", "addresses", "icdpHs", "edited"}),
    (ORDERS, {"id", "orderNumber", "workflowStatusCode", "isPaid", "issueDate", "customerId", "currency", "price",
              "customerOrderItems", "lastChange"}),
])
def test_each_list_has_the_page_envelope_and_doc_fields(qasida: httpx.Client, path: str, fields: set[str]) -> None:
    response = qasida.get(path, params={"PageSize": 3})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == ENVELOPE
    assert body["pageNumber"] == 1 and body["pageSize"] == 3 and body["previousPage"] is None
    assert len(body["data"]) == 3 and fields <= set(body["data"][0])
    assert "PageNumber=2" in body["nextPage"]


def test_paging_reaches_the_last_page_without_duplicates_or_gaps(qasida: httpx.Client) -> None:
    rows = fetch_all(qasida, STOCK, PageSize=70)
    assert [r["id"] for r in rows] == list(range(1, 4 * 120 + 1))
    last = qasida.get(STOCK, params={"PageSize": 70, "PageNumber": 7}).json()
    assert len(last["data"]) == 480 - 6 * 70 and last["nextPage"] is None and "PageNumber=6" in last["previousPage"]
    assert qasida.get(STOCK, params={"PageSize": 70, "PageNumber": 8}).json()["data"] == []


def test_page_size_is_clamped_and_bad_paging_is_a_problem(qasida: httpx.Client) -> None:
    assert qasida.get(STOCK, params={"PageSize": 5000}).json()["pageSize"] == 1000
    assert qasida.get(STOCK, params={"pageNumber": 2, "pageSize": 10}).json()["data"][0]["id"] == 11  # any case
    bad = qasida.get(STOCK, params={"PageNumber": 0})
    assert bad.status_code == 400 and "PageNumber" in bad.json()["errors"]
    assert qasida.get(STOCK, params={"PageSize": "many"}).status_code == 400


def test_since_returns_only_what_a_tick_changed(qasida: httpx.Client, admin: httpx.Client) -> None:
    server_time = qasida.get(WAREHOUSES).headers["x-server-time"]
    since = datetime.fromisoformat(server_time)
    assert qasida.get(STOCK, params={"since": server_time}).json()["data"] == []
    admin.post("/_admin/tick")
    for path, most in ((STOCK, 5), (ORDERS, 3 + 2)):  # + orders whose claim was paid off
        rows = qasida.get(path, params={"since": server_time, "PageSize": 1000}).json()["data"]
        assert 1 <= len(rows) <= most, path
        assert all(datetime.fromisoformat(r["lastChange"] + "+00:00") >= since for r in rows)
    later = qasida.get(WAREHOUSES).headers["x-server-time"]
    assert qasida.get(ORDERS, params={"since": later}).json()["data"] == []
    assert qasida.get(STOCK, params={"since": "not-a-date"}).status_code == 400


def test_since_in_the_past_filters_the_seeded_history(qasida: httpx.Client) -> None:
    everything = fetch_all(qasida, CUSTOMERS, PageSize=1000)
    cut = sorted(r["edited"] for r in everything)[len(everything) // 2]
    recent = fetch_all(qasida, CUSTOMERS, PageSize=1000, since=cut + "Z")
    assert {r["id"] for r in recent} == {r["id"] for r in everything if r["edited"] >= cut}


def test_order_filters(qasida: httpx.Client) -> None:
    everything = fetch_all(qasida, ORDERS, PageSize=1000)
    assert len(everything) == 400
    open_orders = fetch_all(qasida, ORDERS, PageSize=1000, notFulfilled="true")
    done = fetch_all(qasida, ORDERS, PageSize=1000, notFulfilled="false")
    reserved = fetch_all(qasida, ORDERS, PageSize=1000, reserved="true")
    assert open_orders and all(r["workflowStatusCode"] in NOT_FULFILLED for r in open_orders)
    assert all(r["workflowStatusCode"] not in NOT_FULFILLED for r in done)
    assert len(open_orders) + len(done) == 400
    assert reserved and all(r["workflowStatusCode"] in RESERVED for r in reserved)
    doc_alias = fetch_all(qasida, ORDERS, PageSize=1000, onlyNotFulfilled="true")
    assert [r["id"] for r in doc_alias] == [r["id"] for r in open_orders]
    assert len(fetch_all(qasida, ORDERS, PageSize=1000, onlyReserved="false")) == 400  # doc: false = all


def test_stock_cards_ignore_the_undocumented_warehouse_id_and_quantities(qasida: httpx.Client) -> None:
    rows = fetch_all(qasida, STOCK, PageSize=100)
    assert len(rows) == 480 and {r["warehouseId"] for r in rows} == {1, 2, 3, 4}
    for r in rows:
        assert isinstance(r["quantity"], str)  # the doc's <string> quantity (seeds/003 line 6303)
        assert r["availableQuantity"] == int(float(r["quantity"])) - r["reserveQuantity"] >= 0
    # The list takes `since` and `reservationType`, no `warehouseId` (seeds/003 lines 6028-6032): ignored.
    assert qasida.get(STOCK, params={"warehouseId": 2, "PageSize": 1000}).json()["data"] == rows


def every_item(admin: httpx.Client, kind: str) -> list[dict[str, Any]]:
    return admin.get("/_admin/qasida/open-items", params={"kind": kind}).json()["items"]


def test_no_reorder_level_on_stock_cards(qasida: httpx.Client) -> None:
    assert all("minimumQuantity" not in card for card in qasida.get(STOCK).json()["data"])  # not in seeds/003


def test_mandant_in_the_query_as_the_document_lists_it(relaxed_sandbox: SandboxConfig) -> None:
    cred = relaxed_sandbox.credentials
    with httpx.Client(base_url=f"{relaxed_sandbox.base_url}/qasida",
                      headers={"Authorization": f"Bearer {cred.qasida_token}"}) as bare:
        assert bare.get(STOCK, params={"MandantId": cred.qasida_mandant_id}).status_code == 200
        assert bare.get(STOCK, params={"mandantId": "2"}).status_code == 403
        missing = bare.get(STOCK)
        assert missing.status_code == 400 and "MandantId" in missing.json()["errors"]


@pytest.mark.parametrize(("path", "kind", "every"), [(CLAIMS, "claims", "allClaims"),
                                                     (LIABILITIES, "liabilities", "allLiabilities")])
def test_open_items_per_customer_as_documented(qasida: httpx.Client, admin: httpx.Client, path: str, kind: str,
                                               every: str) -> None:
    items = every_item(admin, kind)
    customers = sorted({i["customerId"] for i in items})
    assert len(customers) > 3 and len({i["currency"] for i in items}) > 1
    for customer in customers[:5]:
        mine = [{k: v for k, v in i.items() if k != "customerId"} for i in items if i["customerId"] == customer]
        body = qasida.get(path, params={"customerId": customer, "PageSize": 1000}).json()
        assert set(body) == ENVELOPE and all(set(row) == OPEN_ITEM_FIELDS for row in body["data"])
        assert body["data"] == [i for i in mine if i["remainsToBePaid"] > 0]  # open only by default
        assert qasida.get(path, params={"customerId": customer, every: "true"}).json()["data"] == mine
        delayed = qasida.get(path, params={"customerId": customer, "onlyDelayed": "true"}).json()["data"]
        assert delayed == [i for i in mine if i["daysDelayed"] > 0 and i["remainsToBePaid"] > 0]
    assert qasida.get(path).status_code == 400  # customerId is required
    assert qasida.get(path, params={"customerId": 999_999}).json()["data"] == []


def test_liabilities_belong_to_customers_that_supply_us(qasida: httpx.Client, admin: httpx.Client) -> None:
    suppliers = {i["customerId"] for i in every_item(admin, "liabilities")}
    customers = fetch_all(qasida, CUSTOMERS, PageSize=1000)
    assert {c["id"] for c in customers if c["isSupplier"]} == suppliers


def test_paying_an_item_in_full_takes_it_off_the_open_list(start_sandbox: StartSandbox) -> None:
    config = start_sandbox(seed=11)
    with client_for(config) as erp, httpx.Client(base_url=config.base_url) as admin:
        item = next(i for i in every_item(admin, "claims") if i["remainsToBePaid"] > 0)
        customer = item["customerId"]
        before = erp.get(CLAIMS, params={"customerId": customer}).json()["data"]
        paid = admin.post("/_admin/qasida/pay", json={"kind": "claims", "invoiceId": item["invoiceId"]}).json()
        assert paid["remainsToBePaid"] == 0 and paid["lastPayment"] is not None
        after = erp.get(CLAIMS, params={"customerId": customer}).json()["data"]
        assert [r["invoiceId"] for r in after] == [r["invoiceId"] for r in before if r["invoiceId"] != item["invoiceId"]]
        settled = erp.get(CLAIMS, params={"customerId": customer, "allClaims": "true"}).json()["data"]
        assert any(r["invoiceId"] == item["invoiceId"] and r["remainsToBePaid"] == 0 for r in settled)
        assert admin.post("/_admin/qasida/pay", json={"kind": "claims", "invoiceId": 1}).status_code == 404


def test_wire_inconsistencies_from_the_doc(qasida: httpx.Client, admin: httpx.Client) -> None:
    product = qasida.get(PRODUCTS).json()["data"][0]
    assert product["productValidity"] in ("Y", "N") and product["stockItem"] == "Y"
    card = qasida.get(STOCK).json()["data"][0]
    assert isinstance(card["productValidity"], bool)
    order = qasida.get(ORDERS).json()["data"][0]
    assert datetime.fromisoformat(order["issueDate"]).tzinfo is None
    claim = every_item(admin, "claims")[0]
    assert claim["dueDate"].endswith("Z")


def test_invoice_payment_status_by_variable_symbol(qasida: httpx.Client, admin: httpx.Client) -> None:
    """`variableSymbol` (required) and paging in, a paged list out (seeds/003 lines 1116-1143)."""
    claim = next(i for i in every_item(admin, "claims") if i["remainsToBePaid"] > 0)
    status = qasida.get(PAYMENT, params={"variableSymbol": claim["variableSymbol"]})
    assert status.status_code == 200
    body = status.json()
    assert set(body) == {"data", "pageNumber", "pageSize", "nextPage", "previousPage"} and len(body["data"]) == 1
    (row,) = body["data"]
    assert row["invoiceNumber"] == claim["documentNumber"] and row["variableSymbol"] == claim["variableSymbol"]
    assert row["notPaidSum"] == claim["remainsToBePaid"] and row["currency"] == claim["currency"]
    assert qasida.get(PAYMENT, params={"variableSymbol": "0000000000"}).json()["data"] == []
    assert qasida.get(PAYMENT, params={"invoiceNumber": claim["documentNumber"]}).status_code == 400
    assert qasida.get(PAYMENT).json()["errors"] == {"variableSymbol": ["The variableSymbol field is required."]}


def test_expired_paging_fault_hits_a_later_page_once(qasida: httpx.Client, admin: httpx.Client) -> None:
    admin.put("/_admin/faults/qasida", json={"expire_cursor": True})
    assert qasida.get(STOCK, params={"PageSize": 10}).status_code == 200  # page 1 carries no paging context
    expired = qasida.get(STOCK, params={"PageSize": 10, "PageNumber": 2})
    assert expired.status_code == 400
    assert expired.json()["type"] == "urn:qasida:problem:paging-expired"
    assert qasida.get(STOCK, params={"PageSize": 10, "PageNumber": 2}).status_code == 200


def test_a_seed_gives_the_same_data(start_sandbox: StartSandbox) -> None:
    pages = []
    for seed in (7, 7, 8):
        with client_for(start_sandbox(seed=seed)) as client:
            pages.append([client.get(p, params={"PageSize": 20}).json()["data"] for p in (STOCK, ORDERS, CUSTOMERS)])
    assert pages[0] == pages[1]
    assert pages[0] != pages[2]


def test_ticks_settle_some_items_over_time(start_sandbox: StartSandbox) -> None:
    config = start_sandbox(seed=12)
    with httpx.Client(base_url=config.base_url) as admin:
        def open_ids(kind: str) -> set[int]:
            return {i["invoiceId"] for i in every_item(admin, kind) if i["remainsToBePaid"] > 0}

        before = {kind: open_ids(kind) for kind in ("claims", "liabilities")}
        for _ in range(10):
            assert admin.post("/_admin/tick").status_code == 200
        for kind in ("claims", "liabilities"):
            after = open_ids(kind)
            assert after < before[kind], kind  # some paid in full, none reopened, none invented
