"""Cargobase simulator (seeds/004): the freight invoice list under /cargobase/api/1/invoices/.

- `Authorization: Token <token>`; a missing or wrong token is 403 (seeds/004 lines 12-13), with
  Django REST framework's bodies ({"detail": ...}).
- Filters `status` (seeds/004 lines 63-70) and `submit_date` = YYYY-MM-DD | last_month | this_month
  (lines 58-60); `page` / `page_size` (50 by default, newest first, line 74; page_size capped at 500,
  like DRF's `max_page_size`); footer count/next/previous/page/record_start/record_end (lines 44-52),
  `next`/`previous` absolute URLs built from the request, so they work behind the /cargobase prefix.
- `invoice_status` is the display name ("Awaiting audit"), as the results table defines it (lines 35-40).
- Delivered or cancelled shipments leave the list 24 h after they reach their final status (vendor-specs
  README): invoices `approved`, `canceled` or `removed` longer than 24 h of business time ago are not listed.
  `unsubmitted` drafts are visible to providers only (line 41): the sandbox's user is the shipper.
- A page beyond the end is DRF's 404 {"detail": "Invalid page."}; the `expire_cursor` fault answers that
  to the next request carrying `page`.
- The `shrink_while_paging` fault (n) makes the list shrink while it is paged, as a busy audit team does
  (issue 18 point 4): after each page that has a next one, the n newest invoices on the pages already
  served that can leave this listing leave it -- under `status=awaiting_audit` they are audited (approved),
  in any other listing invoices in a final status drop out (their 24 h ran out). The rest slide up a page.
- `tick` audits waiting invoices (awaiting_audit -> approved / declined / canceled) and lets providers
  resubmit some declined ones, stamping `modified` with the business clock.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.context import SandboxContext, VendorApp
from sandbox.world import World

LABELS = {
    "awaiting_audit": "Awaiting audit",
    "approved": "Approved",
    "declined": "Declined",
    "removed": "Removed",
    "canceled": "Canceled",
    "unsubmitted": "Unsubmitted",
}
TERMINAL = frozenset({"approved", "canceled", "removed"})
_OPEN = frozenset({"awaiting_audit", "declined"})
DROP_AFTER = timedelta(hours=24)
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 500
HISTORY_DAYS = 90
PROVIDERS = (
    ("DHL Global Forwarding", "DGF"),
    ("Kuehne+Nagel", "KN"),
    ("DB Schenker", "DBS"),
    ("DSV", "DSV"),
    ("Expeditors", "EXP"),
    ("CEVA Logistics", "CEVA"),
    ("Maersk Logistics", "MSK"),
    ("Nippon Express", "NEX"),
)
MODES = ("Air", "Ocean", "Road", "Road", "Rail", "Courier")


class InvalidPage(Exception):
    pass


@dataclass(slots=True)
class Record:
    k: int
    submitted: datetime
    status: str
    modified: datetime
    dropped: bool = False  # left the list early (the shrink_while_paging fault)

    def listed(self, now: datetime) -> bool:
        return not self.dropped and not (self.status in TERMINAL and now - self.modified > DROP_AFTER)


def generate(world: World) -> list[Record]:
    """Oldest first; submission times strictly increase with k. Older invoices are mostly audited."""
    n = world.sizes["cargobase_invoices"]
    rng = world.rng("cargobase", "status")  # one stream: seeding a generator per invoice is slow at 50k
    out = []
    for k in range(1, n + 1):
        submitted = world.anchor - timedelta(days=HISTORY_DAYS * (n - k) / n, hours=1)
        audited = submitted + timedelta(days=rng.uniform(1, 20))
        if audited > world.anchor:
            out.append(Record(k, submitted, "awaiting_audit", submitted))
        else:
            out.append(Record(k, submitted, _verdict(rng), audited))
    return out


def _verdict(rng: random.Random) -> str:
    draw = rng.random()
    return (
        "approved" if draw < 0.7 else "declined" if draw < 0.85 else "canceled" if draw < 0.95 else "removed"
    )


def tracking_number(rng: random.Random, mode: str) -> str:
    if mode == "Air":  # an air waybill: airline prefix, 7 digits and their mod-7 check digit
        serial = rng.randint(1_000_000, 9_999_999)
        return f"{rng.choice((176, 20, 172, 57)):03d}-{serial}{serial % 7}"
    if mode == "Ocean":
        return f"{rng.choice(('MAEU', 'MSCU', 'HLCU', 'CMAU'))}{rng.randint(100_000_000, 999_999_999)}"
    if mode == "Courier":
        return str(rng.randint(10**9, 10**10 - 1))
    return f"{'CMR' if mode == 'Road' else 'CIM'}{rng.randint(1_000_000, 9_999_999)}"


def describe(world: World, r: Record) -> dict[str, Any]:
    """The documented result fields only (seeds/004 lines 20-30), derived from (seed, k)."""
    rng = world.rng("cargobase", "invoice", r.k)
    provider, code = rng.choice(PROVIDERS)
    mode = rng.choice(MODES)
    orders = world.sizes["erp_orders"]
    age_days = (world.anchor - r.submitted).total_seconds() / 86_400
    order = max(1, min(orders, round(orders * (1 - age_days / 365)) - rng.randint(0, 5)))
    customer = world.order_customer(order)
    return {
        "shipment_reference": f"CBS{7_000_000 + r.k}",
        "invoice_reference": f"{world.order_number(order)} / {customer.name}",
        "invoice_status": LABELS[r.status],
        "provider_name": provider,
        "provider_invoice_number": f"{code}-{r.submitted.year}-{rng.randint(10_000, 99_999)}{r.k % 10}",
        "freight_mode": mode,
        "primary_tracking_number": tracking_number(rng, mode),
        "submit_date": r.submitted.date().isoformat(),
        "modified": r.modified.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }


def month_window(value: str, today: date) -> tuple[date, date] | None:
    """[first, last] day for `this_month` / `last_month` / a single YYYY-MM-DD (seeds/004 lines 58-60)."""
    first = today.replace(day=1)
    if value == "this_month":
        return first, today
    if value == "last_month":
        last = first - timedelta(days=1)
        return last.replace(day=1), last
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day, day


def page_size_of(raw: str | None) -> int:
    """DRF ignores an unusable page_size and caps a large one."""
    try:
        size = int(raw) if raw is not None else DEFAULT_PAGE_SIZE
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return DEFAULT_PAGE_SIZE if size < 1 else min(size, MAX_PAGE_SIZE)


def page_number(raw: str | None, pages: int) -> int:
    if raw is None:
        return 1
    if raw == "last":  # DRF's last_page_strings
        return pages
    try:
        number = int(raw)
    except ValueError:
        raise InvalidPage from None
    if number < 1 or number > pages:
        raise InvalidPage
    return number


class Cargobase:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.records = generate(ctx.world)
        self._open = [r for r in self.records if r.status in _OPEN]  # what a tick may change, oldest first
        self.ticks = 0

    def authorised(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "Token" or not token:
            return JSONResponse({"detail": "Authentication credentials were not provided."}, 403)
        if not secrets.compare_digest(token.strip(), self.ctx.config.credentials.cargobase_token):
            return JSONResponse({"detail": "Invalid token."}, 403)
        return None

    def selected(self, status: str | None, window: tuple[date, date] | None) -> list[Record]:
        now = self.ctx.clock.now()
        return [
            r
            for r in reversed(self.records)
            if r.listed(now)
            and (status is None or r.status == status)
            and (window is None or window[0] <= r.submitted.date() <= window[1])
        ]

    async def invoices(self, request: Request) -> Response:
        denied = self.authorised(request)
        if denied:
            return denied
        params = request.query_params
        status, when = params.get("status"), params.get("submit_date")
        if status is not None and status not in LABELS:
            return JSONResponse(
                {"status": [f"Select a valid choice. {status} is not one of the available choices."]}, 400
            )
        window = month_window(when, self.ctx.clock.now().date()) if when else None
        if when and window is None:
            return JSONResponse({"submit_date": ["Enter a valid date."]}, 400)
        if "page" in params and self.ctx.switch("cargobase").take_expired_cursor():
            return JSONResponse({"detail": "Invalid page."}, 404)
        rows = [] if status == "unsubmitted" else self.selected(status, window)
        try:
            body = self.page(request, rows)
        except InvalidPage:
            return JSONResponse({"detail": "Invalid page."}, 404)
        if body["next"] is not None:
            self.shrink(rows[: body["record_end"]], status)
        return JSONResponse(body)

    def shrink(self, served: list[Record], status: str | None) -> None:
        """The `shrink_while_paging` fault: the newest invoices already served that can leave this listing
        (newest first) leave it before the next page is asked for."""
        n = self.ctx.switch("cargobase").faults.shrink_while_paging
        if n <= 0:
            return
        now = self.ctx.clock.now()
        if status == "awaiting_audit":
            for r in served[:n]:
                r.status, r.modified = "approved", now
            return
        for r in [r for r in served if r.status in TERMINAL][:n]:
            r.dropped = True

    def page(self, request: Request, rows: list[Record]) -> dict[str, Any]:
        size = page_size_of(request.query_params.get("page_size"))
        pages = max(1, -(-len(rows) // size))  # an empty first page is allowed, as in DRF
        number = page_number(request.query_params.get("page"), pages)
        chunk = rows[(number - 1) * size : number * size]
        start = (number - 1) * size + 1 if chunk else 0
        return {
            "count": len(rows),
            "next": self._link(request, number + 1) if number < pages else None,
            "previous": self._link(request, number - 1) if number > 1 else None,
            "page": number,
            "record_start": start,
            "record_end": start + len(chunk) - 1 if chunk else 0,
            "results": [describe(self.ctx.world, r) for r in chunk],
        }

    @staticmethod
    def _link(request: Request, number: int) -> str:
        """DRF drops `page` for the first page and replaces it otherwise."""
        if number == 1:
            return str(request.url.remove_query_params("page"))
        return str(request.url.include_query_params(page=number))

    async def tick(self) -> None:
        """One audit round: some waiting invoices are decided, some declined ones resubmitted."""
        self.ticks += 1
        rng = self.ctx.world.rng("cargobase", "tick", self.ticks)
        now = self.ctx.clock.now()
        waiting = len([r for r in self._open if r.status == "awaiting_audit"])
        # Only open records draw from the stream, so walking them alone draws as walking every record would.
        for r in self._open:
            if r.status == "awaiting_audit" and rng.random() < 0.3:
                draw = rng.random()
                r.status = "approved" if draw < 0.75 else "declined" if draw < 0.9 else "canceled"
                r.modified = now
            elif r.status == "declined" and rng.random() < 0.05:
                r.status, r.modified = "awaiting_audit", now
        self._open = [r for r in self._open if r.status in _OPEN]
        if self.ctx.config.living:  # as many newly submitted as left the queue (sandbox/living.py)
            gone = waiting - len([r for r in self._open if r.status == "awaiting_audit"])
            start = self.records[-1].k if self.records else 0
            arrivals = [Record(start + n, now, "awaiting_audit", now) for n in range(1, gone + 1)]
            self.records.extend(arrivals)
            self._open.extend(arrivals)
            if self.ticks % 100 == 0:  # ended invoices past DROP_AFTER are never listed again: let them go
                self.records = [r for r in self.records if r.status not in TERMINAL or r.listed(now)]


def build(ctx: SandboxContext) -> VendorApp:
    sim = Cargobase(ctx)
    return VendorApp(
        routes=[Route("/api/1/invoices/", sim.invoices), Route("/api/1/invoices", sim.invoices)],
        tick=sim.tick,
    )
