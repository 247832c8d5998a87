"""A JSON body cut short is retried when resending is safe, and the message names the real cause (issue 11 point 8)."""

from __future__ import annotations

import httpx
import pytest

from services.core import MalformedResponse, RetryPolicy, VendorClient, VendorSpec
from services.core.auth import TokenHeader
from services.core.pagination import NextUrl
from tests.services.test_core_retry import FakeTime, Script

BODY = b'{"results": [{"id": 1, "name": "Acme \xc3\xa9"}], "next": null}'
CUT = httpx.Response(200, content=BODY[:25], headers={"content-type": "application/json"})
CUT_MID_CHARACTER = httpx.Response(200, content=BODY[: BODY.index(b"\xa9")])
WHOLE = httpx.Response(200, content=BODY, headers={"content-type": "application/json"})


def client(script: Script, fake: FakeTime) -> VendorClient:
    retry = RetryPolicy(sleep=fake.sleep, clock=fake.clock, random=lambda: 1.0)
    spec = VendorSpec(name="Cargobase", base_url="https://cb.example/api/1", auth=TokenHeader("t0ken-abc"), retry=retry)
    return VendorClient(spec, transport=httpx.MockTransport(script))


@pytest.mark.parametrize("cut", [CUT, CUT_MID_CHARACTER], ids=["mid-document", "mid-character"])
def test_a_truncated_get_is_fetched_again(cut: httpx.Response) -> None:
    fake, script = FakeTime(), Script(cut, cut, WHOLE)
    assert client(script, fake).get_json("/invoices/") == {"results": [{"id": 1, "name": "Acme é"}], "next": None}
    assert len(script.requests) == 3 and fake.sleeps == [0.5, 1.0]


def test_pages_are_fetched_again_too() -> None:
    fake, script = FakeTime(), Script(CUT, WHOLE)
    pages = list(client(script, fake).paginate("/invoices/", None, NextUrl()))
    assert [p.records for p in pages] == [[{"id": 1, "name": "Acme é"}]] and len(script.requests) == 2


def test_always_truncated_names_the_cause_not_the_base_url() -> None:
    fake = FakeTime()
    script = Script(*[CUT] * 5)
    with pytest.raises(MalformedResponse) as caught:
        client(script, fake).get_json("/invoices/")
    message = str(caught.value)
    assert message == ("Cargobase answered GET /api/1/invoices/ with a JSON body cut short after 25 bytes (HTTP 200), "
                       "5 times in a row: the answer was truncated on the way (network, proxy or the vendor); "
                       "try again later")
    assert "BASE_URL" not in message and len(script.requests) == 5


def test_a_truncated_post_is_not_resent() -> None:
    fake, script = FakeTime(), Script(CUT)
    with pytest.raises(MalformedResponse, match="once \\(not resent: POST is not safe to repeat\\)"):
        client(script, fake).post_json("/orders/", json={"a": 1})
    assert len(script.requests) == 1 and fake.sleeps == []


def test_a_page_that_is_not_json_at_all_still_points_at_the_base_url() -> None:
    fake, script = FakeTime(), Script(httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(MalformedResponse, match="not JSON \\(HTTP 200\\): check CARGOBASE_BASE_URL"):
        client(script, fake).get_json("/invoices/")
    assert len(script.requests) == 1
