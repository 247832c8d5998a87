"""Cargobase invoice list: documented fields, both status spellings normalise to one value."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.cargobase.models import Invoice, InvoicePage, InvoiceStatus, normalize_status


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Awaiting audit", InvoiceStatus.AWAITING_AUDIT),
        ("awaiting_audit", InvoiceStatus.AWAITING_AUDIT),
        ("Approved", InvoiceStatus.APPROVED),
        ("declined", InvoiceStatus.DECLINED),
        ("Removed", InvoiceStatus.REMOVED),
        ("Canceled", InvoiceStatus.CANCELED),
        ("cancelled", InvoiceStatus.CANCELED),
        ("Unsubmitted", InvoiceStatus.UNSUBMITTED),
        ("AWAITING-AUDIT", InvoiceStatus.AWAITING_AUDIT),
    ],
)
def test_status_spellings(raw: str, expected: InvoiceStatus) -> None:
    assert Invoice.model_validate({"invoice_status": raw}).invoice_status is expected


def test_unknown_status_is_kept_as_text() -> None:
    assert normalize_status("On hold") == "on_hold"
    assert Invoice.model_validate({"invoice_status": "On hold"}).invoice_status == "on_hold"


def test_page_with_footer() -> None:
    page = InvoicePage.model_validate(
        {
            "count": 51,
            "page": "1",
            "record_start": 1,
            "record_end": 50,
            "previous": None,
            "next": "https://pluto.cargobase.com/api/1/invoices/?page=2",
            "results": [
                {
                    "shipment_reference": "CB-1001",
                    "invoice_reference": "Shoes to Ghent",
                    "invoice_status": "Awaiting audit",
                    "provider_name": "DHL Global Forwarding",
                    "provider_invoice_number": "INV-77",
                    "freight_mode": "Air",
                    "primary_tracking_number": "HAWB123",
                    "submit_date": "2024-05-02",
                    "modified": "2024-05-03T10:15:00",
                }
            ],
        }
    )
    invoice = page.results[0]
    assert (page.count, page.page, page.record_end) == (51, 1, 50)
    assert invoice.submit_date == date(2024, 5, 2)
    assert invoice.modified == datetime(2024, 5, 3, 10, 15, tzinfo=UTC)  # "in UTC" (seeds/004 line 30)
    assert invoice.provider_invoice_number == "INV-77"
