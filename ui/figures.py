"""Plotly figures built once per data, not once per rerun (issue 12).

Building a figure with plotly express validates every trace and took more time than the rest of a
warm rerun. `cached(build, frame, **options)` keys the figure on the builder, a digest of the
frame's values (the data version, in effect: a loader returns the same frame until its data changes)
and the options, and hands every session the same figure object. `st.plotly_chart` only reads the
figure (it serialises a copy), so sharing it is safe; never mutate a figure returned from here.

    st.plotly_chart(figures.cached(px.bar, frame, x="day", y="orders", color="status"), key="chart.orders")

    @figures.memoized                      # or on a builder: the same, for every call
    def aging(frame: pd.DataFrame, currency: str) -> go.Figure: ...
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

FIGURE_TTL_S = 3600
FIGURE_ENTRIES = 128


def digest(data: Any) -> str:
    """A digest of a frame's columns, index and values, or of any JSON-like data (rows as dicts)."""
    if isinstance(data, pd.DataFrame):
        h = hashlib.sha256(json.dumps([str(c) for c in data.columns]).encode())
        h.update(pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes())
        return h.hexdigest()
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def cached(build: Callable[..., Any], frame: Any, *args: Any, **options: Any) -> Any:
    """`build(frame, *args, **options)`, built once per (builder, data, arguments) and shared."""
    name = f"{getattr(build, '__module__', '')}.{getattr(build, '__qualname__', repr(build))}"
    key = json.dumps([list(args), options], sort_keys=True, default=str)
    return _figure(name, digest(frame), key, build, frame, args, options)


def memoized(build: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator form of `cached` for a figure builder whose first argument is its frame."""
    @functools.wraps(build)
    def wrapper(frame: Any, *args: Any, **options: Any) -> Any:
        return cached(build, frame, *args, **options)
    return wrapper


@st.cache_resource(ttl=FIGURE_TTL_S, max_entries=FIGURE_ENTRIES, show_spinner=False)
def _figure(name: str, data: str, arguments: str, _build: Callable[..., Any], _frame: Any,
            _args: tuple[Any, ...], _options: dict[str, Any]) -> Any:
    return _frozen(_build(_frame, *_args, **_options))


def _frozen(figure: Any) -> Any:
    """The figure with its `to_dict()` computed once: `st.plotly_chart` calls it on every rerun (~10 ms
    a figure) and only serialises the result, so every rerun can share one spec."""
    to_dict = getattr(figure, "to_dict", None)
    if callable(to_dict) and hasattr(figure, "layout"):
        spec = to_dict()
        object.__setattr__(figure, "to_dict", lambda: spec)
    return figure
