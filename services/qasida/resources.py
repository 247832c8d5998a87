"""Qasida resources as typed functions over a `QasidaClient` (services.qasida.client).

Lists are paged (`PageNumber`/`PageSize`, seeds/003 lines 150-173) and yielded one `Page` at a time
with typed records, so a sync can store `page.checkpoint()` after each page; a listing ends on a null
`nextPage` or an empty page, never on a short one (services/core/pagination.py). Incremental reads take
`since` (records changed at or after it) where the document has it; use `server_time(page.response)`
of the FIRST page as the next `since`: the ERP's clock, never ours (docs/qasida-paths.md).

Every parameter is sent under the document's own name: claims and liabilities take `customerId`
(required), `allClaims`/`allLiabilities` and `onlyDelayed` (default false) and no `since`; customer
orders take `since`, `warehouseId`, `onlyNotFulfilled`, `onlyReserved` (seeds/003 lines 1190-1197); stock
cards `since` only (lines 6028-6032: no `warehouseId`); the payment status `variableSymbol` (line 1119).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
import pydantic

from services.core import MalformedResponse, Page, PageNumberEnvelope, PageRequest, ValidationError
from services.qasida.client import QasidaClient
from services.qasida.models import (
    Customer,
    CustomerOrder,
    OpenItem,
    PaymentStatus,
    Product,
    StockCard,
    Warehouse,
)

M = TypeVar("M", bound=pydantic.BaseModel)

DEFAULT_PAGE_SIZE = 1000  # the largest page Qasida serves (docs/qasida-paths.md)
SERVER_TIME_HEADER = "x-server-time"
PAGING_EXPIRED = "paging-expired"  # in the problem `type` of an expired paging context


class PagingExpired(ValidationError):
    """Qasida dropped the paging context of a later page: restart the listing from page 1."""


def server_time(response: httpx.Response) -> datetime | None:
    """The ERP's own time of an answer: `X-Server-Time` (microseconds) if sent, else the HTTP `Date`."""
    if raw := response.headers.get(SERVER_TIME_HEADER):
        try:
            parsed = datetime.fromisoformat(raw.strip())
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except ValueError:
            pass
    if raw := response.headers.get("date"):
        try:
            return parsedate_to_datetime(raw).astimezone(UTC)
        except (TypeError, ValueError, IndexError):
            return None
    return None


