"""The Quaderno simulator's tax engine and document maths, without a server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from sandbox.context import Clock
from sandbox.quaderno import rates
from sandbox.quaderno.documents import Book
from sandbox.quaderno.http import render
from sandbox.world import World

EU_MEMBERS = {
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
}
EVERYWHERE = frozenset({"EU", "GB", "US-NY", "US-CA", "US-TX", "US-WA"})


def test_every_member_state_has_a_rate() -> None:
    assert set(rates.EU_RATES) == EU_MEMBERS
    assert all(Decimal(15) <= j.standard <= Decimal(27) for j in rates.EU_RATES.values())


@pytest.mark.parametrize(
    ("country", "on", "rate"),
    [
        ("FI", date(2024, 8, 31), Decimal(24)),
        ("FI", date(2024, 9, 1), Decimal("25.5")),
        ("SK", date(2024, 12, 31), Decimal(20)),
        ("SK", date(2025, 1, 1), Decimal(23)),
    ],
)
def test_rate_changes_follow_the_transaction_date(country: str, on: date, rate: Decimal) -> None:
    answer = rates.calculate(rates.Query(to_country=country, on=on), EVERYWHERE, on)
    assert answer["rate"] == rate and answer["status"] == "taxable"


def test_oss_registration_covers_every_member_state() -> None:
    today = date(2025, 3, 1)
    statuses = {c: rates.calculate(rates.Query(to_country=c), {"EU"}, today)["status"] for c in EU_MEMBERS}
    assert set(statuses.values()) == {"taxable"}
    assert rates.calculate(rates.Query(to_country="GB"), {"EU"}, today)["status"] == "not_registered"


def test_us_states_by_zip_and_partial_taxation() -> None:
    today = date(2025, 3, 1)
    texas = rates.calculate(
        rates.Query(to_country="US", to_postal_code="75201", tax_code="saas", amount=Decimal(100)),
        EVERYWHERE,
        today,
    )
    assert (texas["region"], texas["rate"], texas["taxable_part"]) == ("TX", Decimal("6.25"), Decimal("80.0"))
    assert texas["tax_amount"] == Decimal("5.00")  # 100 x 6.25 % x 80 %
    california = rates.calculate(
        rates.Query(to_country="US", to_postal_code="94105", tax_code="saas"), EVERYWHERE, today
    )
    assert california["status"] == "non_taxable"
    assert rates.us_state("98101") == "WA" and rates.us_state("ABC") is None


def test_amounts_round_half_up_to_the_cent() -> None:
    assert rates.amounts(Decimal("0.05"), Decimal(10), Decimal(100), "exclusive") == (
        Decimal("0.05"),
        Decimal("0.01"),
        Decimal("0.06"),
    )
    subtotal, tax, total = rates.amounts(Decimal(10), Decimal("8.875"), Decimal(100), "inclusive")
    assert subtotal + tax == total == Decimal("10.00")


def test_render_keeps_decimals_exact_on_the_wire() -> None:
    body = render({"a": Decimal("0.10"), "b": [Decimal("8.875")], "s": "x\x00y"}).body
    assert body == b'{"a":0.10,"b":[8.875],"s":"x\\u0000y"}'


def test_invoice_state_moves_with_the_business_clock() -> None:
    clock = Clock()
    book = Book(World(seed=1), clock)
    unpaid = next(
        k
        for k in range(book.n_invoices, 0, -1)
        if book.payment(k).paid_at is None and book.credit_of(k) is None and not book.payment(k).uncollectible
    )
    due = book.payment(unpaid).due
    clock.offset = datetime.combine(due, datetime.min.time(), UTC) - datetime.now(UTC)
    assert book.invoice_state(unpaid, clock.now()) == "outstanding"
    clock.advance(timedelta(days=2).total_seconds())
    assert book.invoice_state(unpaid, clock.now()) == "late"


def test_credit_notes_target_distinct_invoices_and_mark_them_paid() -> None:
    book = Book(World(seed=1), Clock())
    targets = [book.credit_target(j) for j in range(1, book.n_credits + 1)]
    assert len(set(targets)) == len(targets) and targets == sorted(targets)
    assert all(book.credit_of(k) == j for j, k in enumerate(targets, start=1))
    assert all(book.invoice_state(k, book.clock.now()) == "paid" for k in targets)
    created = [book.credit_created(j) for j in range(1, book.n_credits + 1)]
    assert created == sorted(created) and created[-1] <= book.world.anchor
