"""ui/format.py: numbers, money, quantities, dates and times as people read them (Babel, OPSDASH_LOCALE)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ui import format as fmt


@pytest.fixture(autouse=True)
def english_in_berlin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDASH_LOCALE", "en")
    monkeypatch.setenv("OPSDASH_TIMEZONE", "Europe/Berlin")
    from services.settings import get_settings
    get_settings.cache_clear()


@pytest.mark.parametrize(("amount", "currency", "minor", "expected"), [
    (627224368, "EUR", True, "6,272,243.68 EUR"),
    (Decimal("6272243.68"), "EUR", False, "6,272,243.68 EUR"),
    ("2624835.93", "GBP", False, "2,624,835.93 GBP"),
    (123456, "JPY", True, "123,456 JPY"),           # no decimals in yen
    (1234567, "KWD", True, "1,234.567 KWD"),        # three in dinar
    (Decimal("12.3456"), "CZK", False, "12.3456 CZK"),  # more digits than the currency: kept, exact
    (Decimal("123456789012345678.01"), "EUR", False, "123,456,789,012,345,678.01 EUR"),  # beyond a double
    (None, "EUR", False, "—"),
])
def test_money_is_grouped_and_exact(amount: object, currency: str, minor: bool, expected: str) -> None:
    assert fmt.money(amount, currency, minor=minor) == expected


def test_the_locale_decides_the_marks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDASH_LOCALE", "de_DE")
    assert fmt.money(627224368, "EUR", minor=True) == "6.272.243,68 EUR"
    assert fmt.number(1234567) == "1.234.567"
    assert fmt.plotly_separators() == ",."


def test_an_unknown_locale_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDASH_LOCALE", "xx_NOPE")
    assert fmt.number(12345) == "12,345"


def test_signed_money_has_no_sign_for_nothing() -> None:
    assert fmt.signed_money(0, "GBP", minor=True) == "0.00 GBP"
    assert fmt.signed_money(-1200, "EUR", minor=True) == "−12.00 EUR"
    assert fmt.signed_money(Decimal("1234.5"), "EUR") == "+1,234.50 EUR"


def test_numbers_quantities_percent_and_blanks() -> None:
    assert fmt.number(38.3536, 1) == "38.4"
    assert fmt.number(12345) == "12,345"
    assert fmt.quantity(Decimal("1250.5"), "kg") == "1,250.5 kg"
    assert fmt.quantity(12, None) == "12"
    assert fmt.percent("21") == "21.0 %"
    for blank in (None, float("nan"), "", "  "):
        assert fmt.number(blank) == fmt.money(blank, "EUR") == fmt.day(blank) == fmt.when(blank) == "—"


def test_times_are_local_and_relative() -> None:
    # 23:30 UTC on Nov 29 is already Nov 30 in Berlin: the date people see is the business date
    assert fmt.day("2026-11-29T23:30:00Z") == "Nov 30, 2026"
    assert fmt.when("2026-11-29T08:35:45.779Z") == "Nov 29, 2026, 9:35\u202fAM"
    assert fmt.day("2026-11-29") == "Nov 29, 2026"
    now = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    assert fmt.ago(now - timedelta(minutes=3), now) == "3 min ago"
    assert fmt.ago(now - timedelta(seconds=10), now) == "just now"
    assert fmt.ago(now + timedelta(hours=2), now) == "in 2 hr"


@pytest.mark.parametrize(("code", "words"), [
    ("INVOICE_READY", "Invoice ready"), ("awaiting_audit", "Awaiting audit"), ("vat_number", "VAT number"),
    ("never synced", "Never synced"), ("Duplicate — already in Qargo", "Duplicate — already in Qargo"),
    ("ok", "OK"), (None, "—")])
def test_statuses_and_headers_as_words(code: str | None, words: str) -> None:
    assert fmt.words(code) == words


def test_freshness_line_names_what_is_stale() -> None:
    from types import SimpleNamespace as S

    now = datetime(2026, 11, 29, 9, 45, tzinfo=UTC)
    fresh = S(label="Qargo orders", state="ok", last_success_at="2026-11-29T09:42:00Z")
    stale = S(label="Qasida stock levels", state="stale", last_success_at="2026-11-29T08:00:00Z")
    assert fmt.freshness_line([fresh], now) == "Data as of 10:42\u202fAM · 3 min ago · all sources fresh"
    assert fmt.freshness_line([fresh, stale], now).endswith("· Qasida stock levels stale")
