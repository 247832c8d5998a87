"""Reusable page pieces: freshness badges, empty-state explainers and the paged table.

Typical dataset section (or call `dataset_section`, which does exactly this):

    query = filters.to_query(filters.current(), "orders", date_column="order_date")
    page = data.dataset_page("orders", query, offset=widgets.page_offset("orders"))
    sources = data.dataset_freshness("orders")
    widgets.freshness_badges(sources)
    if page.total:
        widgets.table(page, key="orders")
    else:
        widgets.empty_state(sources, filtered=bool(query))

Pager state lives in `st.session_state[f"{key}.offset"]` (owned here, see `page_offset`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import plotly.express as px
import streamlit as st

from figures.freshness import Freshness
from jobs.jobs import Job
from services.settings import VENDORS, Settings
from store.calendar import AGING_BUCKETS
from store.queries import Page, Row, format_minor
from ui import data, downloads, safe, versioned
from ui import format as fmt

# Integer minor-unit money columns of the datasets; each sits next to a `currency` column.
MONEY_COLUMNS = frozenset({"amount", "amount_due", "balance", "paid_amount", "tax_amount", "total",
                           "total_amount", "total_tax_amount", "remains_to_be_paid"})
BADGE_COLORS: dict[str, Any] = {  # Any: st.badge takes a Literal of colour names
    "ok": "green", "stale": "orange", "failing": "red", "never synced": "gray",
    "not configured": "gray", "interrupted": "orange"}
_PROBLEMS = ("stale", "failing", "interrupted")


def as_of_caption() -> None:
    """"Figures as of 10:42:07" (local time, to the second): the oldest stored figure this run showed
    (ui/versioned.py); the worker refreshes them after writes (docs/performance.md, "Staleness")."""
    built = versioned.as_of()
    moment = fmt.local_time(built) if built else None
    if moment is not None:
        st.caption(f"Figures as of {moment.strftime('%H:%M:%S')}")


def freshness_badges(sources: Sequence[Freshness]) -> None:
    """One line ("Data as of 10:42 · 3 min ago · all sources fresh", ui/format.py), and a warning banner
    when any source is stale or failing (one badge per source read as a wall of "ok": issue 10)."""
    from ui import format as fmt

    st.caption(fmt.freshness_line(sources))
    problems = [s.sentence for s in sources if s.state in _PROBLEMS]
    if problems:
        st.warning("Data may be out of date. " + " · ".join(safe.text(p) for p in problems)  # vendor errors inside
                   + " — see Sync & health to refresh.", icon=":material/schedule:")


SIDEBAR_FILTERS = "Widen the date range or clear the source filter in the sidebar."
SYNCED_BUT_EMPTY = "The sources below were synced and hold no row here."


def empty_state(sources: Sequence[Freshness], *, filtered: bool, widen: str = SIDEBAR_FILTERS,
                nothing: str = SYNCED_BUT_EMPTY) -> None:
    """Explain why nothing is shown, and what to do about it: `widen` names the filters this page has (Stock has
    no date range), `nothing` says what an empty synced list means there ("nothing outstanding", issue 21)."""
    states = {s.state for s in sources}
    if sources and states == {"not configured"}:
        st.info("No source of this data is configured. " + _sentences(sources)
                + " Then restart opsdash.", icon=":material/settings:")
    elif "failing" in states:
        st.error("The last sync failed. " + _sentences(sources, "failing")
                 + " Fix the cause, then use Refresh now on Sync & health.", icon=":material/error:")
    elif sources and states <= {"never synced", "not configured"}:
        st.info("Nothing synced yet. " + _sentences(sources)
                + " The worker syncs on a schedule; Refresh now on Sync & health starts one.",
                icon=":material/hourglass_empty:")
    elif filtered:
        st.info(f"No rows match the filters. {widen}", icon=":material/filter_alt_off:")
    else:
        st.info(nothing + (" " + _sentences(sources) if sources else ""), icon=":material/inbox:")


def _sentences(sources: Sequence[Freshness], state: str | None = None) -> str:
    return " ".join(f"{s.sentence}." for s in sources if state is None or s.state == state)


def page_offset(key: str) -> int:
    return int(st.session_state.get(f"{key}.offset", 0))


def _move(key: str, offset: int) -> None:
    st.session_state[f"{key}.offset"] = max(0, offset)


def display_rows(rows: Sequence[Row], columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows restricted to `columns`, money as exact decimal text (never a float)."""
    return [{c: format_minor(r[c], r.get("currency")) if c in MONEY_COLUMNS and c in r else r.get(c)
             for c in columns} for r in rows]


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def table(page: Page, key: str, columns: Sequence[str] | None = None,
          page_size: int = data.PAGE_SIZE) -> None:
    """The rows of one SQL page, a pager (limit/offset) and a download of exactly these rows."""
    cols = list(columns or page.columns)
    rows = display_rows(page.rows, cols)
    st.dataframe(rows, column_order=cols, hide_index=True, key=f"{key}.table")
    _pager(key, page.total, len(rows), page_size)
    downloads.download(rows, cols, key)  # CSV, XLSX, Parquet or JSON, built on click


def _pager(key: str, total: int, shown: int, page_size: int) -> None:
    offset = page_offset(key)
    left, middle, right = st.columns([1, 3, 1])
    left.button("Previous", key=f"{key}.prev", disabled=offset == 0,
                on_click=_move, args=(key, offset - page_size))
    middle.caption(f"Rows {offset + 1 if shown else 0}–{offset + shown} of {total}")
    right.button("Next", key=f"{key}.next", disabled=offset + shown >= total,
                 on_click=_move, args=(key, offset + page_size))


