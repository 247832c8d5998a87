"""The sandbox's shared world: customers, products and warehouses that every vendor sees.

Deterministic for a seed: the same seed and scale give the same world on any machine and any day
(dates are anchored at the start of the current UTC day, so "overdue" stays meaningful).
Each vendor derives its own records from this world with `world.rng(vendor, ...)`, so the same
customers appear in the ERP, the TMS and the tax engine, and invoices reference orders.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Literal

from stdnum import get_cc_module

Scale = Literal["small", "large"]

# Record counts per scale. `large` meets the benchmark floor: >= 100k orders,
# 200k invoices and 500k stock rows across the vendors.
SIZES: dict[str, dict[str, int]] = {
    "small": {
        "customers": 60,
        "products": 120,
        "warehouses": 4,
        "erp_orders": 400,
        "qargo_orders": 40,
        "quaderno_invoices": 300,
        "quaderno_credits": 30,
        "qasida_liabilities": 150,
        "cargobase_invoices": 120,
        "upwell_invoices": 60,
        "resources": 30,
    },
    "large": {
        "customers": 2_000,
        "products": 10_000,
        "warehouses": 50,
        "erp_orders": 100_000,
        "qargo_orders": 2_000,
        "quaderno_invoices": 100_000,
        "quaderno_credits": 5_000,
        "qasida_liabilities": 50_000,
        "cargobase_invoices": 50_000,
        "upwell_invoices": 5_000,
        "resources": 500,
    },
}

# (country, currency, VAT pattern: "9" = digit, other characters literal), weighted by business mix.
_EU_VAT: tuple[tuple[str, str, str], ...] = (
    ("DE", "EUR", "DE#99999999"),
    ("DE", "EUR", "DE#99999999"),
    ("NL", "EUR", "NL999999999B01"),
    ("BE", "EUR", "BE0999999999"),
    ("IT", "EUR", "IT99999999999"),
    ("AT", "EUR", "ATU99999999"),
    ("PL", "PLN", "PL9999999999"),
    ("DK", "DKK", "DK99999999"),
    ("SE", "SEK", "SE999999999901"),
    ("PT", "EUR", "PT999999999"),
    ("GB", "GBP", "GB999999999"),
)
_US_STATES = (("US", "USD", "NY"), ("US", "USD", "CA"), ("US", "USD", "TX"), ("US", "USD", "WA"))

_COMPANY_A = ("Nord", "Alpen", "Rhein", "Baltic", "Atlas", "Meridian", "Polar", "Delta", "Orion", "Vega",
              "Iberia", "Danube", "Hansa", "Lumen", "Summit", "Harbor", "Cedar", "Falcon", "Granite", "Aurora")
_COMPANY_B = ("Logistik", "Trading", "Foods", "Metals", "Textiles", "Pharma", "Retail", "Components",
              "Beverages", "Paper", "Plastics", "Tools", "Electronics", "Furniture", "Chemicals")
_COMPANY_C = ("GmbH", "B.V.", "NV", "S.p.A.", "AG", "Sp. z o.o.", "A/S", "AB", "Lda", "Ltd", "Inc.", "LLC")
_CITIES = {
    "DE": [("Hamburg", "20457"), ("Berlin", "10115"), ("Munich", "80331")],
    "NL": [("Rotterdam", "3011"), ("Amsterdam", "1012")],
    "BE": [("Antwerp", "2000"), ("Brussels", "1000")],
    "IT": [("Milan", "20121"), ("Genoa", "16121")],
    "AT": [("Vienna", "1010"), ("Linz", "4020")],
    "PL": [("Warsaw", "00-001"), ("Gdansk", "80-001")],
    "DK": [("Copenhagen", "1050"), ("Aarhus", "8000")],
    "SE": [("Stockholm", "111 20"), ("Gothenburg", "411 01")],
    "PT": [("Lisbon", "1100-148"), ("Porto", "4000-322")],
    "GB": [("London", "EC1A 1BB"), ("Felixstowe", "IP11 3SY")],
    "US": [("New York", "10001"), ("Los Angeles", "90001"), ("Houston", "77001"), ("Seattle", "98101")],
}
_PRODUCT_NOUNS = ("Pallet", "Crate", "Drum", "Carton", "Coil", "Sack", "Roll", "Case", "Bin", "Tote")
_PRODUCT_ADJ = ("Steel", "Oak", "Frozen", "Organic", "Industrial", "Premium", "Bulk", "Compact", "Heavy", "Light")


@dataclass(frozen=True)
class Customer:
    id: int
    code: str  # shared business key: ERP customer code = TMS customer reference = tax contact ref
    name: str
    country: str
    currency: str
    vat_number: str | None  # with country prefix, e.g. "DE123456789"; None for US customers
    vat_valid: bool  # False for the few numbers generated with a broken check digit
    city: str
    postal_code: str
    street: str
    email: str
    region: str | None = None  # US state


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    name: str
    unit: str
    price_cents: int
    weight_kg: int
    reorder_threshold: int


@dataclass(frozen=True)
class Warehouse:
    id: int
    code: str
    name: str
    country: str
    city: str


@dataclass
class World:
    seed: int = 1
    scale: Scale = "small"
    factor: float = 1.0  # `--factor`: 0.5 or 2 times the scale's counts, so benchmarks show growth
    anchor: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    )

    @cached_property
    def sizes(self) -> dict[str, int]:
        return scaled_sizes(self.scale, self.factor)

    def rng(self, *parts: object) -> random.Random:
        """An independent, deterministic random stream for (seed, *parts)."""
        key = "/".join(str(p) for p in (self.seed, self.scale, *parts)).encode()
        return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))

    def days_ago(self, days: float) -> datetime:
        return self.anchor - timedelta(days=days)

    # Cross-vendor links. ERP (Qasida) customer order i (1-based) is the business's sales order;
    # Quaderno invoices, Qasida liabilities and Qargo transport orders refer to it by number.
    def order_number(self, i: int) -> str:
        return f"SO-{i:07d}"

    def order_customer(self, i: int) -> Customer:
        key = hashlib.sha256(f"{self.seed}/order-customer/{i}".encode()).digest()
        return self.customers[int.from_bytes(key[:4], "big") % len(self.customers)]

    def order_date(self, i: int) -> datetime:
        """Orders are numbered in time order over the last 365 days (newest = highest i)."""
        n = self.sizes["erp_orders"]
        return self.anchor - timedelta(days=365 * (n - i) / n, hours=(i * 7) % 24)

    def invoice_number(self, i: int) -> str:
        """The sales invoice for ERP order i (Quaderno invoice number, Qasida liability document)."""
        return f"INV-{self.anchor.year}-{i:07d}"

    @cached_property
    def customers(self) -> list[Customer]:
        rng = self.rng("customers")
        return [_customer(rng, i) for i in range(1, self.sizes["customers"] + 1)]

    @cached_property
    def products(self) -> list[Product]:
        rng = self.rng("products")
        return [_product(rng, i) for i in range(1, self.sizes["products"] + 1)]

    @cached_property
    def warehouses(self) -> list[Warehouse]:
        rng = self.rng("warehouses")
        out = []
        for i in range(1, self.sizes["warehouses"] + 1):
            country = rng.choice(("DE", "NL", "BE", "PL", "IT"))
            city = rng.choice(_CITIES[country])[0]
            out.append(Warehouse(i, f"WH{i:03d}", f"{city} DC {i}", country, city))
        return out


# Counts a factor leaves alone: the number of warehouses is the shape of the business, and scaling it
# as well as the products would grow the stock rows (one per warehouse and product) by factor squared.
_FIXED = frozenset({"warehouses"})


def scaled_sizes(scale: Scale, factor: float = 1.0) -> dict[str, int]:
    """The scale's record counts times `factor` (at least 1 each); factor 1 is the scale itself.

    The random streams do not depend on the factor (`World.rng` keys on seed and scale), so a world at
    2x holds the 1x world's customers and products plus as many again, deterministically for a seed."""
    base = SIZES[scale]
    if factor == 1:
        return dict(base)
    return {name: n if name in _FIXED else max(1, round(n * factor)) for name, n in base.items()}


