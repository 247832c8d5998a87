"""How Qasida writes values on the wire, inconsistencies included (the doc shows all of them):
dates without a zone on most entities but with `Z` on liabilities, booleans as "Y"/"N" strings on
products, a stock card `quantity` typed `<string>` (seeds/003 line 6303) next to numeric quantities.
All sandbox times are UTC; the zone-less ones are UTC wall time.
"""

from __future__ import annotations

from datetime import UTC, datetime


def naive(dt: datetime, micro: bool = False) -> str:
    """'2024-11-17T18:23:03' (UTC, no zone), with microseconds for change stamps."""
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds" if micro else "seconds")


def zulu(dt: datetime) -> str:
    """'2019-08-24T14:15:22Z', the liability list's format (seeds/003 line 165)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(cents: int) -> float:
    """A decimal JSON number for integer minor units.

    The float exists only to be serialised: below 10**13 cents the value has at most 15 significant
    digits, so Python's shortest round-trip repr writes exactly the decimal (12.5 for 1250 cents),
    and a client parsing with Decimal gets the exact amount."""
    return cents / 100


def yes_no(value: bool) -> str:
    return "Y" if value else "N"


def quantity_text(value: int) -> str:
    """A decimal string such as '125.000' (the stock card quantity typed <string>)."""
    return f"{value}.000"
