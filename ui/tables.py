"""Tables people read: human headers, money/number/date/flag/link columns, statuses as words, no "None".

`show(rows, columns, key)` renders rows (raw dataset rows: money in minor units or decimal text next to a
`currency` column) with `st.dataframe` and a `column_config` built from the column names:

- money (`amount_due`, `total`, ...) -> exact text `1,234.50 EUR` (ui/format.py), right-aligned;
- counts and quantities -> grouped digits; dates -> "Nov 29, 2026"; timestamps (`*_at`) -> local time;
- flags (`late`, `below_reorder_level`, ...) -> a checkbox column; statuses -> words ("Invoice ready");
- `url` columns -> links; technical ids (`order_id`, `upload_id`, digests, raw JSON) hidden unless `ids=True`;
- blanks -> "—" (`placeholder`), never "None", "nan" or "NaT";
- every table's three most useful columns first (`figures.words.FIRST_COLUMNS`: a phone shows them without
  scrolling sideways; the desktop shows all columns, in the same order).

`display(rows, columns)` gives the formatted cells without Streamlit (tests, small detail lists).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from figures import words
from ui import figures
from ui import format as fmt

# The column vocabulary (kinds, headers, vendor names, hidden ids, the three columns a phone shows first) is
# figures/words.py's, shared with the XLSX export; the names stay importable from here.
MONEY, NUMBERS, PERCENT, RATES, FLAGS, WORDS = words.MONEY, words.NUMBERS, words.PERCENT, words.RATES, words.FLAGS, \
    words.WORDS
VENDORS, HIDDEN, LABELS = words.VENDORS, words.HIDDEN, words.LABELS
kind, label, ordered = words.kind, words.label, words.ordered

LINK_TEXT = {"upload": "Open its upload"}


def visible(columns: Sequence[str], ids: bool = False) -> list[str]:
    """The columns to show, the table's three most useful first (`ordered`): technical ids only when asked for."""
    return [c for c in ordered(columns) if ids or c not in HIDDEN]


_FLAG_VALUES = words.FLAG_VALUES


def column_kind(column: str, rows: Sequence[Mapping[str, Any]] = ()) -> str:
    """`kind`, checked against the data: a "flag" column holding counts (a total per warehouse) is a number."""
    found = kind(column)
    if found == "flag" and any(r.get(column) not in (*_FLAG_VALUES, None) for r in rows):
        return "number"
    return found


def cell(column: str, row: Mapping[str, Any], *, minor: bool = True, as_kind: str | None = None) -> Any:
    """One display value: text for money/numbers/dates, bool for flags, None for a blank."""
    value = row.get(column)
    if fmt.is_blank(value):
        return None
    formatter = _FORMATTERS.get(as_kind or kind(column))
    if (as_kind or kind(column)) == "money":
        if "currency" not in row:  # e.g. a job's `total`: a count, not money
            return fmt.number(value)
        return fmt.money(value, row.get("currency"), minor=minor and isinstance(value, int),
                         code=bool(row.get("currency")))
    return formatter(value) if formatter else value


_FORMATTERS: dict[str, Callable[[Any], Any]] = {
    "number": fmt.number, "percent": fmt.percent, "rate": fmt.rate, "date": fmt.day, "time": fmt.when, "words": fmt.words,
    "vendor": words.vendor_name, "flag": lambda v: v in (True, 1, "1", "true"),
    "text": lambda v: v if isinstance(v, str) else fmt.text(v), "link": str,
}


def display(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of display values (see `cell`), keyed by column name."""
    kinds = {c: column_kind(c, rows) for c in columns}
    return [{c: cell(c, r, as_kind=kinds[c]) for c in columns} for r in rows]


KEEP_FROM_ROWS = 200  # tables this long are formatted once per data (ui/figures.py), not on every rerun


def display_kept(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """`display`, kept for big tables: Babel formatting of every cell was most of a warm rerun of a page
    listing thousands of counterparties. Keyed by a digest of the rows, plus the minute when a column
    shows times ("3 min ago" moves on)."""
    if len(rows) < KEEP_FROM_ROWS:
        return display(rows, columns)
    clock = int(time.time() // 60) if any(column_kind(c, rows) == "time" for c in columns) else 0
    return figures.kept(_display_at, list(rows), list(columns), clock)


def _display_at(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], minute: int) -> list[dict[str, Any]]:
    return display(rows, columns)


def config(columns: Sequence[str], helps: Mapping[str, str] | None = None,
           rows: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """`st.column_config` for `columns`: human labels and a column type per kind."""
    helps = helps or {}
    out: dict[str, Any] = {}
    for column in columns:
        text, help_ = label(column), helps.get(column)
        k = column_kind(column, rows)
        if k == "flag":
            out[column] = st.column_config.CheckboxColumn(text, help=help_)
        elif k == "link":
            out[column] = st.column_config.LinkColumn(text, help=help_, display_text=LINK_TEXT.get(column, "Open"))
        elif k in ("money", "number", "percent", "rate"):
            out[column] = st.column_config.TextColumn(text, help=help_, alignment="right")
        else:
            out[column] = st.column_config.TextColumn(text, help=help_)
    return out


def show(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], key: str, *, ids: bool = False,
         helps: Mapping[str, str] | None = None, **dataframe: Any) -> Any:
    """Render `rows` as a readable table; extra keyword arguments go to `st.dataframe` (selection...)."""
    cols = visible(columns, ids)
    return st.dataframe(display_kept(rows, cols), column_order=cols, column_config=config(cols, helps, rows),
                        hide_index=True, key=key, placeholder=fmt.BLANK, **dataframe)


def fields(row: Mapping[str, Any], columns: Sequence[str] | None = None, ids: bool = False) -> list[tuple[str, str]]:
    """A record as (label, text) pairs for a details panel: blanks left out."""
    out = []
    for column in visible(columns or list(row), ids):
        value = cell(column, row)
        if value is None or isinstance(value, (dict, list)):
            continue
        out.append((label(column), fmt.yes_no(value) if isinstance(value, bool) else str(value)))
    return out


def show_fields(row: Mapping[str, Any], columns: Sequence[str] | None = None, per_row: int = 3) -> None:
    """A record as readable fields in a grid (no JSON)."""
    pairs = fields(row, columns)
    for start in range(0, len(pairs), per_row):
        for col, (name, value) in zip(st.columns(per_row), pairs[start:start + per_row], strict=False):
            col.markdown(f"**{name}**")
            col.text(value)


def static(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], **table: Any) -> Any:
    """A small static table (HTML, so its text is selectable): formatted cells, human headers, "—" blanks."""
    shown = [{label(c): _static_cell(c, r) for c in columns} for r in rows]
    return st.table(shown, hide_index=True, border="horizontal", **table)


def _static_cell(column: str, row: Mapping[str, Any]) -> str:
    value = cell(column, row)
    if value is None:
        return fmt.BLANK
    return fmt.yes_no(value) if isinstance(value, bool) else str(value)
