"""Qasida ERP (Asseco Solutions) simulator, mounted at /qasida.

Paths follow the vendor convention `/api/<area>/v1/<Entity>/<Action>` (see docs/qasida-paths.md for
the table of paths, parameters and fields). Every call needs `Authorization: Bearer <token>` (401) and
`MandantId`, a query parameter in the document (seeds/003 line 152; the header is accepted too):
missing or malformed 400, another mandant 403, answered as RFC 7807 problem details. Lists are paged with PageNumber/PageSize (1-based, max 1000) in the envelope
`{data, pageNumber, pageSize, nextPage, previousPage}` (seeds/003 lines 150-173); `since` returns
records changed at or after it. Every answer carries `X-Server-Time` (business now, microseconds)
besides the HTTP `Date` header: a sync stores it and sends it as the next `since`.

Records are generated lazily from their index (sandbox.qasida.table): the large world's 500k stock
cards are never materialised.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from sandbox.context import SandboxContext, VendorApp
from sandbox.qasida.admin import admin_routes
from sandbox.qasida.finance import Finance, OpenItems
from sandbox.qasida.sales import NOT_FULFILLED, RESERVED, Sales
from sandbox.qasida.stock import Stock
from sandbox.qasida.table import Predicate
from sandbox.qasida.web import Query, endpoint, invalid, page, page_request


class Qasida:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.stock, self.sales = Stock(ctx), Sales(ctx)
        self.finance = Finance(ctx, self.sales)
        self.sales.is_supplier = self.finance.is_supplier
        self.ticks = 0

    # -- catalogue -------------------------------------------------------------------------------
    async def stock_cards(self, request: Request, q: Query) -> dict[str, Any]:
        # The stock card list takes `since` and `reservationType`, no `warehouseId` (seeds/003 lines 6028-6032):
        # like the ERP, an undocumented parameter is ignored, so every warehouse's cards come back.
        number, size = page_request(q, self.ctx)
        ids = self.stock.cards.select(("cards", None), q.since(), None, None)
        return page(request, ids, number, size, self.stock.card)

    async def warehouses(self, request: Request, q: Query) -> dict[str, Any]:
        number, size = page_request(q, self.ctx)
        return page(request, self.stock.warehouses.select("all"), number, size, self.stock.warehouse)

    async def products(self, request: Request, q: Query) -> dict[str, Any]:
        number, size = page_request(q, self.ctx)
        ids = self.stock.products.select("products", q.since())
        return page(request, ids, number, size, self.stock.product)

    # -- sales -----------------------------------------------------------------------------------
    async def customers(self, request: Request, q: Query) -> dict[str, Any]:
        number, size = page_request(q, self.ctx)
        ids = self.sales.customers.select("customers", q.since())
        return page(request, ids, number, size, self.sales.customer)

    async def orders(self, request: Request, q: Query) -> dict[str, Any]:
        number, size = page_request(q, self.ctx)
        filters = self._order_filters(q)
        pred = _all_of([f for f in filters.values() if f is not None])
        key = ("orders", *(name for name, f in filters.items() if f is not None), *_order_key(q))
        ids = self.sales.orders.select(key, q.since(), pred)
        return page(request, ids, number, size, self.sales.order)

    def _order_filters(self, q: Query) -> dict[str, Predicate | None]:
        """notFulfilled/reserved: true = only those, false = only the others; the doc's
        onlyNotFulfilled/onlyReserved (seeds/003 lines 1196-1197): true = only those, false = all."""
        not_fulfilled = _first(q.flag("notFulfilled"), True if q.flag("onlyNotFulfilled") else None)
        reserved = _first(q.flag("reserved"), True if q.flag("onlyReserved") else None)
        warehouse, customer = q.integer("warehouseId"), q.integer("customerId")
        status, sales = self.sales.status, self.sales
        return {
            "notFulfilled": None if not_fulfilled is None else (lambda i: (status(i) in NOT_FULFILLED) == not_fulfilled),
            "reserved": None if reserved is None else (lambda i: (status(i) in RESERVED) == reserved),
            "warehouseId": None if warehouse is None else (lambda i: sales.warehouse_id(i) == warehouse),
            "customerId": None if customer is None else (lambda i: sales.world.order_customer(i).id == customer),
        }

    # -- finance ---------------------------------------------------------------------------------
    async def claims(self, request: Request, q: Query) -> dict[str, Any]:
        return self._open_items(request, q, self.finance.claims, "allClaims")

    async def liabilities(self, request: Request, q: Query) -> dict[str, Any]:
        return self._open_items(request, q, self.finance.liabilities, "allLiabilities")

    def _open_items(self, request: Request, q: Query, items: OpenItems, every: str) -> dict[str, Any]:
        """seeds/003 lines 150-155 / 3124-3130: customerId required, open items unless the "all" flag."""
        number, size = page_request(q, self.ctx)
        customer = q.integer("customerId", required=True)
        assert customer is not None
        ids = items.of_customer(customer, bool(q.flag(every)), bool(q.flag("onlyDelayed")))
        return page(request, ids, number, size, items.row)

    async def payment_status(self, request: Request, q: Query) -> dict[str, Any]:
        """`variableSymbol` (required) and the paging parameters (seeds/003 lines 1116-1119); a paged list of
        the invoices carrying that symbol (lines 1120-1143), empty when none does."""
        number, size = page_request(q, self.ctx)
        symbol = q.text("variableSymbol")
        if symbol is None:
            raise invalid("variableSymbol", "The variableSymbol field is required.")
        return page(request, self.finance.invoices_with_symbol(symbol), number, size, self.finance.payment_status)

    # -- world -----------------------------------------------------------------------------------
    async def tick(self) -> None:
        """Move a few stock levels, order statuses and payments; their lastChange becomes now."""
        self.ticks += 1
        rng, now = self.ctx.world.rng("qasida", "tick", self.ticks), self.ctx.clock.now()
        self.stock.tick(rng, now, living=self.ctx.config.living)
        self.sales.tick(rng, now, living=self.ctx.config.living)
        self.finance.tick(rng, now)

    def routes(self) -> list[BaseRoute]:
        paths = {
            "/api/stock/v1/StockCard/GetAll": self.stock_cards,
            "/api/stock/v1/Warehouse/GetAll": self.warehouses,
            "/api/eshop/v1/Product/GetAll": self.products,
            "/api/crm/v1/Customer/GetAll": self.customers,
            "/api/sales/v1/CustomerOrder/GetAll": self.orders,
            "/api/finance/v1/ClaimList/GetByCustomer": self.claims,
            "/api/finance/v1/LiabilityList/GetByCustomer": self.liabilities,
            "/api/finance/v1/Invoice/GetPaymentStatus": self.payment_status,
        }
        return [Route(path, endpoint(self.ctx, handler), methods=["GET"]) for path, handler in paths.items()]


def _first(*values: bool | None) -> bool | None:
    return next((v for v in values if v is not None), None)


def _order_key(q: Query) -> tuple[Any, ...]:
    return tuple(q.text(n) for n in ("notFulfilled", "onlyNotFulfilled", "reserved", "onlyReserved",
                                     "warehouseId", "customerId"))


def _all_of(preds: list[Predicate]) -> Predicate | None:
    if not preds:
        return None
    return lambda i: all(p(i) for p in preds)


def build(ctx: SandboxContext) -> VendorApp:
    qasida = Qasida(ctx)
    return VendorApp(routes=qasida.routes(), tick=qasida.tick, admin_routes=admin_routes(qasida))
