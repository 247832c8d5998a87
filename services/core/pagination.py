"""Pagination as data: small strategy objects, one loop (`paginate`) for every vendor.

A strategy reads a page's records and tells the loop which request fetches the next page.
Each `Page` carries `next` (a `PageRequest`, JSON-friendly): store `page.checkpoint()` after the
page's records are committed, and pass `PageRequest.from_checkpoint(...)` as `start` to resume.
The loop stops with `MalformedResponse` when a vendor repeats a request (a cursor loop) or when
more than `max_pages` pages come back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from services.core.errors import MalformedResponse

Params = dict[str, Any]


@dataclass(frozen=True)
class PageRequest:
    url: str  # a path below the base URL, or an absolute URL the vendor gave us
    params: Params = field(default_factory=dict)

    def checkpoint(self) -> dict[str, Any]:
        return {"url": self.url, "params": dict(self.params)}

    @classmethod
    def from_checkpoint(cls, data: Mapping[str, Any]) -> PageRequest:
        return cls(str(data["url"]), dict(data.get("params") or {}))

    def identity(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.url, tuple(sorted((k, str(v)) for k, v in self.params.items()))


@dataclass(frozen=True)
class Page:
    records: list[Any]
    response: httpx.Response
    request: PageRequest
    next: PageRequest | None
    number: int  # 1-based position in this run

    def checkpoint(self) -> dict[str, Any] | None:
        """Where to resume after this page; None when this was the last page."""
        return self.next.checkpoint() if self.next else None


class Paginator(Protocol):
    def first(self, path: str, params: Params) -> PageRequest: ...

    def records(self, vendor: str, body: Any) -> list[Any]: ...

    def next(
        self, current: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> PageRequest | None: ...


class _Fetcher(Protocol):
    name: str

    def request(self, method: str, url: str, *, params: Params | None = None) -> httpx.Response: ...

    def parse_json(self, response: httpx.Response) -> Any: ...


def _list_at(vendor: str, body: Any, key: str) -> list[Any]:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, list):
        raise MalformedResponse(
            f"{vendor} answered a list request without a '{key}' list: the API may have changed; "
            "report it with the request id",
            vendor=vendor,
        )
    return value


@dataclass(frozen=True)
class CursorItems:
    """Qargo: `{"items": [...], "next_cursor": "…"}`; the next request sends the cursor ALONE,
    since query parameters and the cursor are mutually exclusive (seeds/000 "Pagination")."""

    items_key: str = "items"
    cursor_key: str = "next_cursor"
    cursor_param: str = "cursor"

    def first(self, path: str, params: Params) -> PageRequest:
        return PageRequest(path, dict(params))

    def records(self, vendor: str, body: Any) -> list[Any]:
        return _list_at(vendor, body, self.items_key)

    def next(
        self, current: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> PageRequest | None:
        cursor = body.get(self.cursor_key)
        return PageRequest(current.url, {self.cursor_param: cursor}) if cursor else None


@dataclass(frozen=True)
class CreatedBefore:
    """Quaderno: a bare JSON list, newest first; `X-Pages-HasMore: true|false` and, when there is
    more, `X-Pages-NextPage` with the full URL (seeds/001 lines 64-72). NextPage is preferred; else
    `created_before=<last id>` is added to the original query. No HasMore header means no more."""

    param: str = "created_before"
    id_key: str = "id"

    def first(self, path: str, params: Params) -> PageRequest:
        return PageRequest(path, dict(params))

    def records(self, vendor: str, body: Any) -> list[Any]:
        if not isinstance(body, list):
            raise MalformedResponse(f"{vendor} answered a list request without a JSON list", vendor=vendor)
        return body

    def next(
        self, current: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> PageRequest | None:
        if response.headers.get("x-pages-hasmore", "").strip().lower() != "true" or not records:
            return None
        if next_page := response.headers.get("x-pages-nextpage"):
            return PageRequest(next_page.strip())
        last = records[-1].get(self.id_key) if isinstance(records[-1], dict) else None
        return PageRequest(current.url, {**current.params, self.param: last}) if last is not None else None


@dataclass(frozen=True)
class PageNumberEnvelope:
    """Qasida: `PageNumber`/`PageSize` in, `{data, pageNumber, pageSize, nextPage, previousPage}` out
    (seeds/003 lines 150-173). The document says nothing about short pages and its own sample echoes
    `"pageSize": 0`, so neither the page length nor the echoed size means "last page" (a server that
    caps PageSize below what we asked would end the walk after page one). A listing ends only on a
    null, absent or blank `nextPage`, an empty page, or a bare list instead of the envelope (the one
    and only page). docs/qasida-paths.md, "Readings of the document"."""

    page_size: int = 100
    first_page: int = 1
    number_param: str = "PageNumber"
    size_param: str = "PageSize"
    data_key: str = "data"

    def first(self, path: str, params: Params) -> PageRequest:
        return PageRequest(
            path, {**params, self.number_param: self.first_page, self.size_param: self.page_size}
        )

    def records(self, vendor: str, body: Any) -> list[Any]:
        return body if isinstance(body, list) else _list_at(vendor, body, self.data_key)

    def next(
        self, current: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> PageRequest | None:
        if not isinstance(body, dict) or not records or not body.get("nextPage"):
            return None
        number = int(current.params.get(self.number_param, self.first_page)) + 1
        return PageRequest(current.url, {**current.params, self.number_param: number})


@dataclass(frozen=True)
class NextUrl:
    """Cargobase: `{count, next, previous, results}`; `next` is a full URL or null (seeds/004)."""

    results_key: str = "results"
    next_key: str = "next"

    def first(self, path: str, params: Params) -> PageRequest:
        return PageRequest(path, dict(params))

    def records(self, vendor: str, body: Any) -> list[Any]:
        return _list_at(vendor, body, self.results_key)

    def next(
        self, current: PageRequest, response: httpx.Response, body: Any, records: list[Any]
    ) -> PageRequest | None:
        url = body.get(self.next_key)
        return PageRequest(url) if isinstance(url, str) and url else None


def paginate(
    client: _Fetcher,
    path: str,
    params: Mapping[str, Any] | None,
    paginator: Paginator,
    *,
    start: PageRequest | None = None,
    max_pages: int = 1000,
    read_ahead: bool = False,
) -> Iterator[Page]:
    """Fetch page after page, lazily, until the strategy says stop.

    `read_ahead`: while the caller works on a page, the next one is already being fetched (one request
    ahead, in a helper thread), so the vendor's time and the network overlap the caller's writes. For
    listings that are read to the end from a vendor without a request budget: a caller that stops early
    has made one request more. Errors surface where they would without it: when the next page is asked for."""
    request: PageRequest | None = start or paginator.first(path, dict(params or {}))
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    number = 0
    ahead = _ReadAhead(client) if read_ahead else None
    try:
        while request is not None:
            _guard(client.name, request, seen, number, max_pages)
            response, body = ahead.take(request) if ahead else _get(client, request)
            records = paginator.records(client.name, body)
            number += 1
            following = paginator.next(request, response, body, records)
            if ahead and following is not None and following.identity() not in seen and number < max_pages:
                ahead.start(following)
            yield Page(records, response, request, following, number)
            request = following
    finally:
        if ahead:
            ahead.close()


class _ReadAhead:
    """At most one page request in flight in a helper thread."""

    def __init__(self, client: _Fetcher) -> None:
        self.client = client
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{client.name}-read-ahead")
        self.pending: tuple[PageRequest, Future[tuple[httpx.Response, Any]]] | None = None

    def start(self, request: PageRequest) -> None:
        self.pending = (request, self.pool.submit(_get, self.client, request))

    def take(self, request: PageRequest) -> tuple[httpx.Response, Any]:
        pending, self.pending = self.pending, None
        if pending is not None and pending[0] == request:
            return pending[1].result()
        return _get(self.client, request)

    def close(self) -> None:
        """Wait for a request still in flight (it must not outlive the listing that uses the client)."""
        if self.pending is not None and not self.pending[1].cancel():
            with suppress(Exception):  # the caller stopped before asking for this page: its outcome is moot
                self.pending[1].result()
        self.pool.shutdown(wait=True)


def _get(client: _Fetcher, request: PageRequest) -> tuple[httpx.Response, Any]:
    """One page: through `request_json` (a truncated page is fetched again) when the client has it."""
    fetch = getattr(client, "request_json", None)
    if fetch is not None:
        response, body = fetch("GET", request.url, params=request.params or None)
        return response, body
    response = client.request("GET", request.url, params=request.params or None)
    return response, client.parse_json(response)


def _guard(vendor: str, request: PageRequest, seen: set[Any], number: int, max_pages: int) -> None:
    if request.identity() in seen:
        raise MalformedResponse(
            f"{vendor} sent the same page cursor twice ({request.url}): stopped to avoid a loop; "
            "the records so far are complete, report the repeat to the vendor",
            vendor=vendor,
        )
    if number >= max_pages:
        raise MalformedResponse(
            f"{vendor} returned more than {max_pages} pages: stopped; raise max_pages if that is expected",
            vendor=vendor,
        )
    seen.add(request.identity())


def iter_records(
    client: _Fetcher,
    path: str,
    params: Mapping[str, Any] | None,
    paginator: Paginator,
    *,
    max_pages: int = 1000,
) -> Iterator[Any]:
    """Every record of every page, lazily (the auto-paging iterator)."""
    for page in paginate(client, path, params, paginator, max_pages=max_pages):
        yield from page.records
