"""Typed Qargo resources: one small function per endpoint, lists as lazy generators over the core's
paginate loop (services.core.pagination). Paths as in the 2026 OpenAPI (vendor-specs/qargo).

Accounting sync tasks are READ-ONLY here on purpose: marking a task done belongs to the customer's
accounting integration, so this module has no function that updates a task's status.

Lists use cursor pages (seeds/000 "Pagination"): `resources()` yields `Page`s whose records are
already models, so a sync can store `page.checkpoint()` after committing a page and resume with
`start=`. Cursors expire (seeds/000 line 203); when Qargo rejects one, the listing restarts once
from the first page, so records may repeat: upsert them by id.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import pydantic

from services.core import (
    CursorItems,
    MalformedResponse,
    Page,
    PageRequest,
    ValidationError,
    VendorClient,
    VendorTimeout,
)
from services.qargo.models import (
    AvailableTask,
    AvailableTasks,
    Charge,
    Document,
    OrderCharges,
    OrderImport,
    OrderInput,
    OrderWithStatus,
    Resource,
    TaskDetail,
    Unavailability,
)

log = logging.getLogger("services.qargo")

M = TypeVar("M", bound=pydantic.BaseModel)
Checkpoint = PageRequest | Mapping[str, Any] | None

CURSOR = CursorItems()  # {"items": [...], "next_cursor": "..."}; the cursor travels alone
UPLOAD = "/v1/orders/order/upload"


# ---------------------------------------------------------------------------------------- helpers


def _id(value: str) -> str:
    """A path segment: ids come from data, so nothing in them may change the path."""
    return quote(str(value), safe="")


def _model(model: type[M], data: Any, what: str) -> M:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise MalformedResponse(
            f"Qargo answered {what} with an unexpected shape ({exc.error_count()} problems): "
            "the API may have changed; report it",
            vendor="Qargo",
        ) from None


def _get(client: VendorClient, path: str, model: type[M], params: Mapping[str, Any] | None = None) -> M:
    return _model(model, client.get_json(path, params=params), f"GET {path}")


def _typed(page: Page, model: type[pydantic.BaseModel], what: str) -> Page:
    return dataclasses.replace(page, records=[_model(model, r, what) for r in page.records])


def _start(start: Checkpoint) -> PageRequest | None:
    if start is None or isinstance(start, PageRequest):
        return start
    return PageRequest.from_checkpoint(start)


def _cursor_expired(exc: ValidationError) -> bool:
    # Qargo answers an expired or unknown cursor with 400 on the `cursor` field (seeds/000 line 203).
    return exc.status == 400 and "cursor" in exc.fields


def _restarting(
    fetch: Callable[[PageRequest | None], Iterator[Page]], start: PageRequest | None
) -> Iterator[Page]:
    """`fetch(start)`, restarted once from the first page if Qargo rejects a cursor as expired."""
    try:
        yield from fetch(start)
    except ValidationError as exc:
        if not _cursor_expired(exc):
            raise
        log.warning("Qargo: a page cursor expired; restarting the listing from the first page")
    else:
        return
    yield from fetch(None)


def _iso(moment: datetime | None) -> str | None:
    """Qargo's filter format: ISO 8601 `YYYY-MM-DDTHH:MM:SSZ` (OpenAPI, `updated_after`); naive is UTC."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _params(**values: Any) -> dict[str, Any]:
    return {k.replace("__", ":"): v for k, v in values.items() if v is not None}


# ----------------------------------------------------------------------------------------- uploads


def upload_order(client: VendorClient, order: OrderInput) -> OrderImport:
    """Submit a CREATE/UPDATE/DELETE upload; Qargo processes it asynchronously (poll `upload_status`).

    Safe to retry: `order_identifier` deduplicates, and identical repeats are idempotent
    (seeds/000 line 392; cancelling twice is not an error, line 519)."""
    body = client.post_json(UPLOAD, json=order.payload(), idempotent=True)
    return _model(OrderImport, body, f"POST {UPLOAD}")


def upload_status(client: VendorClient, upload_id: str) -> OrderImport:
    return _get(client, f"{UPLOAD}/{_id(upload_id)}", OrderImport)