def _since(value: datetime | str | None) -> str | None:
    """ISO 8601; a naive datetime is taken as UTC, like the ERP's own zone-less dates."""
    if value is None or isinstance(value, str):
        return value
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _parse(client: QasidaClient, model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise MalformedResponse(
            f"{client.name} sent a {model.__name__} this client cannot read ({exc.error_count()} field "
            "errors): check QASIDA_PATHS points at the right endpoint",
            vendor=client.name,
        ) from None


def _pages(
    client: QasidaClient,
    resource: str,
    model: type[M],
    params: dict[str, Any],
    page_size: int,
    start: PageRequest | None,
    *,
    read_ahead: bool = True,
) -> Iterator[Page]:
    """`read_ahead` (services/core/pagination.py): whole listings are read to the end and the ERP documents
    no rate limit, so the next page is fetched while the caller stores this one. Not for the per-customer
    claims and liabilities, which a sync stops reading when its request budget is spent."""
    query = {k: v for k, v in params.items() if v is not None}
    paging = PageNumberEnvelope(page_size=page_size)
    pages = client.paginate(client.paths[resource], query, paging, start=start, max_pages=100_000,
                            read_ahead=read_ahead)
    try:
        for page in pages:
            yield replace(page, records=[_parse(client, model, r) for r in page.records])
    except ValidationError as exc:
        raise _expired(exc) from exc


def _expired(exc: ValidationError) -> ValidationError:
    if PAGING_EXPIRED not in exc.body:
        return exc
    return PagingExpired(
        f"{exc.vendor} expired the paging context: restart this listing from page 1 (PageNumber=1)",
        fields=exc.fields,
        vendor=exc.vendor,
        status=exc.status,
        request_id=exc.request_id,
        body=exc.body,
    )


def stock_cards(
    client: QasidaClient,
    *,
    since: datetime | str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    start: PageRequest | None = None,
) -> Iterator[Page]:
    """Pages of `StockCard`, one per (warehouse, product), every warehouse: the list takes `since` and
    `reservationType` only (seeds/003 lines 6028-6032), no `warehouseId`; filter by `StockCard.warehouse_id`."""
    return _pages(client, "stock_cards", StockCard, {"since": _since(since)}, page_size, start)


def warehouses(
    client: QasidaClient, *, page_size: int = DEFAULT_PAGE_SIZE, start: PageRequest | None = None
) -> Iterator[Page]:
    return _pages(client, "warehouses", Warehouse, {}, page_size, start)


def products(
    client: QasidaClient,
    *,
    since: datetime | str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    start: PageRequest | None = None,
) -> Iterator[Page]:
    return _pages(client, "products", Product, {"since": _since(since)}, page_size, start)


def customers(
    client: QasidaClient,
    *,
    since: datetime | str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    start: PageRequest | None = None,
) -> Iterator[Page]:
    return _pages(client, "customers", Customer, {"since": _since(since)}, page_size, start)


def customer_orders(
    client: QasidaClient,
    *,
    since: datetime | str | None = None,
    only_not_fulfilled: bool = False,
    only_reserved: bool = False,
    warehouse_id: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    start: PageRequest | None = None,
) -> Iterator[Page]:
    """`only_not_fulfilled`/`only_reserved` True narrow the list; False (the doc's default) means all.
    The flags are sent only when set, so the default request is the document's plain list."""
    params = {
        "since": _since(since),
        "warehouseId": warehouse_id,
        "onlyNotFulfilled": "true" if only_not_fulfilled else None,
        "onlyReserved": "true" if only_reserved else None,
    }
    return _pages(client, "customer_orders", CustomerOrder, params, page_size, start)


def claims(
    client: QasidaClient,
    customer_id: int | str,
    *,
    all_claims: bool = False,
    only_delayed: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    start: PageRequest | None = None,
) -> Iterator[Page]:
    """What one customer owes us: open claims only unless `all_claims` (seeds/003 lines 150-155)."""
    params = {"customerId": int(customer_id), "allClaims": _flag(all_claims), "onlyDelayed": _flag(only_delayed)}
    return _pages(client, "claims", OpenItem, params, page_size, start, read_ahead=False)


def liabilities(
    client: QasidaClient,
    customer_id: int | str,
    *,
    all_liabilities: bool = False,
    only_delayed: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    start: PageRequest | None = None,
) -> Iterator[Page]:
    """What we owe one customer (as a supplier): open liabilities only unless `all_liabilities`
    (seeds/003 lines 3124-3130)."""
    params = {
        "customerId": int(customer_id),
        "allLiabilities": _flag(all_liabilities),
        "onlyDelayed": _flag(only_delayed),
    }
    return _pages(client, "liabilities", OpenItem, params, page_size, start, read_ahead=False)


def payment_statuses(
    client: QasidaClient,
    variable_symbol: str,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    start: PageRequest | None = None,
) -> Iterator[Page]:
    """Pages of `PaymentStatus`: the invoices whose variable symbol (payment reference) is `variable_symbol`.
    The document's parameters are `variableSymbol` (required) and the paging ones (seeds/003 lines 1116-1119);
    the answer is a paged list (lines 1120-1143), not one invoice: several may share a symbol, or none."""
    if not variable_symbol.strip():
        raise ValueError("a Qasida payment status needs a variable symbol (variableSymbol, seeds/003 line 1119)")
    params = {"variableSymbol": variable_symbol.strip()}
    return _pages(client, "payment_status", PaymentStatus, params, page_size, start, read_ahead=False)


def payment_status(client: QasidaClient, variable_symbol: str) -> list[PaymentStatus]:
    """Every invoice carrying `variable_symbol`, with its totals and what is unpaid ([] when none does)."""
    return list(records(payment_statuses(client, variable_symbol)))


def records(pages: Iterator[Page]) -> Iterator[Any]:
    """Every typed record of every page, lazily."""
    for page in pages:
        yield from page.records


def iter_stock_cards(client: QasidaClient, **kwargs: Any) -> Iterator[StockCard]:
    return records(stock_cards(client, **kwargs))


def iter_warehouses(client: QasidaClient, **kwargs: Any) -> Iterator[Warehouse]:
    return records(warehouses(client, **kwargs))


def iter_products(client: QasidaClient, **kwargs: Any) -> Iterator[Product]:
    return records(products(client, **kwargs))


def iter_customers(client: QasidaClient, **kwargs: Any) -> Iterator[Customer]:
    return records(customers(client, **kwargs))


def iter_customer_orders(client: QasidaClient, **kwargs: Any) -> Iterator[CustomerOrder]:
    return records(customer_orders(client, **kwargs))


def iter_claims(client: QasidaClient, customer_id: int | str, **kwargs: Any) -> Iterator[OpenItem]:
    return records(claims(client, customer_id, **kwargs))


def iter_liabilities(client: QasidaClient, customer_id: int | str, **kwargs: Any) -> Iterator[OpenItem]:
    return records(liabilities(client, customer_id, **kwargs))


__all__ = [
    "PagingExpired",
    "claims",
    "customer_orders",
    "customers",
    "iter_claims",
    "iter_customer_orders",
    "iter_customers",
    "iter_liabilities",
    "iter_products",
    "iter_stock_cards",
    "iter_warehouses",
    "liabilities",
    "payment_status",
    "payment_statuses",
    "products",
    "server_time",
    "stock_cards",
    "warehouses",
]
