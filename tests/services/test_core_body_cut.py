"""An answer whose body breaks off mid-way is a read error naming the cut, never "could not reach ... check the
base URL" (issue 22): resent when that is safe, a POST not."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from services.core import RetryPolicy, VendorClient, VendorConnectionError, VendorReadError, VendorSpec
from services.core.auth import TokenHeader
from tests.services.test_core_retry import FakeTime, Script

WHOLE = b'{"results": [{"id": 1}], "next": null}'


class Cut(httpx.SyncByteStream):
    """The first 13 bytes of the body, then the connection resets."""

    def __iter__(self) -> Iterator[bytes]:
        yield WHOLE[:13]
        raise httpx.ReadError("connection reset by peer")


def cut() -> httpx.Response:
    return httpx.Response(200, stream=Cut(), headers={"content-length": str(len(WHOLE))})


def client(script: Script, fake: FakeTime) -> VendorClient:
    retry = RetryPolicy(sleep=fake.sleep, clock=fake.clock, random=lambda: 1.0)
    spec = VendorSpec(name="Cargobase", base_url="https://cb.example/api/1", auth=TokenHeader("t0ken-abc"), retry=retry)
    return VendorClient(spec, transport=httpx.MockTransport(script))


def test_a_get_cut_mid_body_is_fetched_again() -> None:
    fake, script = FakeTime(), Script(cut(), httpx.Response(200, content=WHOLE))
    assert client(script, fake).get_json("/invoices/") == {"results": [{"id": 1}], "next": None}
    assert len(script.requests) == 2 and fake.sleeps == [0.5]


def test_always_cut_names_the_cut_not_the_base_url() -> None:
    fake, script = FakeTime(), Script(*(cut() for _ in range(5)))
    with pytest.raises(VendorReadError) as caught:
        client(script, fake).get_json("/invoices/")
    assert str(caught.value) == (
        "Cargobase answered GET /api/1/invoices/ (HTTP 200) but the connection broke after 13 bytes of the body "
        "(ReadError), 5 times in a row: the answer was cut off on the way (network, proxy or the vendor); "
        "try again later")
    assert caught.value.status == 200 and not isinstance(caught.value, VendorConnectionError)
    assert "BASE_URL" not in str(caught.value) and "reach" not in str(caught.value)


def test_a_post_cut_mid_body_is_not_resent() -> None:
    fake, script = FakeTime(), Script(cut())
    with pytest.raises(VendorReadError, match="once \\(not resent: POST is not safe to repeat\\)"):
        client(script, fake).post_json("/orders/", json={"a": 1})
    assert len(script.requests) == 1 and fake.sleeps == []


def test_no_answer_at_all_still_says_could_not_reach() -> None:
    fake, script = FakeTime(), Script(*[httpx.ConnectError] * 5)
    with pytest.raises(VendorConnectionError, match="Could not reach Cargobase"):
        client(script, fake).get_json("/invoices/")
