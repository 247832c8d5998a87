"""Downloads of what the user is looking at: the whole filtered dataset, or the rows on screen.

Both files are built only on click (`st.download_button` takes a callable), so a rerun never builds a
file nobody asked for. The whole dataset is streamed by `exports.export.export` with the page's filters,
exactly as `opsdash export DATASET --filter ...` writes it (tests/pages/test_downloads.py holds them
equal); money stays exact. File names say what is inside and when: `receivables_EUR_2026-11-29T1042.xlsx`
(dataset, a hint of the filters, the local time of the click).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import streamlit as st

from exports.export import FORMATS, export, export_bytes
from store.schema import session
from ui import format as fmt

MIME = {"csv": "text/csv", "json": "application/json", "parquet": "application/vnd.apache.parquet",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
LABELS = {"csv": "CSV", "xlsx": "XLSX", "parquet": "Parquet", "json": "JSON"}
_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]+")
_BOUNDS = {"__gte": "from", "__gt": "after", "__lte": "to", "__lt": "before"}  # date ranges, named in the file


def builder(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt_: str) -> Callable[[], bytes]:
    """A no-argument callable producing the file (what `st.download_button` calls on click)."""
    frozen, cols = [dict(r) for r in rows], list(columns)
    return lambda: export_bytes(frozen, cols, fmt_)


def dataset_bytes(db_path: str, dataset: str, query: Mapping[str, Any] | None, fmt_: str) -> bytes:
    """The whole filtered dataset as a file, streamed in batches by exports/export.py."""
    buffer = io.BytesIO()
    with session(db_path) as db:
        export(db, dataset, fmt_, buffer, dict(query or {}))
    return buffer.getvalue()


def filter_hint(query: Mapping[str, Any] | None) -> str:
    """Every filter, file-name-safe: {"currency": "EUR"} -> "EUR"; a range bound names its column and side,
    {"due_date__gte": "2026-01-01"} -> "due-date-from-2026-01-01" (issue 21: the name says every filter)."""
    parts: list[str] = []
    for column, value in (query or {}).items():
        bound = next((side for suffix, side in _BOUNDS.items() if column.endswith(suffix)), None)
        values = value if isinstance(value, (list, tuple)) else [value]
        safe = [_UNSAFE.sub("-", str(v)).strip("-") for v in values]
        if bound:
            name = column.rsplit("__", 1)[0].replace("_", "-")
            safe = [f"{name}-{bound}-{v[:10]}" for v in safe if v]
        parts.extend(safe)
    return "_".join(p for p in parts if p)[:150]


def file_name(dataset: str, query: Mapping[str, Any] | None, fmt_: str, now: datetime | None = None,
              shown: bool = False) -> str:
    """`receivables_EUR_2026-11-29T1042.xlsx`; `..._shown_...` for the rows on screen."""
    moment = fmt.local_time(now or datetime.now(fmt.timezone())) or datetime.now()
    parts = [dataset, filter_hint(query), "shown" if shown else "", moment.strftime("%Y-%m-%dT%H%M")]
    return "_".join(p for p in parts if p) + f".{fmt_}"


def cli_command(dataset: str, query: Mapping[str, Any] | None, fmt_: str) -> str | None:
    """The `opsdash export` line giving the same file, or None when a filter has no CLI form (a list)."""
    args = [f"opsdash export {dataset} --format {fmt_}"]
    for column, value in (query or {}).items():
        if isinstance(value, (list, tuple)):
            return None
        args.append(f"--filter '{column}={value}'")
    return " ".join(args) + f" --output {dataset}.{fmt_}"


def download(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], key: str,
             label: str = "Rows shown", *, dataset: str | None = None,
             query: Mapping[str, Any] | None = None, total: int | None = None, db_path: str | None = None) -> None:
    """A format picker, a "whole filtered dataset" button (when `dataset` is given) and a "rows shown" one."""
    name = dataset or key.split(".")[0]
    picker, whole, shown = st.columns([1, 2, 2], vertical_alignment="bottom")
    chosen = picker.selectbox("Format", FORMATS, format_func=LABELS.__getitem__, key=f"{key}.format",
                              label_visibility="collapsed")
    if dataset is not None:
        from ui import data  # the configured database (imported late: ui.data is the loaders' module)

        path = db_path or data.db_path()
        count = f"all {fmt.count(total, 'row')}" if total is not None else "all rows"
        whole.download_button(
            f"Download {count} · {LABELS[chosen]}", lambda: dataset_bytes(path, dataset, query, chosen),
            file_name=file_name(name, query, chosen), mime=MIME[chosen], key=f"{key}.download_all",
            on_click="ignore", icon=":material/download:",
            help="Every row matching the filters, not only this page. Same file as: "
                 + (cli_command(dataset, query, chosen) or "opsdash export with these filters"))
    shown.download_button(f"{label} · {LABELS[chosen]}", builder(rows, columns, chosen),
                          file_name=file_name(name, query, chosen, shown=dataset is not None), mime=MIME[chosen],
                          key=f"{key}.download", on_click="ignore",
                          help=f"The {fmt.number(len(rows))} rows on screen.")
