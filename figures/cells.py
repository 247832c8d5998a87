"""Text a spreadsheet would run as a formula (issue 22), for every file we write: the exports
(exports/export.py) and the reorder-level CSV (figures/reorder.py, whose import takes the prefix off again).

Here, below both, because the reorder CSV is a figure's file and the figures do not import the exports.
"""

from __future__ import annotations

import re
from typing import Any

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def neutralise(value: Any) -> Any:
    """Prefix `'` to text a spreadsheet would run as a formula; numbers pass unchanged."""
    if not isinstance(value, str) or not value.startswith(DANGEROUS_START):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value