def wait_for_upload(
    client: VendorClient,
    upload_id: str,
    *,
    interval: float = 1.0,
    timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> OrderImport:
    """Poll until the upload is final (COMPLETED, DUPLICATE, ERROR, SKIPPED), at most `timeout` s."""
    deadline = clock() + timeout
    while not (state := upload_status(client, upload_id)).is_final:
        if clock() + interval > deadline:
            raise VendorTimeout(
                f"Qargo has not finished upload {upload_id} after {timeout:.0f} s: check its status later",
                vendor="Qargo",
            )
        sleep(interval)
    return state


# ------------------------------------------------------------------------------------------ orders


def _order_path(order_id: str, tail: str = "") -> str:
    return f"/v1/orders/order/{_id(order_id)}{tail}"


def get_order(client: VendorClient, order_id: str) -> OrderWithStatus:
    return _get(client, _order_path(order_id), OrderWithStatus)


def order_status(client: VendorClient, order_id: str) -> OrderWithStatus:
    return _get(client, _order_path(order_id, "/status"), OrderWithStatus)


def order_charges(client: VendorClient, order_id: str) -> list[Charge]:
    return _get(client, _order_path(order_id, "/charges"), OrderCharges).charges or []


def approve_charges(
    client: VendorClient,
    order_id: str,
    charge_ids: Iterable[str],
    approve: bool,
    description: str | None = None,
) -> list[Charge]:
    """Approve (or reject) charges; answers the order's charges after the change.

    Body `ChargesApprovalInput`: {"charges": [{"id", "approval_status": APPROVED|REJECTED, "description"}]}.
    Setting a status to a fixed value is idempotent, so the POST may be retried."""
    status = "APPROVED" if approve else "REJECTED"
    decisions = [_params(id=str(c), approval_status=status, description=description) for c in charge_ids]
    path = _order_path(order_id, "/charges/approval")
    body = client.post_json(path, json={"charges": decisions}, idempotent=True)
    return _model(OrderCharges, body, f"POST {path}").charges or []


def order_export(client: VendorClient, order_id: str) -> OrderInput:
    """The order in the upload format (seeds/000 line 573): a template for a new order."""
    return _get(client, _order_path(order_id, "/export"), OrderInput)


def order_documents(client: VendorClient, order_id: str) -> list[Document]:
    path = _order_path(order_id, "/documents")
    body = client.get_json(path)
    if not isinstance(body, list):
        raise MalformedResponse(f"Qargo answered GET {path} without a list of documents", vendor="Qargo")
    return [_model(Document, d, f"GET {path}") for d in body]


def download_document(client: VendorClient, document_id: str) -> bytes:
    return client.request("GET", f"/v1/documents/document/{_id(document_id)}/download").content


# ------------------------------------------------------------------- accounting sync tasks (read-only)


def sync_tasks(client: VendorClient, *, billing_entity_code: str | None = None) -> Iterator[AvailableTask]:
    tasks = _get(
        client, "/v1/accounting/sync-tasks", AvailableTasks, _params(billing_entity_code=billing_entity_code)
    )
    yield from tasks.tasks


def sync_task(client: VendorClient, task_id: str) -> TaskDetail:
    return _get(client, f"/v1/accounting/sync-tasks/{_id(task_id)}", TaskDetail)


# --------------------------------------------------------------------------------------- resources


def resources(
    client: VendorClient,
    *,
    updated_after: datetime | None = None,
    resource_type: str | None = None,
    external_ids: Iterable[str] | None = None,
    start: Checkpoint = None,
) -> Iterator[Page]:
    """Pages of `Resource` (vehicles, drivers, trailers...), resumable from `page.checkpoint()`."""
    path = "/v1/resources/resource"
    params = _params(
        updated_after=_iso(updated_after),
        resource_type=resource_type,
        external_id__in=",".join(external_ids) if external_ids is not None else None,
    )

    def fetch(begin: PageRequest | None) -> Iterator[Page]:
        for page in client.paginate(path, params, CURSOR, start=begin):
            yield _typed(page, Resource, f"GET {path}")

    return _restarting(fetch, _start(start))


def iter_resources(client: VendorClient, **filters: Any) -> Iterator[Resource]:
    for page in resources(client, **filters):
        yield from page.records


def get_resource(client: VendorClient, resource_id: str) -> Resource:
    return _get(client, f"/v1/resources/resource/{_id(resource_id)}", Resource)


def unavailabilities(
    client: VendorClient,
    resource_id: str,
    *,
    start_time: datetime | None = None,
    end_time: datetime | None = None,
) -> Iterator[Unavailability]:
    """A resource's unavailabilities (holidays, maintenance), optionally within a period."""
    path = f"/v1/resources/resource/{_id(resource_id)}/unavailability"
    params = _params(start_time=_iso(start_time), end_time=_iso(end_time))

    def fetch(begin: PageRequest | None) -> Iterator[Page]:
        for page in client.paginate(path, params, CURSOR, start=begin):
            yield _typed(page, Unavailability, f"GET {path}")

    for page in _restarting(fetch, None):
        yield from page.records
