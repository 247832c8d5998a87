"""Cargobase readings of issue 18 (points 4 and 7), from seeds/004 transcribed here (no file is read).

- seeds/004 line 47: footer `count` INTEGER "Total number of Invoices available to the user, across all pages".
- seeds/004 line 74: "paginated with 50 results per page by default. Results are displayed in descending
  order, that means that result 1 on page 1 is the newest addition."
- seeds/004 line 29: `submit_date` STRING "The initial date the invoice was submitted" (format not given;
  the filter takes YYYY-MM-DD, line 56). A bare date stays as it is; a timestamp becomes its business date.

Worked by hand (point 4), invoices 7..1 newest first, pages of 3: page 1 = 7 6 5 (count 7). Invoice 7 leaves
before page 2 is asked for: the list is 6..1, page 2 = positions 4-6 = 3 2 1 (count 6), and invoice 4 slid to
page 1 unread. The read saw 6 distinct invoices under counts {7, 6}: not verified, so it must not mark 4 gone.
Read again: 6 5 4 | 3 2 1, counts {6}, 6 seen = 6: verified; only 7 is missing, so only 7 may be marked gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from services.cargobase.client import make_client
from services.cargobase.models import Invoice
from services.settings import Settings, get_settings
from sync import mappers
from sync.engine import SyncState
from sync.vendors import cargobase as cargobase_sync

# seeds/004 lines 22-30: the documented fields, with values of ours (the document gives none).
RECORD: dict[str, Any] = {
    "shipment_reference": "CB-SHP-0001", "invoice_reference": "Shipment to Rotterdam",
    "invoice_status": "Awaiting audit", "provider_name": "Falcon Forwarding",
    "provider_invoice_number": "FF-2026-0042", "freight_mode": "Air", "primary_tracking_number": "HAWB-998877",
    "submit_date": "2026-11-18", "modified": "2026-11-19T08:15:30Z",
}


class SevenInvoices:
    """The hand example above: invoice 7 leaves after the first page request."""

    def __init__(self) -> None:
        self.listed, self.requests = [7, 6, 5, 4, 3, 2, 1], 0

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        size, number = int(request.url.params["page_size"]), int(request.url.params.get("page", 1))
        chunk = self.listed[(number - 1) * size: number * size]
        more = number * size < len(self.listed)
        body = {"count": len(self.listed), "page": number, "previous": None,
                "next": str(request.url.copy_set_param("page", number + 1)) if more else None,
                "results": [{**RECORD, "shipment_reference": f"CB{k}", "provider_invoice_number": f"P{k}"}
                            for k in chunk]}
        if self.requests == 1:
            self.listed.remove(7)
        return httpx.Response(200, json=body)


def test_a_read_the_list_shifted_under_is_read_again_and_only_the_second_vouches(db_path: Path | str) -> None:
    vendor = SevenInvoices()
    settings = Settings(opsdash_db=db_path, cargobase_base_url="https://pluto.cargobase.com/api/1",
                        cargobase_token=SecretStr("tok"))
    fetch = cargobase_sync.verified_reads(page_size=3)
    with make_client(settings, transport=httpx.MockTransport(vendor.answer), sleep=lambda s: None) as client:
        pages = list(fetch(client, SyncState()))
    seen = [[r.shipment_reference for r in p.records] for p in pages]
    assert seen == [["CB7", "CB6", "CB5"], ["CB3", "CB2", "CB1"], ["CB6", "CB5", "CB4"], ["CB3", "CB2", "CB1"]]
    assert [getattr(p, "verified", None) for p in pages] == [None, False, None, True]
    assert pages[1].checkpoint() == {"url": "/invoices/", "params": {"page_size": 3}}  # read again from page 1
    assert pages[3].checkpoint() is None


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPSDASH_TIMEZONE", "Europe/Berlin")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("berlin")
@pytest.mark.parametrize(("sent", "stored"), [
    ("2026-11-18", "2026-11-18"),  # a calendar date stays as it is
    ("2026-11-18T23:30:00Z", "2026-11-19"),  # 00:30 CET on the 19th
    ("2026-11-18T22:59:59Z", "2026-11-18"),  # 23:59:59 CET on the 18th
])
def test_submit_date_is_a_business_date(sent: str, stored: str) -> None:
    row = mappers.cargobase_invoice(Invoice.model_validate({**RECORD, "submit_date": sent}))
    assert row["submit_date"] == stored
    assert row["modified"] == "2026-11-19T08:15:30.000Z"  # "Date and Time in UTC" (line 30): stays UTC
