"""services.core.pagination: each strategy's last page, the loop guard, checkpoints, replayed Quaderno pages."""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

import httpx
import pytest

from services.core import (
    CreatedBefore,
    CursorItems,
    MalformedResponse,
    NextUrl,
    NotFoundError,
    PageNumberEnvelope,
    PageRequest,
    Paginator,
    VendorClient,
    VendorSpec,
)
from services.core.auth import TokenHeader
from tests.vendor_docs import spec_path

QUADERNO = spec_path("vendor-specs/quaderno/extracted")  # copies, tests/fixtures/vendor_docs
BASE = "https://v.example/api"


class Pages:
    """Answers GETs in order from (body, headers) pairs and records the query of each request."""

    def __init__(self, *pages: tuple[Any, dict[str, str]]) -> None:
        self.pages = list(pages)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body, headers = self.pages.pop(0)
        return httpx.Response(200, json=body, headers=headers)

    def queries(self) -> list[dict[str, str]]:
        return [dict(r.url.params) for r in self.requests]


def client(handler: Any, base: str = BASE) -> VendorClient:
    spec = VendorSpec(name="Vendor", base_url=base, auth=TokenHeader("tok-123456"))
    return VendorClient(spec, transport=httpx.MockTransport(handler))


def records(pages: Pages, paginator: Paginator, params: dict[str, Any] | None = None) -> list[Any]:
    return list(client(pages).iter_records("/things", params, paginator))


# --- Qargo: items + next_cursor ----------------------------------------------------------------


def test_cursor_items_sends_the_cursor_alone_and_stops_without_next_cursor() -> None:
    pages = Pages(({"items": [1, 2], "next_cursor": "c1"}, {}), ({"items": [3], "next_cursor": None}, {}))
    assert records(pages, CursorItems(), {"updated_after": "2026-01-01"}) == [1, 2, 3]
    assert pages.queries() == [{"updated_after": "2026-01-01"}, {"cursor": "c1"}]


def test_pages_carry_a_checkpoint_to_resume_from() -> None:
    pages = Pages(({"items": [1], "next_cursor": "c1"}, {}), ({"items": [2]}, {}))
    got = list(client(pages).paginate("/things", {"a": 1}, CursorItems()))
    assert [p.checkpoint() for p in got] == [{"url": "/things", "params": {"cursor": "c1"}}, None]
    assert [p.number for p in got] == [1, 2]
    resumed = Pages(({"items": [2]}, {}))
    start = PageRequest.from_checkpoint(json.loads(json.dumps(got[0].checkpoint())))
    assert [p.records for p in client(resumed).paginate("/things", {"a": 1}, CursorItems(), start=start)] == [
        [2]
    ]
    assert resumed.queries() == [{"cursor": "c1"}]


def test_the_same_cursor_twice_stops_with_an_error() -> None:
    pages = Pages(*[({"items": [1], "next_cursor": "same"}, {})] * 3)
    with pytest.raises(MalformedResponse, match="same page cursor twice"):
        records(pages, CursorItems())
    assert len(pages.requests) == 2


def test_pages_are_bounded() -> None:
    pages = Pages(*[({"items": [n], "next_cursor": f"c{n}"}, {}) for n in range(5)])
    with pytest.raises(MalformedResponse, match="more than 3 pages"):
        list(client(pages).iter_records("/things", None, CursorItems(), max_pages=3))
    assert len(pages.requests) == 3


def test_a_wrong_shape_is_a_malformed_response() -> None:
    with pytest.raises(MalformedResponse, match="without a 'items' list"):
        records(Pages(({"data": []}, {})), CursorItems())


# --- Quaderno: created_before + X-Pages-* -----------------------------------------------------


def test_created_before_prefers_next_page_and_stops_on_has_more_false() -> None:
    pages = Pages(
        (
            [{"id": 9}, {"id": 8}],
            {"X-Pages-HasMore": "true", "X-Pages-NextPage": f"{BASE}/things?created_before=8"},
        ),
        ([{"id": 7}], {"X-Pages-HasMore": "false"}),
    )
    assert records(pages, CreatedBefore(), {"limit": 2}) == [{"id": 9}, {"id": 8}, {"id": 7}]
    assert pages.queries() == [{"limit": "2"}, {"created_before": "8"}]


def test_created_before_falls_back_to_the_last_id() -> None:
    pages = Pages(([{"id": 9}, {"id": 8}], {"X-Pages-HasMore": "true"}), ([{"id": 7}], {}))
    assert len(records(pages, CreatedBefore(), {"q": "acme"})) == 3  # no HasMore header: the end
    assert pages.queries() == [{"q": "acme"}, {"q": "acme", "created_before": "8"}]


def test_replayed_quaderno_pages_follow_next_page() -> None:
    recorded = {}
    for n in (0, 1):
        data = json.loads((QUADERNO / f"paginated_invoices__{n}.json").read_text())
        recorded[data["request"]["uri"]] = data

    def replay(request: httpx.Request) -> httpx.Response:
        data = recorded[str(request.url)]
        return httpx.Response(
            data["status"], json=data["body"], headers={k: v[0] for k, v in data["headers"].items()}
        )

    quaderno = client(replay, base="http://quaderno.lvh.me:3000/api")
    first, second = itertools.islice(quaderno.paginate("/invoices.json", None, CreatedBefore()), 2)
    assert (len(first.records), first.records[0]["id"], second.records[-1]["id"]) == (25, 1925214, 1925160)
    assert second.checkpoint() == {
        "url": "http://quaderno.lvh.me:3000/api/invoices.json?created_before=1925160",
        "params": {},
    }


# --- Qasida: PageNumber/PageSize envelope ------------------------------------------------------


