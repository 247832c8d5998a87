"""Typed Cargobase resources: the freight invoice list (seeds/004), as pages a sync can checkpoint.

`GET /invoices/` pages with `page`/`page_size` and a footer whose `next` is a full URL (seeds/004
lines 44-52, 74); results are newest first. When a page stops existing while we walk (the list
shrank: DRF answers 404 "Invalid page."), the listing restarts once from the first page, so an
invoice may come twice: upsert by `shipment_reference`.

Each page carries its footer's `count` (seeds/004 line 47: "Total number of Invoices available to the
user, across all pages"): a listing whose pages disagree on it changed while it was read, so invoices may
have slid to a page already read (sync/vendors/cargobase.py reads it again before marking any gone).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any

import httpx
import pydantic

from services.cargobase.models import Invoice, InvoiceStatus
from services.core import MalformedResponse, NextUrl, NotFoundError, Page, PageRequest, VendorClient

log = logging.getLogger("services.cargobase")

PATH = "/invoices/"
DEFAULT_PAGE_SIZE = 200  # the vendor's default is 50 (seeds/004 line 74): fewer, larger pages
Checkpoint = PageRequest | Mapping[str, Any] | None


@dataclasses.dataclass(frozen=True)
class InvoiceListPage(Page):
    """A page of `Invoice`s with the footer's `count` (seeds/004 line 47); None when the footer lacks it."""

    count: int | None = None


def _footer_count(response: httpx.Response) -> int | None:
    try:
        value = response.json().get("count")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _listed(page: Page) -> InvoiceListPage:
    return InvoiceListPage(records=[_invoice(r) for r in page.records], response=page.response,
                           request=page.request, next=page.next, number=page.number,
                           count=_footer_count(page.response))


def _invoice(data: Any) -> Invoice:
    try:
        return Invoice.model_validate(data)
    except pydantic.ValidationError as exc:
        raise MalformedResponse(
            f"Cargobase answered GET {PATH} with an unexpected invoice ({exc.error_count()} problems): "
            "the API may have changed; report it",
            vendor="Cargobase",
        ) from None


def _start(start: Checkpoint) -> PageRequest | None:
    if start is None or isinstance(start, PageRequest):
        return start
    return PageRequest.from_checkpoint(start)


def _filters(
    status: InvoiceStatus | str | None, submit_date: date | str | None, page_size: int
) -> dict[str, Any]:
    # submit_date: YYYY-MM-DD, "this_month" or "last_month" (seeds/004 lines 58-60)
    day = submit_date.isoformat() if isinstance(submit_date, date) else submit_date
    params: dict[str, Any] = {"page_size": page_size}
    if status is not None:
        params["status"] = str(status)
    if day is not None:
        params["submit_date"] = day
    return params


def first_page(page_size: int = DEFAULT_PAGE_SIZE, **filters: Any) -> PageRequest:
    """The request of a listing's first page (a checkpoint that restarts the listing)."""
    return PageRequest(PATH, _filters(filters.get("status"), filters.get("submit_date"), page_size))


def is_later_page(request: PageRequest) -> bool:
    return "page" in request.params or "page" in httpx.URL(request.url).params


def _restarting(
    fetch: Callable[[PageRequest | None], Iterator[InvoiceListPage]], start: PageRequest | None
) -> Iterator[InvoiceListPage]:
    """`fetch(start)`, restarted once from the first page if a later page has gone (404)."""
    request = start
    try:
        for page in fetch(request):
            request = page.next
            yield page
    except NotFoundError:
        if request is None or not is_later_page(request):
            raise  # the first page itself is missing: a wrong CARGOBASE_BASE_URL, not a shrunk list
        log.warning("Cargobase: page %s no longer exists; restarting the listing", request.url)
    else:
        return
    yield from fetch(None)


def invoices(
    client: VendorClient,
    *,
    status: InvoiceStatus | str | None = None,
    submit_date: date | str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    start: Checkpoint = None,
) -> Iterator[InvoiceListPage]:
    """`InvoiceListPage`s of `Invoice`, newest first; store `page.checkpoint()` to resume with `start=`."""
    params = _filters(status, submit_date, page_size)

    def fetch(begin: PageRequest | None) -> Iterator[InvoiceListPage]:
        for page in client.paginate(PATH, params, NextUrl(), start=begin):
            yield _listed(page)

    return _restarting(fetch, _start(start))


def iter_invoices(client: VendorClient, **filters: Any) -> Iterator[Invoice]:
    """Every invoice matching the filters (see `invoices`), lazily."""
    for page in invoices(client, **filters):
        yield from page.records
