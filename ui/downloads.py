"""Download exactly what is shown, in the format the user picks; the file is built only on click.

`st.download_button` accepts a callable since Streamlit 1.5x (1.67 here): it runs when the button is
clicked, so a rerun never builds four files nobody asked for. Money stays exact (cache/export.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from cache.export import FORMATS, export_bytes

MIME = {"csv": "text/csv", "json": "application/json", "parquet": "application/vnd.apache.parquet",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
LABELS = {"csv": "CSV", "xlsx": "XLSX", "parquet": "Parquet", "json": "JSON"}


def builder(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str) -> Callable[[], bytes]:
    """A no-argument callable producing the file (what `st.download_button` calls on click)."""
    frozen, cols = [dict(r) for r in rows], list(columns)
    return lambda: export_bytes(frozen, cols, fmt)


def download(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], key: str,
             label: str = "Download (rows shown)") -> None:
    """A format picker and a download button for `rows` (raw rows: export formats money itself)."""
    picker, button = st.columns([1, 2], vertical_alignment="bottom")
    fmt = picker.selectbox("Format", FORMATS, format_func=LABELS.__getitem__, key=f"{key}.format",
                           label_visibility="collapsed")
    button.download_button(f"{label} · {LABELS[fmt]}", builder(rows, columns, fmt), file_name=f"{key}.{fmt}",
                           mime=MIME[fmt], key=f"{key}.download", on_click="ignore")