def envelope(data: list[Any], next_page: str | None = "next", size: int = 2) -> tuple[Any, dict[str, str]]:
    return {"data": data, "pageNumber": 1, "pageSize": size, "nextPage": next_page, "previousPage": None}, {}


def test_page_number_envelope_walks_pages_and_stops_on_an_empty_page() -> None:
    pages = Pages(envelope([1, 2]), envelope([3, 4]), envelope([]))
    assert records(pages, PageNumberEnvelope(page_size=2), {"since": "2026-01-01"}) == [1, 2, 3, 4]
    assert [q["PageNumber"] for q in pages.queries()] == ["1", "2", "3"]
    assert pages.queries()[2] == {"since": "2026-01-01", "PageNumber": "3", "PageSize": "2"}


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        (envelope([3, 4], next_page=None), [1, 2, 3, 4]),
        (envelope([3, 4], next_page=""), [1, 2, 3, 4]),
        (([3, 4], {}), [1, 2, 3, 4]),
    ],
    ids=["null nextPage", "blank nextPage", "bare list"],
)
def test_page_number_envelope_defensive_ends(last: tuple[Any, dict[str, str]], expected: list[int]) -> None:
    pages = Pages(envelope([1, 2]), last, envelope([99, 99]))
    assert records(pages, PageNumberEnvelope(page_size=2)) == expected
    assert len(pages.requests) == 2


def test_page_number_envelope_walks_on_past_a_short_page() -> None:
    # A server that caps PageSize (or echoes pageSize 0, as seeds/003's sample does) is walked to the end.
    pages = Pages(envelope([1], size=0), envelope([2]), envelope([3], next_page=None))
    assert records(pages, PageNumberEnvelope(page_size=2)) == [1, 2, 3]
    assert len(pages.requests) == 3


def test_page_number_envelope_bare_list_first_answer_is_the_only_page() -> None:
    pages = Pages(([1, 2], {}), envelope([3, 4]))
    assert records(pages, PageNumberEnvelope(page_size=2)) == [1, 2]
    assert len(pages.requests) == 1


# --- Cargobase: next URL ------------------------------------------------------------------------


def test_next_url_follows_absolute_links_until_null() -> None:
    pages = Pages(
        ({"count": 3, "next": f"{BASE}/things?page=2&page_size=2", "previous": None, "results": [1, 2]}, {}),
        ({"count": 3, "next": None, "previous": f"{BASE}/things?page=1", "results": [3]}, {}),
    )
    assert records(pages, NextUrl(), {"page_size": 2, "status": "approved"}) == [1, 2, 3]
    assert pages.queries() == [{"page_size": "2", "status": "approved"}, {"page": "2", "page_size": "2"}]


def test_a_next_link_to_another_host_is_refused() -> None:
    pages = Pages(({"next": "https://evil.example/steal", "results": [1]}, {}))
    with pytest.raises(MalformedResponse, match="refusing to send credentials"):
        records(pages, NextUrl())
    assert len(pages.requests) == 1


# --- read-ahead: the next page fetched while the caller works on this one -----------------------------


def _numbered(count: int) -> Pages:
    return Pages(*[({"data": [n], "nextPage": n < count}, {}) for n in range(1, count + 1)])


def test_read_ahead_yields_the_same_pages_and_asks_for_the_next_before_it_is_needed() -> None:
    pages = _numbered(3)
    paginator = PageNumberEnvelope(page_size=1)
    listing = client(pages).paginate("/things", None, paginator, read_ahead=True)
    first = next(listing)
    deadline = time.monotonic() + 5
    while len(pages.requests) < 2 and time.monotonic() < deadline:  # the helper thread's request
        time.sleep(0.005)
    assert first.records == [1] and [q["PageNumber"] for q in pages.queries()] == ["1", "2"]
    rest = list(listing)
    assert [p.records for p in rest] == [[2], [3]] and [p.number for p in rest] == [2, 3]
    assert [q["PageNumber"] for q in pages.queries()] == ["1", "2", "3"]  # nothing beyond the last page
    assert rest[-1].next is None and rest[0].checkpoint() == {"url": "/things", "params": {
        "PageNumber": 3, "PageSize": 1}}


def test_read_ahead_raises_a_failed_page_where_the_caller_asks_for_it() -> None:
    answers = [httpx.Response(200, json={"data": [1], "nextPage": True}), httpx.Response(404, json={})]
    listing = client(lambda request: answers.pop(0)).paginate(
        "/things", None, PageNumberEnvelope(page_size=1), read_ahead=True)
    assert next(listing).records == [1]  # page 2's failure is not the first page's
    with pytest.raises(NotFoundError):
        next(listing)


def test_read_ahead_stopped_early_leaves_no_request_running() -> None:
    pages = _numbered(5)
    listing = client(pages).paginate("/things", None, PageNumberEnvelope(page_size=1), read_ahead=True)
    assert next(listing).records == [1]
    listing.close()  # waits for the page already asked for, asks for no other
    assert len(pages.requests) == 2
    assert not [t for t in threading.enumerate() if "read-ahead" in t.name]


def test_read_ahead_keeps_the_loop_guard() -> None:
    pages = Pages(*[({"data": [n], "nextPage": True}, {}) for n in range(1, 4)])
    listing = client(pages).paginate("/things", None, PageNumberEnvelope(page_size=1), read_ahead=True,
                                     max_pages=2)
    assert [p.records for p in itertools.islice(listing, 2)] == [[1], [2]]
    with pytest.raises(MalformedResponse, match="more than 2 pages"):
        next(listing)
    assert len(pages.requests) == 2  # the page past the bound is never asked for
