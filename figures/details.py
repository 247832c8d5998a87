"""Detail and aggregate reads behind the Orders, Invoices, Tax and Stock pages (no streamlit here).

Details open one record: an order's stops and goods (from its `raw` JSON), charges, documents,
upload history and status timeline; an invoice's items and payments (Quaderno `raw`), Cargobase
audit status, Upwell event history. Aggregates (totals per counterparty, aging, warehouse totals)
run GROUP BY in SQL over the same dataset SQL and filters as `store.queries.query_dataset`, so a
page's table and its totals always agree.

Money leaves here as integer minor units plus exact decimal text (`format_minor`), never float.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlite_utils import Database

from figures import kpis
from figures.kpis import decimal_sum
from services.quaderno.models import TaxCalculation
from store.calendar import AGING_BUCKETS, aging_sql, clock
from store.datasets import EXACT_AMOUNT as EXACT
from store.datasets import get_dataset, sql_for
from store.db import utcnow
from store.queries import CURRENCY_EXPONENTS, Row, build_where, format_minor
from store.rawstore import decode as decode_raw

# --- helpers ----------------------------------------------------------------------------------


def _rows(db: Database, sql: str, params: Mapping[str, Any] | list[Any]) -> list[Row]:
    cursor = db.conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor]


def _json(text: str | None) -> dict[str, Any]:
    """A record's `raw` JSON as a dict; `{}` when missing or not an object (old rows, hand edits)."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def cents_text(cents: Any, currency: str | None) -> str:
    """Minor units that may carry a fraction (Quaderno payments, seeds/001 line 1587) as exact text."""
    if cents is None:
        return ""
    try:
        exact = Decimal(str(cents))
    except InvalidOperation:
        return ""
    if exact == exact.to_integral_value():
        return format_minor(int(exact), currency)
    return str(exact.scaleb(-CURRENCY_EXPONENTS.get((currency or "").upper(), 2)))


# --- orders -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderDetails:
    order: Row | None
    stops: list[Row] = field(default_factory=list)
    goods: list[Row] = field(default_factory=list)
    charges: list[Row] = field(default_factory=list)
    documents: list[Row] = field(default_factory=list)
    uploads: list[Row] = field(default_factory=list)
    timeline: list[Row] = field(default_factory=list)


def order_details(db: Database, source: str, order_id: str) -> OrderDetails:
    """Everything the cache knows about one order of the `orders` dataset."""
    table = "qargo_orders" if source == "qargo" else "qasida_customer_orders"
    found = _rows(db, f"SELECT * FROM {table} WHERE order_id = ?", [order_id])
    if not found:
        return OrderDetails(None)
    order = found[0]
    raw = _json(decode_raw(db, order.pop("raw", None)))  # compressed or plain (store/rawstore.py)
    if source != "qargo":
        return OrderDetails(order)
    return OrderDetails(
        order, stops=order_stops(raw), goods=order_goods(raw), charges=order_charges(db, order_id),
        documents=order_documents(db, order_id),
        uploads=order_uploads(db, order.get("order_identifier"), order_id), timeline=order_timeline(db, order_id))


def order_stops(raw: Mapping[str, Any]) -> list[Row]:
    """Stops of a Qargo order (`OrderWithStatus.stops`), in the order Qargo lists them."""
    return [{
        "stop": stop.get("activity_label") or stop.get("id"), "status": stop.get("status"),
        "date": stop.get("date"), "location": _place(stop.get("location")),
        "window_start": _dig(stop, "time_window", "start_time"), "window_end": _dig(stop, "time_window", "end_time"),
    } for stop in raw.get("stops") or [] if isinstance(stop, dict)]


def _place(location: Any) -> str:
    if not isinstance(location, dict):
        return ""
    name = location.get("display_name") or location.get("name")
    parts = [name, location.get("postal_code"), location.get("city"), location.get("country")]
    return ", ".join(str(p) for p in parts if p)


def order_goods(raw: Mapping[str, Any]) -> list[Row]:
    """Goods of every consignment; weight and volume stay exact text as stored."""
    return [{
        "consignment": c.get("consignment_reference_number") or c.get("id"),
        "product": _dig(g, "product", "name") or _dig(g, "product", "code"), "quantity": g.get("quantity"),
        "weight_kg": _text(g.get("total_weight_kg")), "volume_m3": _text(g.get("total_volume_m3")),
        "adr_type": g.get("adr_type"),
    } for c in raw.get("consignments") or [] if isinstance(c, dict)
        for g in c.get("goods") or [] if isinstance(g, dict)]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def order_charges(db: Database, order_id: str) -> list[Row]:
    # Qargo charge amounts are exact decimal text already (store/migrations/vendor_tables.py, 0001_qargo).
    return _rows(db, "SELECT charge_id, description, amount, currency, status, approval_status "
                     "FROM qargo_charges WHERE order_id = ? ORDER BY charge_id", [order_id])


