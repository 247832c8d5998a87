"""JSON for stored figures (figures/stored.py): no pickles, exact decimals as text, our own classes by name.

`dumps` writes the JSON value types as they are and tags the rest: a Decimal as its text, a date or a
datetime as ISO text, a tuple, a dict with keys that are not text, a pandas frame (columns, dtypes, rows),
a numpy array or scalar (as a list or number: plotly specs), and a dataclass of this application (module and
class name, its fields). `loads` gives back equal objects; it builds only dataclasses of the modules named in
`_OURS`, never an arbitrary class.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

_OURS = ("figures.", "store.")  # dataclasses are rebuilt only from these modules


def dumps(value: Any) -> str:
    return json.dumps(_encode(value), separators=(",", ":"))


def loads(text: str) -> Any:
    return _decode(json.loads(text))


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, pd.DataFrame):
        return {"$df": {"columns": [str(c) for c in value.columns], "dtypes": [str(d) for d in value.dtypes],
                        "rows": [[_encode(_plain(v)) for v in row] for row in value.itertuples(index=False)]}}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {"$dc": f"{cls.__module__}:{cls.__qualname__}",
                "f": {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, tuple):
        return {"$t": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"$map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _encode(value.tolist())
    raise TypeError(f"cannot store a {type(value).__name__} as JSON (figures/codec.py)")


def _plain(value: Any) -> Any:
    """A frame cell as a Python value (numpy scalars to int/float, NaN/NaT to None)."""
    if value is None or isinstance(value, (str, Decimal)):
        return value
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$dec" in value:
        return Decimal(value["$dec"])
    if "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    if "$date" in value:
        return date.fromisoformat(value["$date"])
    if "$t" in value:
        return tuple(_decode(v) for v in value["$t"])
    if "$map" in value:
        return {_decode(k): _decode(v) for k, v in value["$map"]}
    if "$df" in value:
        return _frame(value["$df"])
    if "$dc" in value:
        return _dataclass(value["$dc"], value["f"])
    return {k: _decode(v) for k, v in value.items()}


def _frame(spec: dict[str, Any]) -> pd.DataFrame:
    rows = [[_decode(v) for v in row] for row in spec["rows"]]
    frame = pd.DataFrame(rows, columns=spec["columns"], dtype=object)
    typed = {c: d for c, d in zip(spec["columns"], spec["dtypes"], strict=True) if d != "object"}
    return frame.astype(typed) if typed and len(frame) else frame


def _dataclass(name: str, fields: dict[str, Any]) -> Any:
    module, _, qualname = name.partition(":")
    if not module.startswith(_OURS):
        raise ValueError(f"stored figure names a class outside the application: {name}")
    cls: Any = getattr(importlib.import_module(module), qualname)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ValueError(f"stored figure names a class that is not a dataclass: {name}")
    return cls(**{k: _decode(v) for k, v in fields.items()})
