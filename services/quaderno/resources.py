"""Quaderno resources as typed functions over a `VendorClient` from `services.quaderno.client`.

Lists come newest first, one `Page` at a time (records already typed), so a sync can stop at the
newest id it already stores and store `page.checkpoint()` after each page (seeds/001 lines 64-75).
Tax-ID validation runs the offline check (services.taxid) first: a malformed number never costs a
call. `create_transaction` is a plain POST, never retried: Quaderno has no idempotency key, so a
resend after a lost answer could create a second invoice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any, TypeVar

import pydantic

from services.core import CreatedBefore, MalformedResponse, Page, PageRequest, VendorClient, VendorError
from services.quaderno.models import (
    Contact,
    Credit,
    Invoice,
    Jurisdiction,
    TaxCalculation,
    TaxId,
    TaxIdValidation,
)
from services.taxid import OfflineResult, check_tax_id

M = TypeVar("M", bound=pydantic.BaseModel)

MAX_LIMIT = 100  # seeds/001 line 73: limit is capped at 100
_PAGING = CreatedBefore()
_ISO_OF_VAT_PREFIX = {"EL": "GR"}  # Quaderno takes ISO country codes; Greece's VAT prefix is EL


class NotAcceptable(VendorError):
    """406: Quaderno cannot serve the request as asked (unknown API version, unsupported account)."""


class MalformedTaxId(ValueError):
    """The offline check refused the number: no call was made. `result.message` says why."""

    def __init__(self, result: OfflineResult) -> None:
        super().__init__(f"{result.country} {result.number or '(empty)'}: {result.message}")
        self.result = result


def get(client: VendorClient, path: str, params: dict[str, Any] | None = None) -> Any:
    """GET and parse JSON; a 406 becomes `NotAcceptable` with the setting to check."""
    try:
        return client.get_json(path, params=params)
    except VendorError as exc:
        raise _explain_406(exc) from exc


def _explain_406(exc: VendorError) -> VendorError:
    if exc.status != 406:
        return exc
    return NotAcceptable(
        f"{exc.message}: check QUADERNO_API_VERSION (a version Quaderno knows, e.g. 20220325) "
        "and that the account type supports this resource",
        vendor=exc.vendor,
        status=exc.status,
        request_id=exc.request_id,
        body=exc.body,
    )


def parse(client: VendorClient, model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise MalformedResponse(
            f"{client.name} sent a {model.__name__} this client cannot read ({exc.error_count()} "
            "field errors): the API version may have changed; check QUADERNO_API_VERSION",
            vendor=client.name,
        ) from None


# --- tax -------------------------------------------------------------------------------------


def calculate_tax(client: VendorClient, **params: Any) -> TaxCalculation:
    """`GET /tax_rates/calculate` (seeds/001 lines 1120-1160), e.g. to_country="DE", amount="99.99".
    Pass amounts as strings or Decimal: they go on the query string exactly as given."""
    query = {k: str(v) for k, v in params.items() if v is not None}
    return parse(client, TaxCalculation, get(client, "/tax_rates/calculate", query))


def validate_tax_id(client: VendorClient, country: str, tax_id: str) -> bool | None:
    """True/False as Quaderno's authority check says; None when that country's service is
    unavailable (unknown, never "invalid"). `MalformedTaxId`, without any call, when the offline
    format/check-digit test fails."""
    offline = check_tax_id(country, tax_id)
    if not offline.ok:
        raise MalformedTaxId(offline)
    return validate_tax_id_online(client, _iso_country(offline.country), offline.number)


def validate_tax_id_online(client: VendorClient, country: str, tax_id: str) -> bool | None:
    """`GET /tax_ids/validate` without the offline check (seeds/001 lines 1161-1172)."""
    body = get(client, "/tax_ids/validate", {"country": country, "tax_id": tax_id})
    return parse(client, TaxIdValidation, body).valid


def tax_ids(client: VendorClient) -> list[TaxId]:
    """`GET /tax_ids`: the account's registered tax IDs, one per registered jurisdiction
    (seeds/001 lines 1203-1221). One unpaged list."""
    return _list_of(client, TaxId, get(client, "/tax_ids"))


def jurisdictions(client: VendorClient, country: str | None = None) -> list[Jurisdiction]:
    """`GET /jurisdictions` (seeds/001 lines 1186-1191); `country` filters case-sensitively."""
    params = {"country": country} if country else None
    return _list_of(client, Jurisdiction, get(client, "/jurisdictions", params))


def _list_of(client: VendorClient, model: type[M], body: Any) -> list[M]:
    if not isinstance(body, list):
        raise MalformedResponse(
            f"{client.name} sent a {type(body).__name__} where a list was expected", vendor=client.name
        )
    return [parse(client, model, item) for item in body]


def _iso_country(vat_prefix: str) -> str:
    return _ISO_OF_VAT_PREFIX.get(vat_prefix, vat_prefix)


# --- documents -------------------------------------------------------------------------------


def _pages(
    client: VendorClient,
    path: str,
    model: type[M],
    params: dict[str, Any],
    start: PageRequest | None,
) -> Iterator[Page]:
    query = {k: v for k, v in params.items() if v is not None}
    try:
        for page in client.paginate(path, query, _PAGING, start=start, max_pages=100_000):
            yield replace(page, records=[parse(client, model, r) for r in page.records])
    except VendorError as exc:
        raise _explain_406(exc) from exc


def _first_query(created_before: int | None, limit: int, **filters: Any) -> dict[str, Any]:
    return {"limit": max(1, min(limit, MAX_LIMIT)), "created_before": created_before, **filters}


def invoices(
    client: VendorClient,
    *,
    created_before: int | None = None,
    limit: int = MAX_LIMIT,
    state: str | None = None,
    start: PageRequest | None = None,
) -> Iterator[Page]:
    """Pages of `Invoice`, newest first. `start` resumes from a stored `page.checkpoint()`."""
    return _pages(client, "/invoices", Invoice, _first_query(created_before, limit, state=state), start)


def credits(
    client: VendorClient,
    *,
    created_before: int | None = None,
    limit: int = MAX_LIMIT,
    state: str | None = None,
    start: PageRequest | None = None,
) -> Iterator[Page]:
    """Pages of `Credit` (credit notes), newest first."""
    return _pages(client, "/credits", Credit, _first_query(created_before, limit, state=state), start)


def contacts(
    client: VendorClient,
    *,
    created_before: int | None = None,
    limit: int = MAX_LIMIT,
    start: PageRequest | None = None,
) -> Iterator[Page]:
    """Pages of `Contact`, newest first."""
    return _pages(client, "/contacts", Contact, _first_query(created_before, limit), start)


def iter_invoices(client: VendorClient, **kwargs: Any) -> Iterator[Invoice]:
    for page in invoices(client, **kwargs):
        yield from page.records


def iter_credits(client: VendorClient, **kwargs: Any) -> Iterator[Credit]:
    for page in credits(client, **kwargs):
        yield from page.records


def iter_contacts(client: VendorClient, **kwargs: Any) -> Iterator[Contact]:
    for page in contacts(client, **kwargs):
        yield from page.records


def newer_than(pages: Iterator[Page], known_id: int | None) -> Iterator[Page]:
    """Stop paging at the newest id already stored: yields pages trimmed to the new records only."""
    for page in pages:
        fresh = [r for r in page.records if known_id is None or r.id > known_id]
        if len(fresh) < len(page.records):
            yield replace(page, records=fresh, next=None)
            return
        yield page


def get_invoice(client: VendorClient, invoice_id: int) -> Invoice:
    return parse(client, Invoice, get(client, f"/invoices/{int(invoice_id)}"))


# --- creation (never retried) ----------------------------------------------------------------


def create_transaction(client: VendorClient, payload: dict[str, Any]) -> Invoice | Credit:
    """`POST /transactions` (seeds/001 lines 518-716): a sale answers an Invoice, a refund a Credit.
    Sent once: a failure (even a 5xx or a dropped connection) is raised, not resent, since the
    vendor may have created the document; check the invoice list before trying again."""
    body = client.post_json("/transactions", json=payload, idempotent=False)
    model: type[Invoice] = Credit if isinstance(body, dict) and body.get("type") == "Credit" else Invoice
    return parse(client, model, body)