def order_documents(db: Database, order_id: str) -> list[Row]:
    return _rows(db, "SELECT document_id, document_type, file_name, created_at FROM qargo_documents "
                     "WHERE order_id = ? ORDER BY created_at, document_id", [order_id])


def order_uploads(db: Database, order_identifier: str | None, order_id: str | None = None) -> list[Row]:
    """Uploads of this order from opsdash: by our order identifier, or by the Qargo order an upload created
    (an order synced before its identifier was known is still linked to its upload)."""
    if not order_identifier and not order_id:
        return []
    return _rows(db, "SELECT created_at, operation, status, error, requested_by, job_id FROM order_uploads "
                     "WHERE order_identifier = ? OR order_id = ? ORDER BY created_at, upload_id",
                 [order_identifier, order_id])


def order_timeline(db: Database, order_id: str) -> list[Row]:
    """Status changes from Qargo's visibility events, oldest first."""
    return _rows(db, "SELECT occurred_at, event_type, received_at, via FROM qargo_order_events "
                     "WHERE order_id = ? ORDER BY occurred_at, event_id", [order_id])


# --- invoices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceDetails:
    items: list[Row] = field(default_factory=list)
    payments: list[Row] = field(default_factory=list)
    audit: Row | None = None
    events: list[Row] = field(default_factory=list)
    open_item: Row | None = None  # a Qasida claim or liability as the ERP lists it


def qasida_open_item(db: Database, invoice_number: str, direction: str | None = None) -> Row | None:
    """The Qasida claim (receivable) or liability (payable) behind an outstanding row; the customer's
    name is joined at read time."""
    tables = {"receivable": "qasida_claims", "payable": "qasida_liabilities"}
    for kind, table in tables.items():
        if direction not in (None, kind):
            continue
        found = _rows(db, f"""
            SELECT i.document_number, i.type, i.variable_symbol, c.name AS customer, i.currency,
                   i.invoiced_amount, i.remains_to_be_paid, i.issue_date, i.due_date, i.days_delayed,
                   i.last_payment, i.settled_at
            FROM {table} AS i LEFT JOIN qasida_customers AS c ON c.customer_id = i.customer_id
            WHERE i.document_number = ? ORDER BY i.settled_at IS NOT NULL LIMIT 1""", [invoice_number])
        if found:
            return found[0]
    return None


def invoice_details(db: Database, source: str, invoice_number: str,
                    direction: str | None = None) -> InvoiceDetails:
    """Details of one `invoices_outstanding` row, keyed as that dataset shows it."""
    if source == "qasida":
        return InvoiceDetails(open_item=qasida_open_item(db, invoice_number, direction))
    if source == "quaderno":
        return _quaderno_details(db, invoice_number)
    if source == "cargobase":
        return InvoiceDetails(audit=cargobase_audit(db, invoice_number))
    if source == "upwell":
        return InvoiceDetails(events=upwell_events(db, invoice_number))
    return InvoiceDetails()


def _quaderno_details(db: Database, number: str) -> InvoiceDetails:
    found = db.conn.execute("SELECT raw, currency FROM quaderno_invoices WHERE number = ? LIMIT 1",
                            [number]).fetchone()
    if not found:
        return InvoiceDetails()
    raw, currency = _json(decode_raw(db, found[0])), found[1]
    return InvoiceDetails(items=invoice_items(raw, currency), payments=invoice_payments(raw, currency))


def invoice_items(raw: Mapping[str, Any], currency: str) -> list[Row]:
    return [{
        "description": i.get("description"), "quantity": _text(i.get("quantity")),
        "tax_rate": _text(i.get("tax_rate")),
        "total": cents_text(i.get("total_amount_cents", i.get("subtotal_cents")), currency), "currency": currency,
    } for i in raw.get("items") or [] if isinstance(i, dict)]


def invoice_payments(raw: Mapping[str, Any], currency: str) -> list[Row]:
    return [{
        "date": p.get("date"), "method": p.get("payment_method"),
        "amount": cents_text(p.get("amount_cents"), currency), "currency": currency,
    } for p in raw.get("payments") or [] if isinstance(p, dict)]


