"""Cursor pagination (seeds/000 line 165-204): `items` + `next_cursor`; a follow-up request carries
the cursor alone ("mutually exclusive" with other query parameters). A cursor is an opaque token
holding the offset and the first request's filters; it expires after an hour of business time, and
the `expire_cursor` fault makes the next one expire at once. Both answer 400 with the spec's body."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse

from sandbox.faults import FaultSwitch
from sandbox.qargo.common import error

PAGE_SIZE = 20
CURSOR_TTL = 3600.0  # seeds/000 line 203: "they may expire after a certain period"


@dataclass
class Page:
    offset: int
    filters: dict[str, str]


def encode(offset: int, filters: dict[str, str], now: datetime) -> str:
    raw = json.dumps({"o": offset, "f": filters, "t": now.timestamp()}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(cursor: str) -> dict[str, Any] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    ok = isinstance(data, dict) and isinstance(data.get("o"), int) and isinstance(data.get("f"), dict)
    return data if ok and isinstance(data.get("t"), (int, float)) else None


def start(params: Mapping[str, str], names: tuple[str, ...], switch: FaultSwitch,
          now: datetime) -> Page | JSONResponse:
    """The page a request asks for, or the 400 answer for a bad, mixed or expired cursor."""
    cursor = params.get("cursor")
    if cursor is None:
        return Page(0, {k: params[k] for k in names if k in params})
    if len(params) > 1:
        return error(400, "The cursor can not be combined with other query parameters", field="cursor")
    data = _decode(cursor)
    if switch.take_expired_cursor() or data is None or now.timestamp() - float(data["t"]) > CURSOR_TTL:
        return error(400, "Invalid or expired cursor: restart the listing without a cursor", field="cursor")
    return Page(int(data["o"]), {str(k): str(v) for k, v in data["f"].items()})


def page_of(items: list[Any], page: Page, now: datetime) -> tuple[list[Any], str | None]:
    chunk = items[page.offset: page.offset + PAGE_SIZE]
    more = page.offset + PAGE_SIZE < len(items)
    return chunk, encode(page.offset + PAGE_SIZE, page.filters, now) if more else None
