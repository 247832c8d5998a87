"""What each rule kind looks for, read from the cache only: `findings(db, rule, now, settings)`.

Each kind returns `{key: Finding}`, one entry per thing in the alerting state (an invoice, a
stock line, a vendor resource...). The key identifies it across evaluations, so the same invoice
stays one alert until it clears. Boundaries are strict where the issue says "passes" or "exceeds"
(days overdue > N, rejections > N, waiting > N hours, cover < N) and inclusive for "within"
(due on or before today + N).

Datasets come from `store.queries` (the contract datasets); a dataset or column that this
installation does not have yet raises `DataUnavailable`, recorded on the rule, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from sqlite_utils import Database

from alerts.rules import Rule
from exports.export import money_value
from figures.freshness import SOURCES, Freshness, freshness
from services.settings import Settings, get_settings
from store import calendar
from store.datasets import DATASETS
from store.db import iso
from store.queries import CURRENCY_EXPONENTS, iter_dataset


class DataUnavailable(Exception):
    """The rule reads a dataset or column this cache does not have (yet)."""


@dataclass(frozen=True)
class Finding:
    key: str
    title: str
    detail: str = ""
    link: str = ""  # page of the record, e.g. "pages/invoices.py", with a query where the page reads one


Evaluator = Callable[[Database, dict[str, Any], datetime, Settings | None], list[Finding]]
EVALUATORS: dict[str, Evaluator] = {}


def evaluator(kind: str) -> Callable[[Evaluator], Evaluator]:
    def register(fn: Evaluator) -> Evaluator:
        EVALUATORS[kind] = fn
        return fn
    return register


def findings(db: Database, rule: Rule, now: datetime, settings: Settings | None = None) -> dict[str, Finding]:
    return {f.key: f for f in EVALUATORS[rule.kind](db, rule.params, now, settings)}


def _rows(db: Database, dataset: str, filters: dict[str, Any], now: datetime,
          needs: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
    if dataset not in DATASETS:
        raise DataUnavailable(f"dataset {dataset!r} is not in this cache yet")
    missing = [c for c in needs if c not in DATASETS[dataset].columns]
    if missing:
        raise DataUnavailable(f"dataset {dataset!r} has no column {missing[0]!r} yet")
    return iter_dataset(db, dataset, filters, now=now)


def _money_ok(row: dict[str, Any], params: dict[str, Any]) -> bool:
    if params.get("currency") and (row.get("currency") or "").upper() != params["currency"].upper():
        return False
    if params.get("min_amount") is None:
        return True
    amount = money_value(row.get("amount_due"), row.get("currency"))
    return amount is not None and amount > Decimal(params["min_amount"])


def _amount(row: dict[str, Any]) -> str:
    amount, code = money_value(row.get("amount_due"), row.get("currency")), str(row.get("currency") or "")
    places = CURRENCY_EXPONENTS.get(code.upper(), 2)  # "5,798.10 EUR", never "5,798.1" (Decimal: exact)
    return "" if amount is None else f" ({amount:,.{places}f} {code}".rstrip() + ")"


def _day(value: Any) -> str:
    """A due date as staff read it, in the business locale: "23 Nov" (issue 21), the year when not this one."""
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    pattern = "d MMM" if day.year == calendar.today().year else "d MMM y"
    return format_date(day, pattern, locale=get_settings().opsdash_locale or "en_GB")


def _vendor(source: Any) -> str:
    """"qasida" -> "Qasida": the five vendor names are their setting names capitalised."""
    return str(source or "").capitalize()


def _party(params: dict[str, Any]) -> dict[str, Any]:
    return {"counterparty": params["counterparty"]} if params.get("counterparty") else {}


@evaluator("receivable_overdue")
def _receivable_overdue(db: Database, params: dict[str, Any], now: datetime, _: Settings | None) -> list[Finding]:
    rows = _rows(db, "receivables_outstanding", {"days_overdue__gt": params["days"], **_party(params)}, now)
    return [Finding(f"{r['source']}:{r['invoice_number']}",
                    f"{r['counterparty']}: invoice {r['invoice_number']} is {r['days_overdue']} days overdue"
                    f"{_amount(r)}", f"overdue since {_day(r['due_date'])} · {_vendor(r['source'])}", "pages/invoices.py")
            for r in rows if _money_ok(r, params)]


@evaluator("payable_due")
def _payable_due(db: Database, params: dict[str, Any], now: datetime, _: Settings | None) -> list[Finding]:
    limit = (calendar.today(now) + timedelta(days=params["days"])).isoformat()  # the business date
    rows = _rows(db, "payables_outstanding", {"due_date__lte": limit, **_party(params)}, now)
    return [Finding(f"{r['source']}:{r['invoice_number']}",
                    f"{r['counterparty']}: invoice {r['invoice_number']} is due {_day(r['due_date'])}{_amount(r)}",
                    f"{_vendor(r['source'])} · {str(r['status'] or '').replace('_', ' ')}", "pages/invoices.py")
            for r in rows if r.get("due_date") and _money_ok(r, params)]


def _stock_filters(params: dict[str, Any]) -> dict[str, Any]:
    return {k: params[k] for k in ("warehouse", "product") if params.get(k)}


def _stock_key(r: dict[str, Any]) -> str:
    return f"{r.get('warehouse_id') or r['warehouse']}:{r.get('product_id') or r['product']}"


@evaluator("stock_below_reorder")
def _stock_below(db: Database, params: dict[str, Any], now: datetime, _: Settings | None) -> list[Finding]:
    columns = DATASETS["stock_levels"].columns
    flag = "below_reorder_level" if "below_reorder_level" in columns else "below_threshold"
    level = "reorder_level" if "reorder_level" in columns else "reorder_threshold"
    rows = _rows(db, "stock_levels", {flag: 1, **_stock_filters(params)}, now)
    return [Finding(_stock_key(r), f"{r['product']} in {r['warehouse']}: {r['available']} {r.get('unit') or ''}"
                    f" available, at or below the reorder level {r[level]}", "", "pages/stock.py") for r in rows]


@evaluator("stock_cover_below")
def _stock_cover(db: Database, params: dict[str, Any], now: datetime, _: Settings | None) -> list[Finding]:
    filters = {"days_of_cover__lt": params["days"], "days_of_cover__ne": None, **_stock_filters(params)}
    rows = _rows(db, "stock_levels", filters, now, needs=("days_of_cover",))
    return [Finding(_stock_key(r), f"{r['product']} in {r['warehouse']}: {r['days_of_cover']} days of cover "
                    f"(below {params['days']})", "", "pages/stock.py") for r in rows]


def _sources(db: Database, params: dict[str, Any], now: datetime, settings: Settings | None) -> list[Freshness]:
    return [f for f in freshness(db, now, settings) if params.get("vendor") in (None, f.vendor)]


_STALE_AFTER: dict[tuple[str, str], timedelta | None] = {(s.vendor, s.resource): s.stale_after for s in SOURCES}


def _is_stale(f: Freshness) -> bool:
    limit = _STALE_AFTER.get((f.vendor, f.resource))
    if f.state == "stale":
        return True
    return f.state == "failing" and limit is not None and (f.age is None or f.age > limit)


@evaluator("sync_stale")
def _sync_stale(db: Database, params: dict[str, Any], now: datetime, settings: Settings | None) -> list[Finding]:
    return [Finding(f"{f.vendor}/{f.resource}", f"{f.label} is stale", f.sentence, "pages/sync.py")
            for f in _sources(db, params, now, settings) if _is_stale(f)]


@evaluator("sync_failed")
def _sync_failed(db: Database, params: dict[str, Any], now: datetime, settings: Settings | None) -> list[Finding]:
    return [Finding(f"{f.vendor}/{f.resource}", f"{f.label}: the last sync failed", f.sentence, "pages/sync.py")
            for f in _sources(db, params, now, settings) if f.state == "failing"]


@evaluator("upload_error")
def _upload_error(db: Database, params: dict[str, Any], now: datetime, _: Settings | None) -> list[Finding]:
    # The latest upload of each order decides: a later successful upload clears the alert.
    since = iso(now - timedelta(days=params["within_days"]))
    rows = db.conn.execute(
        "SELECT u.order_identifier, u.erp_order_number, u.source_row, u.operation, u.error, u.updated_at, u.job_id "
        "FROM order_uploads AS u "
        "WHERE u.status = 'ERROR' AND u.updated_at >= ? AND NOT EXISTS (SELECT 1 FROM order_uploads AS v "
        "WHERE v.order_identifier = u.order_identifier AND (v.created_at, v.upload_id) > (u.created_at, u.upload_id))",
        [since]).fetchall()
    # named by the ERP number and file row staff know (issue 21), never our identifier's hash or Qargo's UUID
    return [Finding(ident, f"Qargo refused the {_UPLOAD_WORDS.get(op, 'upload')} of order "
                    f"{number or ident}" + (f" (row {row})" if number and row is not None else ""),
                    f"{error or 'no reason given'} · {_day(at)}", "pages/upload.py" + (f"?job={job}" if job else ""))
            for ident, number, row, op, error, at, job in rows]


_UPLOAD_WORDS = {"CREATE": "upload", "UPDATE": "update", "DELETE": "cancellation"}


WAITING_APPROVAL = ("TO_REQUEST", "REQUESTED")  # ChargeApprovalStatus (services/qargo/models.py)


@evaluator("charge_waiting")
def _charge_waiting(db: Database, params: dict[str, Any], now: datetime, _: Settings | None) -> list[Finding]:
    """Qargo's charge carries no request time, so the wait counts from the first evaluation that saw it."""
    waiting = db.conn.execute(
        "SELECT charge_id, order_id, description, amount, currency, approval_status FROM qargo_charges "
        "WHERE approval_status IN (?, ?)", WAITING_APPROVAL).fetchall()
    since = _watch(db, "charge_waiting", [row[0] for row in waiting], now)
    limit = now - timedelta(hours=params["hours"])
    return [Finding(cid, f"Charge {desc or cid} on order {order} waits for approval ({amount} {cur})",
                    f"{status} since {since[cid]}", "pages/orders.py")
            for cid, order, desc, amount, cur, status in waiting if datetime.fromisoformat(since[cid]) < limit]


