"""Untrusted JSON, read safely: strict UTF-8, a nesting limit, numbers SQLite can hold, real Unicode.

Python's `json` recurses once per nesting level (a body of 100,000 `[` raises RecursionError),
turns `1e400` into infinity and any digit string into an unbounded int (SQLite then raises
OverflowError at 2**63), and accepts `"\\ud800"`, a lone surrogate no UTF-8 encoder will write
(UnicodeEncodeError when the text is stored). `loads` refuses each of these with a `BadJson`
whose message says what is wrong and where (a dotted path or a byte offset), so a caller can turn
any bad input into a clear 400 or a one-line CLI error instead of a traceback.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32  # a webhook event nests 5 levels, an order file 3; 32 leaves room and stays far below recursion
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # SQLite INTEGER
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class BadJson(ValueError):
    """The text is not JSON we accept; the message names the problem and its place."""


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH, what: str = "body") -> Any:
    """Parse `data` or raise `BadJson`; never RecursionError, OverflowError or UnicodeError."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    text = _strict_utf8(raw, what)
    check_depth(raw, max_depth, what)
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise BadJson(f"{what}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except _NumberOutOfRange as exc:
        raise BadJson(f"{what}: number {exc.args[0]} is out of range (integers from -2^63 to 2^63-1, "
                      "finite decimals only)") from None
    check_text(value, what)
    return value


def _strict_utf8(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadJson(f"{what}: not valid UTF-8 (byte {exc.start}: {exc.reason})") from None


def check_depth(raw: bytes, max_depth: int = MAX_DEPTH, what: str = "body") -> None:
    """Refuse nesting deeper than `max_depth`, counted outside string literals, without recursion."""
    depth = 0
    for match in _BRACKETS.finditer(_STRINGS.sub(b'""', raw)):
        depth += 1 if match.group() in (b"[", b"{") else -1
        if depth > max_depth:
            raise BadJson(f"{what}: nested deeper than {max_depth} levels")


def check_text(value: Any, what: str = "body") -> None:
    """Every string (keys too) must be encodable Unicode: no lone surrogates such as `\\ud800`."""
    stack: list[tuple[str, Any]] = [(what, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            _encodable(item, path)
        elif isinstance(item, dict):
            for key, child in item.items():
                _encodable(key, f"{path}.{key!r}")
                stack.append((f"{path}.{key}", child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(item))


def _encodable(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[exc.start]
        raise BadJson(f"{path}: text holds a lone surrogate (\\u{ord(bad):04x}), which is not valid Unicode") from None


class _NumberOutOfRange(ValueError):
    pass


def _int(text: str) -> int:
    if len(text) > 20:  # beyond 2^63 for sure; do not even convert a 100,000-digit number
        raise _NumberOutOfRange(text[:24] + "...")
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise _NumberOutOfRange(text)
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or abs(value) > INT_MAX:
        raise _NumberOutOfRange(text[:24])
    return value


def _constant(text: str) -> float:
    raise _NumberOutOfRange(text)  # NaN, Infinity, -Infinity: not JSON
