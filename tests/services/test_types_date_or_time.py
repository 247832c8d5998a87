"""services.types.OptDateOrTime: a bare date stays a date, a timestamp keeps its time (issue 18 point 7):
the cache, not the wire, decides a timestamp's date, in OPSDASH_TIMEZONE (store/calendar.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import BaseModel

from services.types import OptDateOrTime


class Row(BaseModel):
    when: OptDateOrTime = None


@pytest.mark.parametrize(("sent", "read"), [
    ("2026-11-18", date(2026, 11, 18)),
    ("2026-11-18T23:30:00Z", datetime(2026, 11, 18, 23, 30, tzinfo=UTC)),
    ("2026-11-18T23:30:00", datetime(2026, 11, 18, 23, 30, tzinfo=UTC)),  # no zone: UTC
    ("2026-11-19T00:30:00+01:00", datetime(2026, 11, 18, 23, 30, tzinfo=UTC)),
    ("", None),
    (None, None),
])
def test_dates_stay_dates_and_timestamps_stay_timestamps(sent: str | None, read: date | datetime | None) -> None:
    value = Row.model_validate({"when": sent}).when
    assert value == read and type(value) is type(read)
