"""The words staff read, defined once for the screen and the XLSX export (issue 21: "XLSX speaks like the screen").

ui/format.py and ui/tables.py (the screen) and exports/sheet.py (the XLSX sheet for people) both read them; here,
below both, because the exports must not import the UI (tests/test_layout.py). Plain Python, no Babel: number and
date *formatting* stays in ui/format.py, the sheet carries real numbers and dates instead.

- `words(value)`: a status or code as words ("REQUESTED" -> "Requested", "awaiting_audit" -> "Awaiting audit");
- `label(column)`: a column's header ("amount_due" -> "Amount due", "delivery_date" -> "Planned delivery");
- `kind(column)`: how a column reads (money, number, flag, words, vendor, date, time, ...);
- `yes_no`, `vendor_name`, `BLANK` ("—" for a blank, never "None");
- `ordered(columns)`: a table's columns with its three most useful first (what a phone shows without scrolling).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

BLANK = "—"
# Upper-case words that stay upper case when a status is put into words ("VAT number", not "Vat number").
ACRONYMS = frozenset({"vat", "erp", "id", "eu", "uk", "us", "api", "pdf", "cmr", "pod", "ok", "iso", "eori", "eta"})

MONEY = frozenset({"amount", "amount_due", "balance", "paid_amount", "tax_amount", "total", "total_amount",
                   "total_tax_amount", "remains_to_be_paid", "invoiced_amount", "outstanding", "overdue",
                   "subtotal", "unit_price", "price"})
NUMBERS = frozenset({"invoices", "items", "orders", "quantity", "reserved", "available", "days_overdue",
                     "pages", "inserted", "updated", "done", "events", "count", "reorder_level", "days_of_cover",
                     "no_level", "below", "rows", "attempts", "duplicates", "rejected", "accepted", "tokens",
                     "capacity", "calls_last_minute", "items_below_level", "deliveries", "products", "no_level_set",
                     "transport_orders", "weight_kg", "volume_m3", "days_delayed", "line_no", "loading_meters",
                     "lead_time_days", "row"})
PERCENT = frozenset({"share"})
RATES = frozenset({"rate", "tax_rate"})  # vendor tax rates: every digit as sent
FLAGS = frozenset({"late", "expected_late", "below_threshold", "below_reorder_level", "runs_out_before_next_delivery",
                   "offline_ok", "set", "configured", "deleted", "overdue_flag", "gone_from_vendor", "approved",
                   "is_unread", "active", "available_now", "tax_amount_computed"})
WORDS = frozenset({"status", "state", "result", "kind", "operation", "direction", "last_event_type",
                   "event_type", "transport_status", "erp_status", "audit_status", "phase", "bucket", "type",
                   "resource", "resource_type", "outcome", "action_result", "late_side", "matched"})
VENDORS = {"qargo": "Qargo", "quaderno": "Quaderno", "qasida": "Qasida", "cargobase": "Cargobase",
           "upwell": "Upwell"}
HIDDEN = frozenset({"order_id", "upload_id", "payload_digest", "raw", "job_id", "resource_id", "invoice_id",
                    "customer_id", "event_id", "run_id", "charge_id", "document_id", "stop_id", "id",
                    "warehouse_id", "product_id", "delivery_id", "dedupe_key", "lease_token", "erp_order_id",
                    "transport_order_ids", "worker_id", "retry_of_id"})
LABELS = {"order_identifier": "Order identifier", "vendor_reference": "Vendor reference",
          "amount_due": "Amount due", "days_overdue": "Days overdue", "to_postal_code": "To postal code",
          "payload_digest": "Payload digest (SHA-256)", "reorder_level": "Reorder level",
          "below_reorder_level": "Below reorder level", "items_below_level": "Items below level",
          "no_level_set": "No level set", "runs_out_before_next_delivery": "Runs out before delivery",
          "offline_ok": "Format OK", "weight_kg": "Weight (kg)", "volume_m3": "Volume (m³)", "url": "Link",
          "at": "When", "source": "Source", "tokens": "Tokens left",
          "delivery_date": "Planned delivery", "eta_date": "ETA", "late_side": "Late side",
          "expected_late": "Expected late", "is_unread": "Unread", "erp_order_number": "ERP order number",
          "lead_time_days": "Lead time (days)", "tax_amount_computed": "Tax computed by opsdash",
          "transport_order_ids": "Transport order IDs", "source_row": "Row in the file"}

# Per table, its three most useful columns (issue 21, phone): a table holding all of them shows them first, in this
# order, then the rest as they were. The first entry whose columns a table has wins, so the more specific come first.
# A fourth column rides along where it belongs beside the third (the carrier's ETA beside the planned delivery).
FIRST_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("uploads", ("erp_order_number", "row", "result")),
    ("business orders", ("order_number", "transport_status", "delivery_date", "eta_date")),
    ("transport orders", ("reference", "status", "delivery_date", "eta_date")),
    ("invoices outstanding", ("counterparty", "amount_due", "days_overdue")),
    ("carrier invoices", ("carrier", "balance", "due_date")),
    ("counterparty totals", ("counterparty", "amount", "invoices")),
    ("aging", ("bucket", "amount", "invoices")),
    ("stock", ("product", "days_of_cover", "warehouse")),
    ("tax calculations", ("calculated_at", "to_country", "tax_amount")),
    ("tax ID checks", ("tax_id", "result", "checked_at")),
    ("audit log", ("at", "what", "target")),
    ("audit log download", ("at", "action", "target")),
    ("alerts", ("title", "status", "opened_at")),
    ("sync runs", ("vendor", "status", "started_at")),
    ("jobs", ("kind", "status", "progress")),
)


def is_blank(value: Any) -> bool:
    """None, "", whitespace, NaN, NaT and pandas' NA are blanks."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, Decimal) and value.is_nan():
        return True
    return type(value).__name__ in ("NaTType", "NAType")


