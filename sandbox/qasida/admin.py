"""Admin routes of the Qasida simulator, mounted at /_admin/qasida/ (not part of the vendor's API):

    GET  /_admin/qasida/open-items?kind=claims|liabilities
         -> {"items": [{"customerId": n, **row}, ...]} every item (open or settled) with its customer,
            so a test can compute the figures independently from the vendor's own rows
    POST /_admin/qasida/pay {"kind": "claims"|"liabilities", "invoiceId": n[, "amount": "12.5"]}
         -> the item's row after the payment (no amount: the whole remainder, i.e. settled)
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from sandbox.qasida import Qasida
    from sandbox.qasida.finance import OpenItems


def _items(qasida: Qasida, kind: Any) -> OpenItems | None:
    return {"claims": qasida.finance.claims, "liabilities": qasida.finance.liabilities}.get(kind)


def _cents(amount: Any, remains: int) -> int | None:
    if amount is None:
        return remains
    try:
        cents = Decimal(str(amount)) * 100
    except InvalidOperation:
        return None
    return int(cents) if cents == cents.to_integral_value() and cents > 0 else None


def admin_routes(qasida: Qasida) -> list[BaseRoute]:
    async def open_items(request: Request) -> Response:
        items = _items(qasida, request.query_params.get("kind"))
        if items is None:
            return JSONResponse({"error": "kind must be claims or liabilities"}, status_code=400)
        rows = [{"customerId": items.customer(j).id, **items.row(j)} for j in range(1, items.table.n + 1)]
        return JSONResponse({"items": rows})

    async def pay(request: Request) -> Response:
        body = await request.json() if await request.body() else {}
        items = _items(qasida, body.get("kind")) if isinstance(body, dict) else None
        if items is None or not isinstance(body.get("invoiceId"), int):
            return JSONResponse({"error": 'expected {"kind": "claims"|"liabilities", "invoiceId": n}'},
                                status_code=400)
        j = items.index_of(body["invoiceId"])
        if j is None:
            return JSONResponse({"error": f"no {body['kind']} item {body['invoiceId']}"}, status_code=404)
        cents = _cents(body.get("amount"), items.remains(j))
        if cents is None:
            return JSONResponse({"error": "amount must be a positive decimal with at most 2 places"},
                                status_code=400)
        items.pay(j, cents, qasida.ctx.clock.now())
        return JSONResponse({"customerId": items.customer(j).id, **items.row(j)})

    return [Route("/open-items", open_items, methods=["GET"]), Route("/pay", pay, methods=["POST"])]
