"""`GET /jurisdictions` and `GET /tax_ids` (seeds/001 lines 1173-1221): the jurisdictions the rate
table covers, and one tax ID per jurisdiction the account is registered in.

Jurisdiction ids are the sandbox's own (stable: the table's order), not Quaderno's. Regional
jurisdictions carry `region` and a "Country – Region" name, as the recorded list shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sandbox.quaderno import rates

_COUNTRY_NAMES = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "HR": "Croatia", "CY": "Cyprus",
    "CZ": "Czechia", "DK": "Denmark", "EE": "Estonia", "FI": "Finland", "FR": "France",
    "DE": "Germany", "GR": "Greece", "HU": "Hungary", "IE": "Ireland", "IT": "Italy",
    "LV": "Latvia", "LT": "Lithuania", "LU": "Luxembourg", "MT": "Malta", "NL": "Netherlands",
    "PL": "Poland", "PT": "Portugal", "RO": "Romania", "SK": "Slovakia", "SI": "Slovenia",
    "ES": "Spain", "SE": "Sweden", "GB": "United Kingdom", "US": "United States",
}  # fmt: skip
_STATE_NAMES = {"NY": "New York", "CA": "California", "TX": "Texas", "WA": "Washington"}
_OSS_NAME = "European Union – VAT OSS / IOSS"  # registering "EU" (rates.OSS)
TAX_ID_BASE = 5000  # tax-ID ids: base + the jurisdiction's id, so each registration keeps its id


@dataclass(frozen=True)
class Place:
    id: int
    key: str  # the registration key: "DE", "US-NY", "EU"
    country: str
    name: str
    region: str | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "country": self.country, "name": self.name}
        if self.region:
            out["region"] = self.region
        return out


def _places() -> tuple[Place, ...]:
    table = [*rates.EU_RATES.values(), rates.UK, *rates.US_STATES.values()]
    places = [
        Place(i, j.key, j.country, _name(j.country, j.region), j.region) for i, j in enumerate(table, 1)
    ]
    return (*places, Place(len(places) + 1, rates.OSS, rates.OSS, _OSS_NAME))


def _name(country: str, region: str | None) -> str:
    base = _COUNTRY_NAMES.get(country, country)
    return f"{base} – {_STATE_NAMES.get(region, region)}" if region else base


PLACES = _places()
_BY_KEY = {p.key: p for p in PLACES}


def jurisdictions(country: str | None = None, region: str | None = None) -> list[dict[str, Any]]:
    """Case-sensitive `country` / `region` filters, as documented (seeds/001 lines 1190-1191)."""
    return [
        p.body()
        for p in PLACES
        if (country is None or p.country == country) and (region is None or p.region == region)
    ]


def tax_ids(registrations: set[str] | frozenset[str], today: date) -> list[dict[str, Any]]:
    """One verified tax ID per registration the table knows (others have no jurisdiction to show),
    valid from the start of the year: the documented default of `valid_from` (seeds/001 l.1228)."""
    start = date(today.year, 1, 1)
    created = int(datetime(start.year, 1, 1, tzinfo=UTC).timestamp())
    places = sorted((_BY_KEY[k] for k in registrations if k in _BY_KEY), key=lambda p: p.id)
    return [
        {
            "id": TAX_ID_BASE + p.id,
            "jurisdiction": p.body(),
            "state": "verified",
            "valid_from": start.isoformat(),
            "valid_until": None,
            "value": _value(p),
            "created_at": created,
        }
        for p in places
    ]


def _value(place: Place) -> str:
    """A deterministic number per jurisdiction; not meant to pass a check-digit test."""
    return f"{place.key.replace('-', '')}{100_000_000 + place.id * 7_919}"