def words(value: Any) -> str:
    """A status or code as words: "INVOICE_READY" -> "Invoice ready", "awaiting_audit" -> "Awaiting audit"."""
    if is_blank(value):
        return BLANK
    raw = str(value).strip()
    if " " in raw and not raw.isupper() and any(c.isupper() for c in raw):
        return raw  # already words: "Duplicate — already in Qargo"
    parts = [p.upper() if p.lower() in ACRONYMS else p.lower() for p in raw.replace("_", " ").split()]
    if not parts:
        return BLANK
    first = parts[0] if parts[0].isupper() and parts[0].lower() in ACRONYMS else parts[0].capitalize()
    return " ".join([first, *parts[1:]])


def label(column: str) -> str:
    """A column name as a header: "amount_due" -> "Amount due", "vat_number" -> "VAT number"."""
    return LABELS.get(column) or words(column)


def yes_no(value: Any) -> str:
    if is_blank(value):
        return BLANK
    return "Yes" if value in (True, 1, "1", "true", "True", "yes") else "No"


def vendor_name(value: Any) -> str:
    """"qargo" -> "Qargo"; anything else as it is."""
    return VENDORS.get(str(value).lower(), str(value))


def kind(column: str) -> str:
    """money | number | flag | rate | percent | words | vendor | date | time | link | text, from the column's name."""
    name = column.lower()
    if name in MONEY:
        return "money"
    if name in FLAGS or name.startswith(("is_", "has_")):
        return "flag"
    if name in NUMBERS:
        return "number"
    if name in RATES:
        return "rate"
    if name in PERCENT:
        return "percent"
    if name in WORDS:
        return "words"
    if name in ("source", "vendor"):
        return "vendor"
    if name.endswith(("_at", "_time")) or name in ("at", "created", "updated_at", "last_success", "last_error_at"):
        return "time"
    if name.endswith("_date") or name in ("date", "day", "due", "last_payment"):
        return "date"
    if name in ("url", "link", "upload") or name.endswith("_url"):
        return "link"
    return "text"


FLAG_VALUES = (0, 1, True, False, "0", "1", "true", "false")


def ordered(columns: Sequence[str]) -> list[str]:
    """The columns with the table's three most useful first (`FIRST_COLUMNS`), the rest in their order."""
    present = set(columns)
    first = next((cols for _, cols in FIRST_COLUMNS if set(cols) <= present), ())
    return [*first, *(c for c in columns if c not in first)]