def cargobase_audit(db: Database, invoice_number: str) -> Row | None:
    """The audit state of a Cargobase invoice, matched the way `invoices_outstanding` names it."""
    found = _rows(db, """
        SELECT shipment_reference, provider_invoice_number, invoice_reference, invoice_status,
               provider_name, freight_mode, submit_date, modified, last_seen_at, gone_from_vendor_at
        FROM cargobase_invoices
        WHERE coalesce(nullif(provider_invoice_number, ''), invoice_reference, shipment_reference) = ?
        LIMIT 1""", [invoice_number])
    return found[0] if found else None


def upwell_events(db: Database, invoice_number: str) -> list[Row]:
    """Every webhook event Upwell sent for the invoice, oldest first (body left out: evidence only)."""
    return _rows(db, """
        SELECT e.received_at, e.operation, e.event_updated_at, e.outcome, e.deliveries, e.reason, e.event_id
        FROM webhook_events AS e JOIN carrier_invoices AS c ON c.invoice_id = e.resource_id
        WHERE e.source = 'upwell' AND c.invoice_number = ? ORDER BY e.received_at, e.id""", [invoice_number])


# --- aggregates over a filtered dataset -------------------------------------------------------


def _grouped(db: Database, dataset: str, filters: Mapping[str, Any] | None, select: str,
             group: str, now: datetime | None) -> list[Row]:
    ds = get_dataset(dataset)
    where, params = build_where(ds, filters or {})
    sql = f"SELECT {select} FROM ({sql_for(decimal_sum(db), ds)}) {where} GROUP BY {group} ORDER BY {group}"
    return _rows(db, sql, params | clock(now))