def _customer(rng: random.Random, i: int) -> Customer:
    name = f"{rng.choice(_COMPANY_A)} {rng.choice(_COMPANY_B)} {rng.choice(_COMPANY_C)}"
    if rng.random() < 0.15:
        country, currency, region = rng.choice(_US_STATES)
        vat, vat_valid = None, True
    else:
        country, currency, pattern = rng.choice(_EU_VAT)
        region = None
        vat = _valid_vat(rng, country, pattern)
        vat_valid = rng.random() >= 0.05
        if not vat_valid:  # a typo in the last digit: fails the check digit offline
            vat = vat[:-1] + str((int(vat[-1]) + 1) % 10) if vat[-1].isdigit() else vat[:-2] + "00"
            vat_valid = _is_valid(country, vat)
    city, postal = rng.choice(_CITIES[country])
    if region:  # a US customer's city must lie in its state (tax is computed from the postal code)
        city, postal = _CITIES["US"][[s for _, _, s in _US_STATES].index(region)]
    slug = name.split()[0].lower() + str(i)
    return Customer(
        id=i, code=f"C{i:05d}", name=name, country=country, currency=currency, vat_number=vat,
        vat_valid=vat_valid, city=city, postal_code=postal, street=f"{rng.randint(1, 240)} Harbour Road",
        email=f"ap@{slug}.example", region=region,
    )


def _valid_vat(rng: random.Random, country: str, pattern: str) -> str:
    for _ in range(5_000):
        digits = "".join(str(rng.randint(1, 9)) if ch == "#" else str(rng.randint(0, 9)) if ch == "9"
                         else ch for ch in pattern)
        if _is_valid(country, digits):
            return digits
    raise RuntimeError(f"could not generate a valid VAT number for {country}")


def _is_valid(country: str, number: str) -> bool:
    module = get_cc_module(country.lower(), "vat")
    return bool(module and module.is_valid(number))


def _product(rng: random.Random, i: int) -> Product:
    return Product(
        id=i, sku=f"SKU-{i:06d}", name=f"{rng.choice(_PRODUCT_ADJ)} {rng.choice(_PRODUCT_NOUNS)} {i}",
        unit=rng.choice(("pcs", "kg", "box")), price_cents=rng.randint(150, 250_000),
        weight_kg=rng.randint(1, 900), reorder_threshold=rng.choice((10, 20, 25, 50, 100, 200)),
    )