def _watch(db: Database, kind: str, keys: list[str], now: datetime) -> dict[str, str]:
    """First-seen times of `keys` (new ones start now); keys no longer present are forgotten."""
    db.conn.execute("CREATE TEMP TABLE IF NOT EXISTS _watch_keys (key TEXT PRIMARY KEY)")
    db.conn.execute("DELETE FROM _watch_keys")
    db.conn.executemany("INSERT OR IGNORE INTO _watch_keys VALUES (?)", [[k] for k in keys])
    db.conn.execute("DELETE FROM alert_watch WHERE kind = ? AND key NOT IN (SELECT key FROM _watch_keys)", [kind])
    db.conn.execute("INSERT OR IGNORE INTO alert_watch (kind, key, since) SELECT ?, key, ? FROM _watch_keys",
                    [kind, iso(now)])
    return dict(db.conn.execute("SELECT key, since FROM alert_watch WHERE kind = ?", [kind]).fetchall())


@evaluator("tax_id_invalid")
def _tax_id_invalid(db: Database, params: dict[str, Any], now: datetime, _: Settings | None) -> list[Finding]:
    # The latest answer of the authority decides: 'valid' or 'invalid'. 'unavailable' is no answer
    # and 'malformed' our own offline check, so neither fires nor clears (migration 0010_ui).
    rows = db.conn.execute(
        "SELECT t.country, t.tax_id, t.name, t.message, t.checked_at FROM tax_id_validations AS t "
        "WHERE t.result = 'invalid' AND (? IS NULL OR upper(t.country) = upper(?)) "
        "AND t.id = (SELECT max(u.id) FROM tax_id_validations AS u WHERE u.country = t.country "
        "AND u.tax_id = t.tax_id AND u.result IN ('valid', 'invalid'))",
        [params.get("country"), params.get("country")]).fetchall()
    return [Finding(f"{country}:{tax_id}", f"Tax ID {country} {tax_id}{f' ({name})' if name else ''} is invalid "
                    "at the tax authority", f"{message or ''} (checked {checked})".strip(), "pages/tax.py")
            for country, tax_id, name, message, checked in rows]


@evaluator("webhook_rejections")
def _webhook_rejections(db: Database, params: dict[str, Any], now: datetime, _: Settings | None) -> list[Finding]:
    source = params.get("source")
    count = db.conn.execute(
        "SELECT count(*) FROM webhook_events WHERE outcome = 'rejected' AND received_at > ? AND received_at <= ? "
        "AND (? IS NULL OR source = ?)", [iso(now - timedelta(hours=1)), iso(now), source, source]).fetchone()[0]
    if count <= params["count"]:
        return []
    where = f"{source} " if source else ""
    return [Finding(source or "all", f"{count} {where}webhook deliveries rejected in the last hour",
                    "bad credentials or bodies: someone may be sending forged deliveries", "pages/sync.py")]


@evaluator("report")
def _report(db: Database, params: dict[str, Any], now: datetime, _: Settings | None) -> list[Finding]:
    return []  # reports are scheduled (alerts/reports.py), they hold no condition
