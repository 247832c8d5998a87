"""Qasida contract: the vendor's document (seeds/003), not our sandbox, is the reference.

Built only from seeds/003 (transcribed in tests/fixtures/vendor_docs): each list the sync reads is located
by the line of its parameter table; its example response is served as the vendor's answer, parsed by the client and mapped, and compared
with the row computed by hand from that example. Every parameter the client sends must be one of the list's
documented parameters (same name, in the query, where the document lists them), and the required ones must
be there. Then sandbox round trips: a claim or liability settled at the vendor is settled in the cache after
one sync.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlite_utils import Database

from sandbox.server import client_env
from services.qasida import resources as qr
from services.qasida.client import QasidaClient, make_client
from services.settings import Settings
from store.db import connect, iso
from store.schema import migrate
from sync import mappers
from sync.engine import run_resource
from sync.mappers import Owned
from sync.resources import resources_for
from tests.conftest import StartSandbox
from tests.vendor_docs import seed_lines

LINES = seed_lines("003")  # seeds/003, the lists below transcribed in tests/fixtures/vendor_docs
_ROW = re.compile(r"^\}?\| (\w+)( required)? \| ")


@dataclass(frozen=True)
class DocList:
    """A list in seeds/003: its parameters (name -> required) and its example response."""

    params: dict[str, bool]
    example: dict[str, Any]


def doc_list(line: int) -> DocList:
    """The parameter table starting at 1-based `line` ("| PageNumber | ...") and the example after it."""
    params: dict[str, bool] = {}
    i = line - 1
    while (match := _ROW.match(LINES[i])) is not None:
        params[match.group(1)] = bool(match.group(2))
        i += 1
    return DocList(params, _example(i))


def _example(start: int) -> dict[str, Any]:
    """The document renders JSON with "- " before each member; read it back with exact decimals."""
    text, depth = "", 0
    for line in LINES[start:]:
        cleaned = re.sub(r'(^|\{|\], )- ', r"\1", line)
        for k, ch in enumerate(cleaned):
            depth += {"{": 1, "[": 1, "}": -1, "]": -1}.get(ch, 0)
            if depth == 0 and ch == "}":
                return json.loads(text + cleaned[: k + 1], parse_float=Decimal)  # type: ignore[no-any-return]
        text += cleaned + "\n"
    raise AssertionError("example not closed")


# Where each list the sync reads is documented (the line of its "| PageNumber |" row).
CLAIMS = doc_list(150)  # claim list: what a customer owes us
CUSTOMERS = doc_list(193)
CUSTOMER_ORDERS = doc_list(1190)
LIABILITIES = doc_list(3125)  # liability list: what we owe
PRODUCTS = doc_list(4205)
STOCK_CARDS = doc_list(6029)
WAREHOUSES = doc_list(7709)
EMPTY = {"data": [], "pageNumber": 2, "pageSize": 0, "nextPage": None, "previousPage": None}


def test_the_document_is_read_as_expected() -> None:
    """Guards the line numbers above: each table and example is the list it is said to be."""
    assert CLAIMS.params == {"PageNumber": False, "PageSize": False, "MandantId": True, "customerId": True,
                             "allClaims": False, "onlyDelayed": False}
    assert LIABILITIES.params == {**{k: v for k, v in CLAIMS.params.items() if k != "allClaims"},
                                  "allLiabilities": False}
    assert "since" not in CLAIMS.params and "since" not in LIABILITIES.params
    assert set(CUSTOMER_ORDERS.params) >= {"since", "warehouseId", "onlyNotFulfilled", "onlyReserved"}
    assert "customerOrderItems" in CUSTOMER_ORDERS.example["data"][0]
    assert "internalCode" in CUSTOMERS.example["data"][0] and "warehouseName" in STOCK_CARDS.example["data"][0]
    assert "productCode" in PRODUCTS.example["data"][0] and "isValid" in WAREHOUSES.example["data"][0]
    for doc in (CLAIMS, CUSTOMERS, CUSTOMER_ORDERS, LIABILITIES, PRODUCTS, STOCK_CARDS, WAREHOUSES):
        assert set(doc.example) == {"data", "pageNumber", "pageSize", "nextPage", "previousPage"}
        assert doc.params["MandantId"] is True and {"PageNumber", "PageSize"} <= set(doc.params)


# --- the document's examples through the client and the mappers ----------------------------------


def settings(db_path: Path | str, **kw: Any) -> Settings:
    return Settings(opsdash_db=db_path, qasida_base_url="http://erp.test", qasida_token="jwt",
                    qasida_mandant_id="3", **kw)


def serve(doc: DocList, db_path: Path | str) -> tuple[QasidaClient, list[httpx.Request]]:
    """A client whose vendor answers page 1 with the document's example and page 2 with an empty page
    (the example's `nextPage` is "string", so the walk asks for page 2)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = doc.example if request.url.params.get("PageNumber") == "1" else EMPTY
        return httpx.Response(200, content=json.dumps(body, default=str).encode())

    return make_client(settings(db_path), transport=httpx.MockTransport(handler)), seen


def read(doc: DocList, db_path: Path | str, call: Callable[[QasidaClient], Iterator[Any]]) -> list[Any]:
    client, seen = serve(doc, db_path)
    with client:
        records = [r for page in call(client) for r in page.records]
    assert [r.url.params["PageNumber"] for r in seen] == ["1", "2"]  # a short page does not end the walk
    for request in seen:
        sent = dict(request.url.params)
        assert set(sent) <= set(doc.params), f"undocumented parameter(s) {set(sent) - set(doc.params)}"
        assert {name for name, required in doc.params.items() if required} <= set(sent)
        assert "mandantid" not in request.headers  # MandantId is a query parameter in the document
    return records


def without_raw(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "raw"}


OPEN_ITEM_ROW = {  # by hand from the example (seeds/003 lines 157-173 and 3131-3147), customer 42
    "invoice_id": "0", "customer_id": "42", "type": "string", "document_number": "string",
    "variable_symbol": "string", "currency": "STRING", "invoiced_amount": "0.1", "remains_to_be_paid": "0.1",
    "days_delayed": 0, "due_date": "2019-08-24", "issue_date": "2019-08-24",
    "last_payment": "2019-08-24T14:15:22.000Z", "settled_at": None,
}


@pytest.mark.parametrize(("doc", "call", "every"), [
    (CLAIMS, qr.claims, "allClaims"), (LIABILITIES, qr.liabilities, "allLiabilities")])
def test_claims_and_liabilities_example(db_path: Path | str, doc: DocList, call: Any, every: str) -> None:
    client, seen = serve(doc, db_path)
    with client:
        records = [r for page in call(client, 42) for r in page.records]
    assert [without_raw(mappers.qasida_open_item(Owned("42", r))) for r in records] == [OPEN_ITEM_ROW]
    sent = dict(seen[0].url.params)
    assert sent == {"customerId": "42", every: "false", "onlyDelayed": "false", "PageNumber": "1",
                    "PageSize": "1000", "MandantId": "3"}
    assert set(sent) <= set(doc.params)


def test_stock_cards_example(db_path: Path | str) -> None:
    cards = read(STOCK_CARDS, db_path, lambda c: qr.stock_cards(c, since="2019-08-24T14:15:22+00:00"))
    assert [without_raw(mappers.qasida_stock_card(c)) for c in cards] == [{
        "stock_card_id": "0", "warehouse_id": "0", "warehouse": "string", "product_id": "0", "product": "string",
        "product_code": "string", "unit": "string", "quantity": 0.0, "reserved": 0.0, "available": 0.0}]


def test_warehouses_example(db_path: Path | str) -> None:
    rows = [without_raw(mappers.qasida_warehouse(w)) for w in read(WAREHOUSES, db_path, qr.warehouses)]
    assert rows == [{"warehouse_id": "0", "code": "string", "name": "string"}]


def test_products_example(db_path: Path | str) -> None:
    products = read(PRODUCTS, db_path, lambda c: qr.products(c, since="2019-08-24T14:15:22+00:00"))
    assert [without_raw(mappers.qasida_product(p)) for p in products] == [
        {"product_id": "0", "code": "string", "name": "string", "unit": "string"}]
    assert products[0].is_valid is None and products[0].edited is None  # "string" placeholders: unknown


def test_customers_example(db_path: Path | str) -> None:
    customers = read(CUSTOMERS, db_path, lambda c: qr.customers(c, since="2019-08-24T14:15:22+00:00"))
    assert [without_raw(mappers.qasida_customer(c)) for c in customers] == [
        {"customer_id": "0", "code": "string", "name": "string", "vat_number": "string", "country": "string"}]


def test_customer_orders_example_with_its_lines(db_path: Path | str) -> None:
    orders = read(CUSTOMER_ORDERS, db_path, lambda c: qr.customer_orders(c, since="2019-08-24T14:15:22+00:00"))
    assert [without_raw(mappers.qasida_customer_order(o)) for o in orders] == [{
        "order_id": "0", "number": "string", "customer_id": "0", "customer": "string", "status": "string",
        "order_date": None, "delivery_date": None,  # "issueDate": "string" in the example: no date
        "warehouse_id": "0", "currency": "string", "total": None}]  # no minor units for the currency "string"
    lines = mappers.qasida_order_lines(orders[0], {"0": ("P-0", "pcs")})
    assert [without_raw(r) for r in lines] == [{"order_id": "0", "line_no": 1, "product_id": "0",
                                                "product_code": "P-0", "quantity": 0.0, "unit": "pcs"}]


def test_mandant_as_a_header_only_when_configured(db_path: Path | str) -> None:
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json=EMPTY))
    with make_client(settings(db_path, qasida_mandant_in="header"), transport=transport) as client:
        list(qr.warehouses(client))
    assert seen[0].headers["mandantid"] == "3" and "MandantId" not in seen[0].url.params


