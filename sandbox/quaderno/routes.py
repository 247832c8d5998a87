"""The Quaderno API's handlers (paths below /quaderno; each also answers with a `.json` suffix,
as the recorded requests use it) and the simulator's admin routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.context import SandboxContext
from sandbox.quaderno import rates, taxids, transactions
from sandbox.quaderno.documents import Book
from sandbox.quaderno.http import Gate, Handler, error, render
from sandbox.quaderno.listing import DEFAULT_LIMIT, MAX_LIMIT, Filters, Kind

# The country whose validation service is "down" by default: Italy's VIES node is the one most
# often unavailable in practice. Change it with PUT /_admin/quaderno/down-countries.
DEFAULT_DOWN = frozenset({"IT"})


@dataclass
class State:
    ctx: SandboxContext
    book: Book
    kinds: dict[str, Kind]
    registrations: set[str] = field(default_factory=lambda: set(rates.DEFAULT_REGISTRATIONS))
    down: set[str] = field(default_factory=lambda: set(DEFAULT_DOWN))
    # Numbers with correct check digits that the authority no longer has on its register: the
    # "invalid" answer an offline check cannot give (build() fills it from the world).
    deregistered: set[str] = field(default_factory=set)


class BadRequest(ValueError):
    pass


def origin(request: Request) -> str:
    """Scheme, host and the mount prefix: where this vendor lives (for URLs in bodies and headers)."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def _text(request: Request, name: str, default: str | None = None) -> str | None:
    value = request.query_params.get(name)
    return value.strip() if value else default