def dataset_section(name: str, query: Mapping[str, Any], key: str,
                    columns: Sequence[str] | None = None, order_by: str | None = None) -> Page:
    """Freshness badges, then the paged table or the empty-state explainer; returns the page."""
    sources = data.dataset_freshness(name)
    freshness_badges(sources)
    page = data.dataset_page(name, dict(query), offset=page_offset(key), order_by=order_by)
    if page.total and not page.rows:  # the filters shrank the result below the current page
        _move(key, 0)
        page = data.dataset_page(name, dict(query), offset=0, order_by=order_by)
    if page.total:
        table(page, key, columns)
    else:
        empty_state(sources, filtered=bool(query))
    return page


OUTSTANDING_HELP = ("Open invoices in this currency, exact. The cache keeps each invoice's current "
                    "state, not its history, so payments made this week cannot be shown: the change "
                    "is the part of today's outstanding issued in the last 7 days.")
OVERDUE_HELP = ("Open invoices past their due date (business date, OPSDASH_TIMEZONE), exact. The change is "
                "the part that fell due in the last 7 days, among invoices still open today.")
DIRECTION_WORDS = {"receivable": "Receivables (others owe us)", "payable": "Payables (we owe)"}


def grid(count: int, per_row: int = 4) -> list[Any]:
    """`count` columns laid out `per_row` to a row, so many currencies or statuses never squeeze."""
    cells: list[Any] = []
    while len(cells) < count:
        cells.extend(st.columns(per_row))
    return cells[:count]


def money_text(amount: int | Decimal | str, currency: str) -> str:
    """Exact text for a KPI card: (Decimal("1234.50"), "EUR") -> "1234.50 EUR"; ints are minor units."""
    if isinstance(amount, int):
        return f"{format_minor(amount, currency)} {currency}"
    return f"{amount} {currency}"


def aging_chart(aging: Any) -> Any:
    """Bars per aging bucket (store/calendar.py), one facet per currency (currencies are never added)."""
    # Plot scale only (plotly needs numbers); the hover and the table show the exact text.
    frame = aging[aging["amount"] != ""]
    frame = frame.assign(value=frame["amount"].astype(float))
    return px.bar(frame, x="bucket", y="value", color="source", facet_col="currency",
                  hover_data={"amount": True, "invoices": True, "value": False},
                  category_orders={"bucket": list(AGING_BUCKETS)},
                  labels={"value": "amount"}).update_yaxes(matches=None)


def outstanding_cards(totals: Any) -> None:
    """The KPI cards of one direction (a `figures.kpis.Outstanding`): outstanding and overdue per currency."""
    st.metric("Overdue invoices", totals.overdue_count, help="Open invoices past their due date.")
    cols = grid(len(totals.outstanding), per_row=3)
    for col, (currency, amount) in zip(cols, totals.outstanding.items(), strict=False):
        col.metric(f"Outstanding {currency}", money_text(amount, currency),
                   delta=f"+{money_text(totals.issued_7d.get(currency, 0), currency)} issued in 7 days",
                   delta_color="off", help=OUTSTANDING_HELP)
    cols = grid(len(totals.overdue), per_row=3)
    for col, (currency, amount) in zip(cols, totals.overdue.items(), strict=False):
        col.metric(f"Overdue {currency}", money_text(amount, currency),
                   delta=f"+{money_text(totals.overdue_7d.get(currency, 0), currency)} fell due in 7 days",
                   delta_color="inverse", help=OVERDUE_HELP)
    if totals.without_amount:
        st.caption(f"{totals.without_amount} invoice(s) awaiting audit are listed without an amount "
                   "(amount not in the list: Cargobase sends none); counted, never added.")
    if not totals.invoices:
        st.caption("Nothing outstanding.")


POLL_S = 2  # how often a job's progress is re-read while the page is open


def pulled_vendors(settings: Settings) -> list[str]:
    """Configured vendors a sync can pull from (Upwell pushes by webhook: nothing to refresh)."""
    return [v for v in VENDORS if v != "upwell" and settings.configured(v)]


def job_progress(label: str, job: Job | None) -> None:
    """A progress bar for a queued/running job, or its outcome in words."""
    if job is None:
        return
    if job.status in ("queued", "running"):
        fraction = min(1.0, job.done / job.total) if job.total else 0.0
        text = f"{label.title()}: {job.status}" + (f" — {safe.text(job.message)}" if job.message else "")
        st.progress(fraction, text=text)
    elif job.status == "done":
        st.success(f"{label.title()}: refreshed.", icon=":material/check:")
    else:
        st.error(f"{label.title()}: {job.status}. {safe.text(job.error)}", icon=":material/error:")


def freshness_rows(sources: Sequence[Freshness]) -> list[dict[str, Any]]:
    return [{"source": s.label, "state": s.state, "last success": s.last_success_at,
             "last error": s.last_error or "", "status": s.sentence} for s in sources]


def job_rows(items: Sequence[Job]) -> list[dict[str, Any]]:
    return [{"job": j.job_id, "kind": j.kind, "vendor": j.payload.get("vendor", ""), "status": j.status,
             "progress": f"{j.done}/{j.total}" if j.total else str(j.done), "message": j.message or "",
             "error": j.error or "", "requested by": j.requested_by, "created": j.created_at}
            for j in items]