# --- sandbox round trips: settled at the vendor, settled in the cache after one sync ---------------


@pytest.fixture
def erp(start_sandbox: StartSandbox, db_path: Path | str) -> Iterator[tuple[Database, QasidaClient, httpx.Client]]:
    config = start_sandbox(seed=5)
    env = {k.lower(): v for k, v in client_env(config).items()}
    db = connect(db_path)
    migrate(db)
    with make_client(Settings(**env, opsdash_db=db_path)) as client, \
            httpx.Client(base_url=config.base_url, timeout=10) as admin:
        yield db, client, admin
    db.close()


def sync(db: Database, client: QasidaClient, *names: str) -> None:
    for res in resources_for(db, ["qasida"]):
        if res.name in names:
            assert run_resource(db, client, res).ok, res.name


def open_items(db: Database, table: str) -> dict[str, str]:
    sql = f"SELECT invoice_id, remains_to_be_paid FROM {table} WHERE settled_at IS NULL"
    return dict(db.execute(sql).fetchall())


@pytest.mark.parametrize(("kind", "table"), [("claims", "qasida_claims"), ("liabilities", "qasida_liabilities")])
def test_settled_at_the_vendor_is_settled_in_the_cache_after_one_sync(
    erp: tuple[Database, QasidaClient, httpx.Client], kind: str, table: str,
) -> None:
    db, client, admin = erp
    sync(db, client, "customers", kind)
    items = json.loads(admin.get("/_admin/qasida/open-items", params={"kind": kind}).content,
                       parse_float=Decimal)["items"]
    expected = {str(i["invoiceId"]): format(i["remainsToBePaid"], "f") for i in items if i["remainsToBePaid"] > 0}
    assert open_items(db, table) == expected and expected  # exact text, every customer's open items
    owners = {str(i["invoiceId"]): str(i["customerId"]) for i in items}
    assert dict(db.execute(f"SELECT invoice_id, customer_id FROM {table}").fetchall()) == {
        k: owners[k] for k in expected}

    target = next(iter(sorted(expected)))
    assert admin.post("/_admin/qasida/pay", json={"kind": kind, "invoiceId": int(target)}).status_code == 200
    # A run right after a full read re-reads nobody (sync/vendors/qasida.py MIN_AGE): three hours on
    # (CHECK_WITHIN), every customer is due, and one sync settles it.
    checks = db.execute("SELECT kind, customer_id, checked_at FROM qasida_open_item_checks "
                        "WHERE checked_at IS NOT NULL").fetchall()
    for check_kind, customer_id, checked_at in checks:  # in Python: SQLite's strftime is no PostgreSQL function
        earlier = iso(datetime.fromisoformat(checked_at) - timedelta(hours=3))
        db.execute("UPDATE qasida_open_item_checks SET checked_at = ? WHERE kind = ? AND customer_id = ?",
                   [earlier, check_kind, customer_id])  # autocommit (store.db.connect), on either database
    sync(db, client, kind)
    assert open_items(db, table) == {k: v for k, v in expected.items() if k != target}
    settled = db.execute(f"SELECT settled_at, remains_to_be_paid FROM {table} WHERE invoice_id = ?",
                         [target]).fetchone()
    assert settled[0] is not None and settled[1] == expected[target]  # kept as history, as last seen
