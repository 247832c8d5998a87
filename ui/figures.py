"""Plotly figures built once per data, not once per rerun (issue 12).

Building a figure with plotly express validates every trace and took more time than the rest of a
warm rerun. `cached(build, frame, **options)` keys the figure on the builder, a digest of the
frame's values (the data version, in effect: a loader returns the same frame until its data changes)
and the options, and hands every session the same figure object. `st.plotly_chart` only reads the
figure (it serialises its `to_dict()`), so sharing it is safe; never mutate a figure returned here.

The figure's spec (`to_dict()`) is also kept in SQLite (figures/stored.py, content-addressed, JSON), so a
new server process or a new session after a restart shows the chart without building it again: it
gets a `SpecFigure`, a figure whose `to_dict()` is the stored spec (enough for `st.plotly_chart`;
anything else should build its own figure).

    st.plotly_chart(figures.cached(px.bar, frame, x="day", y="orders", color="status"), key="chart.orders")

    @figures.memoized                      # or on a builder: the same, for every call
    def aging(frame: pd.DataFrame, currency: str) -> go.Figure: ...
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from figures import stored
from services.settings import get_settings
from store.db import DATABASE_ERRORS
from store.schema import session

FIGURE_TTL_S = 3600
FIGURE_ENTRIES = 128


def digest(data: Any) -> str:
    """A digest of a frame's columns, index and values, or of any JSON-like data (rows as dicts)."""
    if isinstance(data, pd.DataFrame):
        # The pickle, not pd.util.hash_pandas_object: 4x faster on a chart's frame. Equal frames laid out
        # differently in memory may pickle differently: a cache miss, never a wrong hit.
        return hashlib.sha256(pickle.dumps(data, protocol=5)).hexdigest()
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def cached(build: Callable[..., Any], frame: Any, *args: Any, **options: Any) -> Any:
    """`build(frame, *args, **options)`, built once per (builder, data, arguments) and shared."""
    name = f"{getattr(build, '__module__', '')}.{getattr(build, '__qualname__', repr(build))}"
    key = json.dumps([list(args), options], sort_keys=True, default=str)
    return _figure(name, digest(frame), key, build, frame, args, options)


def kept(build: Callable[..., Any], data: Any, *args: Any) -> Any:
    """`build(data, *args)` for any JSON-like result (figures/codec.py) (e.g. a big table's formatted rows), built once per
    (builder, data, arguments), shared in memory and kept in SQLite for new processes, like a figure."""
    name = f"{getattr(build, '__module__', '')}.{getattr(build, '__qualname__', repr(build))}"
    return _kept(name, digest(data), json.dumps(list(args), default=str), build, data, args)


@st.cache_resource(ttl=FIGURE_TTL_S, max_entries=FIGURE_ENTRIES, show_spinner=False)
def _kept(name: str, data: str, arguments: str, _build: Callable[..., Any], _data: Any,
          _args: tuple[Any, ...]) -> Any:
    code = stored.code_fingerprint()
    key = "kept:" + hashlib.sha256(f"{name}|{data}|{arguments}|{code}|{_presentation()}".encode()).hexdigest()
    value = _stored(key, dict_only=False)
    if value is not None:
        return value
    started = time.perf_counter()
    value = _build(_data, *_args)
    _store(key, name, value, round((time.perf_counter() - started) * 1000))
    return value


def memoized(build: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator form of `cached` for a figure builder whose first argument is its frame."""
    @functools.wraps(build)
    def wrapper(frame: Any, *args: Any, **options: Any) -> Any:
        return cached(build, frame, *args, **options)
    return wrapper


@st.cache_resource(ttl=FIGURE_TTL_S, max_entries=FIGURE_ENTRIES, show_spinner=False)
def _figure(name: str, data: str, arguments: str, _build: Callable[..., Any], _frame: Any,
            _args: tuple[Any, ...], _options: dict[str, Any]) -> Any:
    code = stored.code_fingerprint()
    key = "figure:" + hashlib.sha256(f"{name}|{data}|{arguments}|{code}|{_presentation()}".encode()).hexdigest()
    spec = _stored(key)
    if spec is not None:
        return spec_figure(spec)
    started = time.perf_counter()
    figure = _frozen(_build(_frame, *_args, **_options))
    if _is_plotly(figure):
        _store(key, name, _json_spec(figure), round((time.perf_counter() - started) * 1000))
    return figure


def _json_spec(figure: Any) -> dict[str, Any]:
    """The figure's spec as plain JSON values (plotly's own encoder: numpy arrays, dates)."""
    import plotly.io as pio

    return json.loads(pio.to_json(figure.to_dict(), validate=False))  # type: ignore[no-any-return]


def _is_plotly(figure: Any) -> bool:
    return callable(getattr(figure, "to_dict", None)) and hasattr(figure, "layout")


def _frozen(figure: Any) -> Any:
    """The figure with its `to_dict()` computed once: `st.plotly_chart` calls it on every rerun (~10 ms
    a figure) and only serialises the result, so every rerun can share one spec."""
    if _is_plotly(figure):
        spec = figure.to_dict()
        object.__setattr__(figure, "to_dict", lambda: spec)
    return figure


def spec_figure(spec: dict[str, Any]) -> Any:
    """A plotly Figure that is only its spec: `to_dict()` returns it, nothing is validated again."""
    import plotly.graph_objects as go

    figure = go.Figure.__new__(go.Figure)
    object.__setattr__(figure, "to_dict", lambda: spec)
    return figure


def _stored(key: str, dict_only: bool = True) -> Any | None:
    try:
        with session(_db_path()) as db:
            value = stored.get_content(db, key)
    except DATABASE_ERRORS:  # the figure is rebuilt; storage is only a shortcut
        return None
    return value if isinstance(value, dict) or not dict_only else None


_NOT_STORED: tuple[type[Exception], ...] = (*DATABASE_ERRORS, TypeError)


def _store(key: str, name: str, spec: Any, build_ms: int) -> None:
    try:
        with session(_db_path()) as db:
            stored.put_content(db, key, name, spec, build_ms)
    except _NOT_STORED:  # not storable as JSON: kept in memory only
        pass


def _presentation() -> str:
    """The settings every formatted value depends on (ui/format.py): a figure or table kept in SQLite
    under one locale or time zone is not shown under another."""
    settings = get_settings()
    return f"{getattr(settings, 'opsdash_locale', '')}|{getattr(settings, 'opsdash_timezone', '')}"


def _db_path() -> str:
    from ui.versioned import db_path

    return db_path()
