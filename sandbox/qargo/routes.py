"""The Qargo endpoints (paths and verbs as in the 2026 OpenAPI), mounted under /qargo."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.context import SandboxContext
from sandbox.qargo import catalog, paging, render
from sandbox.qargo.auth import Auth
from sandbox.qargo.common import error, json_ok, not_found, unprocessable, valid_uuid
from sandbox.qargo.orders import Order, OrderBook
from sandbox.qargo.uploads import Uploads, request_problem

Handler = Callable[[Request], Awaitable[Response]]
RESOURCE_FILTERS = ("updated_after", "external_id", "external_id:in", "resource_type", "resource_type:in")
UNAVAILABILITY_FILTERS = ("start_time", "end_time")


class Api:
    def __init__(self, ctx: SandboxContext, auth: Auth, book: OrderBook, uploads: Uploads) -> None:
        self.ctx, self.auth, self.book, self.uploads = ctx, auth, book, uploads
        self.seed = ctx.config.seed
        self.resource_count = ctx.world.sizes["resources"]
        self._resources = catalog.resource_index(self.seed, self.resource_count)
        self._tasks = catalog.task_index(self.seed, book)
        self._documents: dict[str, tuple[str, str]] = {}

    def routes(self) -> list[Route]:
        g = self.auth.guard
        return [
            Route("/v1/auth/token", self.auth.token, methods=["POST"]),
            Route("/v1/orders/order/upload", g(self.upload), methods=["POST"]),
            Route("/v1/orders/order/upload/{upload_id}", g(self.upload_status)),
            Route("/v1/orders/order/{order_id}", g(self._on_order(self.order))),
            Route("/v1/orders/order/{order_id}/status", g(self._on_order(self.order))),
            Route("/v1/orders/order/{order_id}/charges", g(self._on_order(self.charges))),
            Route("/v1/orders/order/{order_id}/charges/approval", g(self._on_order(self.approve)),
                  methods=["POST"]),
            Route("/v1/orders/order/{order_id}/export", g(self._on_order(self.export))),
            Route("/v1/orders/order/{order_id}/documents", g(self._on_order(self.documents))),
            Route("/v1/documents/document/{id}/download", g(self.download)),
            Route("/v1/accounting/sync-tasks", g(self.sync_tasks)),
            Route("/v1/accounting/sync-tasks/{id}", g(self.sync_task)),
            Route("/v1/resources/resource", g(self.resources)),
            Route("/v1/resources/resource/{resource_id}", g(self._on_resource(self.resource))),
            Route("/v1/resources/resource/{resource_id}/unavailability",
                  g(self._on_resource(self.unavailabilities))),
            Route("/v1/resources/resource/{resource_id}/unavailability/{id}",
                  g(self._on_resource(self.unavailability))),
        ]

    # -- orders ---------------------------------------------------------------------------------
    async def upload(self, request: Request) -> Response:
        try:
            payload = json.loads(await request.body() or b"null")
        except ValueError:
            return unprocessable(["body"], "JSON decode error", "json_invalid")
        problem = request_problem(payload)
        if problem:
            return unprocessable(*problem)
        now = self.ctx.clock.now()
        return json_ok(self.uploads.submit(payload, now).view(now))

    async def upload_status(self, request: Request) -> Response:
        upload_id = request.path_params["upload_id"]
        if not valid_uuid(upload_id):
            return unprocessable(["path", "upload_id"], "Input should be a valid UUID", "uuid_parsing")
        now = self.ctx.clock.now()
        self.uploads.settle(now)
        upload = self.uploads.uploads.get(upload_id)
        return json_ok(upload.view(now)) if upload else not_found("Upload", upload_id, "upload_id")

    def _on_order(self, handler: Callable[[Request, Order], Awaitable[Response]]) -> Handler:
        async def endpoint(request: Request) -> Response:
            order_id = request.path_params["order_id"]
            if not valid_uuid(order_id):
                return unprocessable(["path", "order_id"], "Input should be a valid UUID", "uuid_parsing")
            self.uploads.settle(self.ctx.clock.now())
            order = self.book.get(order_id)
            return await handler(request, order) if order else not_found("Order", order_id, "order_id")

        return endpoint

    async def order(self, request: Request, order: Order) -> Response:
        return json_ok(render.order_with_status(order, self.seed))

    async def charges(self, request: Request, order: Order) -> Response:
        return json_ok({"charges": render.charges(order, self.ctx.world, self.seed)})

    async def approve(self, request: Request, order: Order) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            return unprocessable(["body"], "JSON decode error", "json_invalid")
        decisions = body.get("charges") if isinstance(body, dict) else None
        if not isinstance(decisions, list) or not decisions:
            return unprocessable(["body", "charges"], "Field required", "missing")
        known = {c["id"] for c in render.charges(order, self.ctx.world, self.seed)}
        for n, item in enumerate(decisions):
            if not isinstance(item, dict) or item.get("approval_status") not in ("APPROVED", "REJECTED"):
                return unprocessable(["body", "charges", n, "approval_status"], "Input should be 'APPROVED' or 'REJECTED'")
            if item.get("id") not in known:
                return error(400, f"Charge {item.get('id')} is not a charge of order {order.id}",
                             field="id", path=f"$.charges[{n}].id")
        for item in decisions:
            order.approvals[item["id"]] = (item["approval_status"], item.get("description"))
        return await self.charges(request, order)

    async def export(self, request: Request, order: Order) -> Response:
        return json_ok(render.order_export(order))

    async def documents(self, request: Request, order: Order) -> Response:
        return json_ok(render.documents(order, self.seed))

    async def download(self, request: Request) -> Response:
        doc_id = request.path_params["id"]
        if not valid_uuid(doc_id):
            return unprocessable(["path", "id"], "Input should be a valid UUID", "uuid_parsing")
        found = self._document(doc_id)
        if found is None:
            return not_found("Document", doc_id, "id")
        _, name = found
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(render.pdf_bytes(name), media_type="application/pdf", headers=headers)

    def _document(self, doc_id: str) -> tuple[Order, str] | None:
        if doc_id not in self._documents:
            self.book.all_preexisting()
            for order in self.book.orders.values():
                for kind in ("CMR", "PROOF_OF_DELIVERY"):
                    self._documents[render.document_id(self.seed, order, kind)] = (order.id, kind)
        if doc_id not in self._documents:
            return None
        order_id, kind = self._documents[doc_id]
        order = self.book.orders[order_id]
        names = dict(render.document_kinds(order))
        return (order, names[kind]) if kind in names else None  # a POD exists once delivered

    # -- accounting (read-only: the tasks belong to the customer's accounting integration) --------
    async def sync_tasks(self, request: Request) -> Response:
        code = request.query_params.get("billing_entity_code")
        tasks = catalog.tasks(self.seed, self.book)
        return json_ok({"tasks": tasks if code in (None, catalog.BILLING_ENTITY_CODE) else []})

    async def sync_task(self, request: Request) -> Response:
        task_id = request.path_params["id"]
        if not valid_uuid(task_id):
            return unprocessable(["path", "id"], "Input should be a valid UUID", "uuid_parsing")
        j = self._tasks.get(task_id)
        if j is None:
            return not_found("Task", task_id, "id")
        return json_ok(catalog.task_detail(self.ctx.world, self.seed, self.book, j))

    # -- resources --------------------------------------------------------------------------------
    async def resources(self, request: Request) -> Response:
        now = self.ctx.clock.now()
        page = paging.start(request.query_params, RESOURCE_FILTERS, self.ctx.switch("qargo"), now)
        if isinstance(page, JSONResponse):
            return page
        if not _valid_instant(page.filters.get("updated_after")):
            return unprocessable(["query", "updated_after"], "Input should be a valid datetime", "datetime_parsing")
        matching = [i for i in range(1, self.resource_count + 1) if self._matches(i, page.filters)]
        chunk, cursor = paging.page_of(matching, page, now)
        items = [catalog.resource(self.ctx.world, self.seed, i) for i in chunk]
        return json_ok({"items": items, "next_cursor": cursor})

    def _matches(self, i: int, filters: dict[str, str]) -> bool:
        kinds = {*filters.get("resource_type:in", "").split(","), filters.get("resource_type", "")} - {""}
        externals = {*filters.get("external_id:in", "").split(","), filters.get("external_id", "")} - {""}
        if kinds and catalog.resource_type(i) not in kinds:
            return False
        if externals and f"RES-{i:05d}" not in externals:
            return False
        after = filters.get("updated_after")
        if after:
            stamp = catalog.resource(self.ctx.world, self.seed, i)["timestamp_updated"]
            return _instant(stamp) > _instant(after)
        return True

    def _on_resource(self, handler: Callable[[Request, int], Awaitable[Response]]) -> Handler:
        async def endpoint(request: Request) -> Response:
            resource_id = request.path_params["resource_id"]
            if not valid_uuid(resource_id):
                return unprocessable(["path", "resource_id"], "Input should be a valid UUID", "uuid_parsing")
            i = self._resources.get(resource_id)
            return await handler(request, i) if i else not_found("Resource", resource_id, "resource_id")

        return endpoint

    async def resource(self, request: Request, i: int) -> Response:
        return json_ok(catalog.resource(self.ctx.world, self.seed, i))

    async def unavailabilities(self, request: Request, i: int) -> Response:
        now = self.ctx.clock.now()
        page = paging.start(request.query_params, UNAVAILABILITY_FILTERS, self.ctx.switch("qargo"), now)
        if isinstance(page, JSONResponse):
            return page
        bad = [k for k, v in page.filters.items() if not _valid_instant(v)]
        if bad:
            return unprocessable(["query", bad[0]], "Input should be a valid datetime", "datetime_parsing")
        rows = [u for u in catalog.unavailabilities(self.ctx.world, self.seed, i) if _within(u, page.filters)]
        chunk, cursor = paging.page_of(rows, page, now)
        return json_ok({"items": chunk, "next_cursor": cursor})

    async def unavailability(self, request: Request, i: int) -> Response:
        wanted = request.path_params["id"]
        rows = catalog.unavailabilities(self.ctx.world, self.seed, i)
        row = next((u for u in rows if u["id"] == wanted), None)
        return json_ok(row) if row else not_found("Unavailability", wanted, "id")


def _instant(value: str) -> float:
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _within(row: dict[str, Any], filters: dict[str, str]) -> bool:
    start, end = filters.get("start_time"), filters.get("end_time")
    if start and row["end_time"] and _instant(row["end_time"]) < _instant(start):
        return False
    return not (end and _instant(row["start_time"]) > _instant(end))


def _valid_instant(value: str | None) -> bool:
    if value is None:
        return True
    try:
        _instant(value)
    except ValueError:
        return False
    return True