def _outstanding(filters: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The list to read: one direction's dataset when `filters` pins `direction`, else the union."""
    rest = dict(filters or {})
    direction = rest.get("direction")
    if direction in ("receivable", "payable"):
        del rest["direction"]
        return f"{direction}s_outstanding", rest
    return "invoices_outstanding", rest


_COUNTED = (("invoices", "count(*)"), ("amount", f"decimal_sum({EXACT})"))


@dataclass(frozen=True)
class OutstandingGroups:
    """One pass over a filtered outstanding list, folded two ways: per direction, counterparty and currency (by
    name), and per direction, aging bucket and currency; invoices and the exact amount (decimal text, empty when
    no invoice of the row carries one)."""

    counterparties: list[Row]
    aging: list[Row]

    @property
    def invoices(self) -> int:
        return sum(int(r["invoices"]) for r in self.aging)


def outstanding_groups(db: Database, filters: Mapping[str, Any] | None = None, *,
                       now: datetime | None = None) -> OutstandingGroups:
    """One SQL pass over the filtered outstanding list per direction, counterparty, currency and aging bucket
    (store/calendar.py), folded into the totals per counterparty and the aging: the Invoices page's figures and
    its list's count read this one stored pass (figures/page_summaries.py)."""
    columns = (("direction", "{direction}"), ("counterparty", "counterparty"), ("currency", "currency"),
               ("bucket", aging_sql()), ("invoices", "count(*)"), ("priced", "count(amount_due)"), _COUNTED[1])
    dataset, rest = _outstanding(filters)
    direction = "direction" if dataset == "invoices_outstanding" else f"'{dataset[:-13]}'"
    groups = _grouped(db, dataset, rest, ", ".join(f"{sql.format(direction=direction)} AS {name}"
                                                   for name, sql in columns), "1, 2, 3, 4", now)
    order = {bucket: i for i, bucket in enumerate(AGING_BUCKETS)}
    aging = sorted(_fold(groups, ("direction", "bucket", "currency")),
                   key=lambda r: (r["direction"], order[r["bucket"]], r["currency"] or ""))
    return OutstandingGroups(_fold(groups, ("direction", "counterparty", "currency")), aging)


def _fold(groups: list[Row], keys: tuple[str, ...]) -> list[Row]:
    """`groups` summed over every column but `keys`, in the order the keys first appear: invoices added, amounts
    added exactly; an amount is empty when no invoice of it carries one, or one is not a number (as decimal_sum)."""
    folded: dict[tuple[Any, ...], tuple[Row, list[Any]]] = {}
    for g in groups:
        row, total = folded.setdefault(tuple(g[k] for k in keys),
                                       ({**{k: g[k] for k in keys}, "invoices": 0}, [None, False]))
        row["invoices"] += int(g["invoices"])
        if g["amount"] is not None:
            total[0] = Decimal(str(g["amount"])) + (total[0] or 0)
        elif int(g["priced"]):
            total[1] = True  # the group's sum was not a number
    return [row | {"amount": "" if bad or total is None else str(total)} for row, (total, bad) in folded.values()]


def totals_by_counterparty(db: Database, filters: Mapping[str, Any] | None = None, *,
                           now: datetime | None = None, limit: int | None = None,
                           groups: OutstandingGroups | None = None) -> list[Row]:
    """Outstanding per direction, counterparty and currency: invoices and the exact amount (decimal
    text; empty when the source lists no amounts). A payable never adds to a receivable. `limit`: the most
    invoices first (amounts in different currencies do not compare), else every one by name. From
    `outstanding_groups` (read now unless given)."""
    rows = (groups or outstanding_groups(db, filters, now=now)).counterparties
    return sorted(rows, key=lambda r: -r["invoices"])[:limit] if limit else rows


def counterparties(db: Database, filters: Mapping[str, Any] | None = None, *, now: datetime | None = None,
                   groups: OutstandingGroups | None = None) -> int:
    """How many (direction, counterparty, currency) rows `totals_by_counterparty` has in all."""
    return len(totals_by_counterparty(db, filters, now=now, groups=groups))


def aging_buckets(db: Database, filters: Mapping[str, Any] | None = None, *,
                  now: datetime | None = None, groups: OutstandingGroups | None = None) -> list[Row]:
    """Outstanding per direction, aging bucket (store/calendar.py, the one definition) and currency, from
    `outstanding_groups` (read now unless given)."""
    return (groups or outstanding_groups(db, filters, now=now)).aging


_WAREHOUSE_TOTALS = ("products", "quantity", "reserved", "available", "items_below_level", "no_level_set")


def warehouse_totals(db: Database, filters: Mapping[str, Any] | None = None,
                     groups: list[Row] | None = None) -> list[Row]:
    """Stock per warehouse and unit (kilograms and pieces do not add up), with how many items are at or
    below their reorder level and how many have no level set: a fold of `kpis.stock_groups` (read now unless
    given), ordered by warehouse (no name first) and unit."""
    totals: dict[tuple[Any, Any], Row] = {}
    for g in kpis.stock_groups(db, utcnow(), filters) if groups is None else groups:
        row = totals.setdefault((g["warehouse"], g["unit"]), {"warehouse": g["warehouse"], "unit": g["unit"],
                                                              **dict.fromkeys(_WAREHOUSE_TOTALS, 0)})
        for column in _WAREHOUSE_TOTALS:
            row[column] += g[column]
    return [totals[k] for k in sorted(totals, key=lambda k: tuple((v is not None, v or "") for v in k))]


# --- tax --------------------------------------------------------------------------------------

_VALIDATION_WORDS = {
    "valid": "the tax authority confirmed the number",
    "invalid": "the tax authority says this number is not valid: check it with the customer",
    "malformed": "not a well-formed number for that country (our offline format/check-digit test; the tax "
                 "authority was not asked): check it for typos",
    # seeds/001 lines 1161-1172: a null answer means the authority's service did not answer.
    "unavailable": "the tax authority's service did not answer: the number is unknown, not invalid; check again later",
    # seeds/001 lines 97, 106: 400/422, Quaderno refused the request itself (its message is in `message`).
    "refused": "Quaderno refused the request (see the message): not an answer about the number; not retried",
}


def explain_tax(status: str | None, notice: str | None = None) -> str:
    """A calculation's outcome in words (Quaderno's own reasons, services/quaderno/models.py)."""
    return TaxCalculation.model_validate({"status": status, "notice": notice}).reason


def tax_amount_note(tax_amount: Any, computed: Any) -> str:
    """Why a tax amount is not Quaderno's own: computed by opsdash (issue 18 point 3), or unknown."""
    if tax_amount is None:
        return "; tax unknown: Quaderno sent no tax amount and no rate"
    return "; tax computed by opsdash (Quaderno sent the rate without the amount)" if computed else ""


def explain_validation(result: str | None, offline_ok: Any = None) -> str:
    words = _VALIDATION_WORDS.get(result or "", f"unknown result {result!r}")
    if result == "unavailable" and offline_ok:
        words += " (accepted offline meanwhile)"
    return words


def with_explanations(rows: list[Row], kind: str) -> list[Row]:
    """Rows of `tax_calculations` or `tax_id_validations` plus an `explanation` column."""
    if kind == "tax_calculations":
        return [row | {"explanation": explain_tax(row.get("status"), row.get("notice"))
                       + tax_amount_note(row.get("tax_amount"), row.get("tax_amount_computed"))} for row in rows]
    return [row | {"explanation": explain_validation(row.get("result"), row.get("offline_ok"))} for row in rows]
