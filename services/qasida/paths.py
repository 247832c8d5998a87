"""Default Qasida paths, overridable per installation through `QASIDA_PATHS` (services/settings.py).

The vendor's reference (seeds/003) documents entities and parameters but no URL paths; these follow
the public convention `/api/<area>/v1/<Entity>/<Action>` (vendor-specs/README.md; docs/qasida-paths.md).
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_PATHS: dict[str, str] = {
    "stock_cards": "/api/stock/v1/StockCard/GetAll",
    "warehouses": "/api/stock/v1/Warehouse/GetAll",
    "products": "/api/eshop/v1/Product/GetAll",
    "customers": "/api/crm/v1/Customer/GetAll",
    "customer_orders": "/api/sales/v1/CustomerOrder/GetAll",
    # Per customer, open items only by default (seeds/003 lines 150-155 and 3124-3130): what a
    # customer owes us, and what we owe. The document names no path; these follow the convention.
    "claims": "/api/finance/v1/ClaimList/GetByCustomer",
    "liabilities": "/api/finance/v1/LiabilityList/GetByCustomer",
    "payment_status": "/api/finance/v1/Invoice/GetPaymentStatus",
}


class UnknownPath(ValueError):
    pass


def resolve_paths(overrides: Mapping[str, str]) -> dict[str, str]:
    """The defaults with the overrides applied; an unknown name is refused (a typo would be silent)."""
    unknown = set(overrides) - set(DEFAULT_PATHS)
    if unknown:
        raise UnknownPath(
            f"QASIDA_PATHS names unknown resources {sorted(unknown)}; known: {', '.join(DEFAULT_PATHS)}"
        )
    return {**DEFAULT_PATHS, **overrides}