def _int(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return int(value.removesuffix(".json"))
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None


def _query(request: Request, today: date) -> rates.Query:
    to_country = (_text(request, "to_country") or "").upper()
    if not to_country:
        raise BadRequest("to_country is required")
    tax_code = _text(request, "tax_code", "standard") or "standard"
    if tax_code not in rates.TAX_CODES:
        raise BadRequest(f"tax_code must be one of {', '.join(rates.TAX_CODES)}")
    try:
        amount = Decimal(a) if (a := _text(request, "amount")) else None
        on = date.fromisoformat(d) if (d := _text(request, "date")) else today
    except (InvalidOperation, ValueError):
        raise BadRequest("amount must be a number and date YYYY-MM-DD") from None
    return rates.Query(
        to_country=to_country,
        to_postal_code=_text(request, "to_postal_code"),
        from_country=(_text(request, "from_country", rates.ACCOUNT_COUNTRY) or "").upper(),
        tax_id=_text(request, "tax_id"),
        tax_code=tax_code,
        amount=amount,
        on=on,
        product_type=_text(request, "product_type", "service") or "service",
        tax_behavior=_text(request, "tax_behavior", "exclusive") or "exclusive",
        currency=_text(request, "currency"),
        to_city=_text(request, "to_city"),
    )


def api_routes(state: State) -> list[Route]:
    gate, tax = Gate(state.ctx), TaxHandlers(state)

    def both(path: str, handler: Handler, methods: tuple[str, ...] = ("GET",)) -> list[Route]:
        wrapped = _bad_requests(gate.wrap(handler))
        return [
            Route(path, wrapped, methods=list(methods)),
            Route(f"{path}.json", wrapped, methods=list(methods)),
        ]

    routes = [
        *both("/api/ping", tax.ping),
        *both("/api/tax_rates/calculate", tax.calculate),
        *both("/api/tax_ids/validate", tax.validate),
        *both("/api/tax_ids", tax.tax_ids),
        *both("/api/jurisdictions", tax.jurisdictions),
        *both("/api/transactions", tax.create_transaction, ("POST",)),
    ]
    for kind in state.kinds.values():
        routes += [
            *both(f"/api/{kind.name}", _lister(state, kind)),
            Route(f"/api/{kind.name}/{{doc_id}}", _bad_requests(gate.wrap(_getter(state, kind)))),
        ]
    return routes


class TaxHandlers:
    def __init__(self, state: State) -> None:
        self.state = state

    async def ping(self, request: Request) -> Response:
        return render({"status": "OK"})

    async def calculate(self, request: Request) -> Response:
        today = self.state.ctx.clock.now().date()
        return render(rates.calculate(_query(request, today), self.state.registrations, today))

    async def validate(self, request: Request) -> Response:
        """true, false, or null while the country's service is down (seeds/001 lines 1159-1172)."""
        country, tax_id = (_text(request, "country") or "").upper(), _text(request, "tax_id")
        if not country or not tax_id:
            raise BadRequest("country and tax_id are required")
        number = tax_id.upper().replace(" ", "")
        number = number if number.startswith(country) else f"{country}{number}"
        valid = None if country in self.state.down else (
            rates.tax_id_validates(country, tax_id) and number not in self.state.deregistered)
        return render({"valid": valid})

    async def tax_ids(self, request: Request) -> Response:
        """The registered jurisdictions as tax IDs: one list, no paging (as recorded)."""
        today = self.state.ctx.clock.now().date()
        return render(taxids.tax_ids(self.state.registrations, today), headers={"X-Pages-HasMore": "false"})

    async def jurisdictions(self, request: Request) -> Response:
        return render(taxids.jurisdictions(_text(request, "country"), _text(request, "region")))

    async def create_transaction(self, request: Request) -> Response:
        try:
            payload = await request.json()
            return render(transactions.create(self.state.book, payload, origin(request)), 201)
        except transactions.Invalid as exc:
            return render(exc.body, 422)
        except ValueError:
            return error(400, "The request body is not valid JSON")


def _bad_requests(handler: Handler) -> Handler:
    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except BadRequest as exc:
            return error(400, str(exc))

    return guarded


def _lister(state: State, kind: Kind) -> Handler:
    async def listing(request: Request) -> Response:
        if "page" in request.query_params:  # page-number paging is gone since 20210701 (seeds/001 l.190-196)
            return error(410, "Page-based pagination is no longer supported: use created_before")
        limit = max(1, min(_int(request, "limit") or DEFAULT_LIMIT, MAX_LIMIT))
        before = _int(request, "created_before")
        if before is not None and state.ctx.switch("quaderno").take_expired_cursor():
            # A cursor the server cannot use: answered 422 Unprocessable Entity, the doc's code for
            # "cannot process for the record in question" (seeds/001 error table, line 107).
            return error(422, f"created_before {before} does not reference a record that can be paged from")
        filters = Filters(state=_text(request, "state"), contact=_int(request, "contact"))
        ids, more = kind.page(state.book, before, limit, filters)
        base = origin(request)
        body = [doc for doc_id in ids if (doc := kind.get(state.book, doc_id, base)) is not None]  # removed: not listed
        headers = {"X-Pages-HasMore": "true" if more else "false"}
        if more:
            headers["X-Pages-NextPage"] = str(request.url.include_query_params(created_before=ids[-1]))
        return render(body, headers=headers)

    return listing


def _getter(state: State, kind: Kind) -> Handler:
    async def get(request: Request) -> Response:
        raw = str(request.path_params["doc_id"]).removesuffix(".json")
        doc = kind.get(state.book, int(raw), origin(request)) if raw.isdigit() else None
        if doc is None and raw.isdigit() and kind.gone_status(int(raw)) == 410:
            return error(410, "The record requested has been removed from our servers")  # seeds/001 l.103
        if doc is None:
            return error(404, "The specified record could not be found")
        return render(doc)

    return get


def admin_routes(state: State) -> list[Route]:
    """Under /_admin/quaderno: registrations, validation outages, and the count of creations."""

    async def registrations(request: Request) -> Response:
        if request.method == "PUT":
            body: Any = await request.json()
            state.registrations = {str(j).upper() for j in body.get("jurisdictions", [])}
        return render({"jurisdictions": sorted(state.registrations)})

    async def down(request: Request) -> Response:
        if request.method == "PUT":
            body: Any = await request.json()
            state.down = {str(c).upper() for c in body.get("countries", [])}
        return render({"countries": sorted(state.down)})

    async def created(request: Request) -> Response:
        return render({name: len(docs) for name, docs in state.book.extra.items()})

    return [
        Route("/registrations", registrations, methods=["GET", "PUT"]),
        Route("/down-countries", down, methods=["GET", "PUT"]),
        Route("/transactions", created),
    ]
