"""Qargo TMS simulator (seeds/000 + vendor-specs/qargo OpenAPI 2026), served under /qargo.

    auth.py        OAuth2 client credentials, token ration (5/h) and the 2/s burst-3 bucket
    orders.py      the order book: pre-existing orders (lazy, per seed) and uploaded ones
    uploads.py     asynchronous upload processing on the business clock
    render.py      OrderWithStatus, export, charges, documents as the API shows them
    visibility.py  visibility events (webhook) and the per-tick status progression
    catalog.py     resources, unavailabilities, accounting sync tasks (pure functions of the seed)
    paging.py      cursor pagination and the expired-cursor answer
    routes.py      the endpoints

Time: an upload completes after 3 s of business time (`ctx.clock`), seen by the next status read
or tick; order statuses move one step per tick, and every change is POSTed to
`ctx.config.qargo_webhook` as an OperationalVisibilityUpdate (delivery stops carry an ETA that slips past
the plan for some orders; some deliveries carry a null customer_reference_number). GET
/_admin/qargo/visibility lists every body delivered.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.context import SandboxContext, VendorApp
from sandbox.qargo.auth import Auth
from sandbox.qargo.orders import OrderBook
from sandbox.qargo.routes import Api
from sandbox.qargo.uploads import Uploads
from sandbox.qargo.visibility import Progress, Visibility


def build(ctx: SandboxContext) -> VendorApp:
    book = OrderBook(ctx.world, ctx.config.seed)
    visibility = Visibility(ctx)
    uploads = Uploads(book, ctx.world, ctx.config.seed, visibility.order_status)
    progress = Progress(ctx, book, visibility)
    api = Api(ctx, Auth(ctx), book, uploads)

    async def tick() -> None:
        uploads.settle(ctx.clock.now())
        progress.step()
        await visibility.flush()

    async def delivered(request: Request) -> JSONResponse:
        """Every visibility body delivered so far, oldest first: what the vendor sent, for tests to count from."""
        return JSONResponse({"delivered": list(visibility.sent)})

    return VendorApp(routes=list(api.routes()), tick=tick,
                     admin_routes=[Route("/visibility", delivered, methods=["GET"])])


__all__ = ["build"]
