"""Quaderno simulator (seeds/001): tax calculation, tax-ID validation, invoices, credit notes and
contacts under /quaderno/api/..., with Basic auth, the 100 calls / 15 s limit and `created_before`
paging. Modules: `rates` (tax engine), `documents` (world-derived bodies), `listing` (paging),
`transactions` (POST /transactions), `http` (auth, limits, version, rendering), `routes`.

Admin routes (under /_admin/quaderno): GET/PUT /registrations {"jurisdictions": ["DE", "US-NY", "EU"…]},
GET/PUT /down-countries {"countries": ["IT"]}, GET /transactions (documents created through the API).

Every 20th customer (ids 7, 27, 47, ...) has a well-formed VAT number the authority no longer has on its
register, so the demo shows all three answers: valid, invalid (the authority's) and unavailable (IT).
"""

from __future__ import annotations

from sandbox.context import SandboxContext, VendorApp
from sandbox.quaderno.documents import Book
from sandbox.quaderno.listing import kinds
from sandbox.quaderno.routes import State, admin_routes, api_routes

__all__ = ["build"]


def deregistered(ctx: SandboxContext) -> set[str]:
    return {c.vat_number.upper() for c in ctx.world.customers if c.vat_number and c.id % 20 == 7}


def build(ctx: SandboxContext) -> VendorApp:
    book = Book(ctx.world, ctx.clock)
    state = State(ctx=ctx, book=book, kinds=kinds(book), deregistered=deregistered(ctx))
    return VendorApp(routes=list(api_routes(state)), admin_routes=list(admin_routes(state)))
