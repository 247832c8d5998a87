"""Property tests for issue 22: numbers and moments drawn at their extremes (huge exponents, 64-bit edges,
epochs of any length, year 1 and 9999 with the widest offsets) through the one bounded parser
(services/types.py), the webhook receiver and the order-file and reorder-level parsers. Each answer is a
correct value, or a refusal of the expected kind, in bounded time; never another exception, a 5xx or a
traceback. Bounded like tests/property/test_inputs.py: fixed examples, fixed seed.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from pydantic_core import PydanticCustomError
from starlette.testclient import TestClient

from actions.order_file import parse_orders
from figures import reorder
from services.settings import Settings
from services.types import INT_MAX, INT_MIN, MAX_MOMENT, MIN_MOMENT, to_datetime, to_decimal, to_integer
from tests.reliability.test_hostile_files import one_order_csv
from tests.webhooks.test_webhooks import qargo_event, upwell_event
from webhooks.webhooks import AuthFailures, webhook_app

BOUNDED = settings(max_examples=150, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
REFUSALS = {"number_range", "decimal_parsing", "decimal_type", "not_integer", "datetime_range",
            "datetime_parsing", "datetime_type"}
# seconds: the bounded parser never expands a number, so even 1e999999 is this fast; expanding it (int() of the
# Decimal) takes 33 s here. 0.2, not less: each of hundreds of examples must be under it on a loaded 2-core CI run.
QUICK = 0.2

# Numbers at their extremes: exponents up to a million either way, up to 80 digits, the 64-bit edges.
EXPONENTS = st.one_of(st.integers(-25, 25), st.integers(-10**6, 10**6))
DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=80)
NUMBER_TEXT = st.one_of(
    st.builds(lambda sign, d, e: f"{sign}{d}e{e}", st.sampled_from(["", "-", "+"]), DIGITS, EXPONENTS),
    st.builds(lambda sign, a, b: f"{sign}{a}.{b}", st.sampled_from(["", "-"]), DIGITS, DIGITS),
    st.builds(str, st.integers(INT_MIN - 10, INT_MIN + 10) | st.integers(INT_MAX - 10, INT_MAX + 10)),
    DIGITS,
)
INTS = st.one_of(st.integers(), st.integers(INT_MIN - 3, INT_MIN + 3), st.integers(INT_MAX - 3, INT_MAX + 3))
OFFSETS = st.sampled_from([timedelta(hours=h) for h in (-14, -12, -1, 0, 1, 12, 14)] + [timedelta(minutes=-59)])
EDGE_MOMENTS = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(1, 1, 3)),
    st.datetimes(min_value=datetime(9999, 12, 29), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.datetimes(),
)
ISO_MOMENTS = st.builds(lambda moment, offset: moment.replace(tzinfo=timezone(offset)).isoformat(),
                        EDGE_MOMENTS, OFFSETS)
EPOCHS = st.one_of(st.text(alphabet="0123456789", min_size=1, max_size=30),
                   st.builds(lambda d: "-" + d, st.text(alphabet="0123456789", min_size=1, max_size=30)),
                   st.integers(-10**30, 10**30))


def quick(parse: Any, value: Any) -> Any:
    """`parse(value)`, or the refusal's type; fails when it takes longer than QUICK."""
    started = time.perf_counter()
    try:
        result = parse(value)
    except PydanticCustomError as exc:
        assert exc.type in REFUSALS, exc.type
        result = exc
    assert time.perf_counter() - started < QUICK, f"{str(value)[:30]} took too long"
    return result


@BOUNDED
@given(text=NUMBER_TEXT)
def test_a_decimal_is_exact_or_refused_quickly(text: str) -> None:
    result = quick(to_decimal, text)
    if isinstance(result, Decimal):
        assert result == Decimal(text) and abs(result) < Decimal(10) ** 19
        assert -result.as_tuple().exponent <= 18 or result.is_zero()  # type: ignore[operator]


@BOUNDED
@given(text=NUMBER_TEXT)
def test_a_decimal_object_is_bounded_like_its_text(text: str) -> None:
    # Qasida's bodies are read with parse_float=Decimal: a JSON 1e999999 arrives as Decimal("1E+999999")
    from_text, from_decimal = quick(to_decimal, text), quick(to_decimal, Decimal(text))
    if isinstance(from_text, Decimal):
        assert from_decimal == from_text
    else:
        assert isinstance(from_decimal, PydanticCustomError) and from_decimal.type == from_text.type


@BOUNDED
@given(value=st.one_of(NUMBER_TEXT, INTS))
def test_an_integer_fits_sqlite_or_is_refused_quickly(value: Any) -> None:
    result = quick(to_integer, value)
    if isinstance(result, int):
        assert INT_MIN <= result <= INT_MAX and result == Decimal(value)


@BOUNDED
@given(text=ISO_MOMENTS)
def test_a_moment_converts_to_utc_and_any_zone_or_is_refused(text: str) -> None:
    result = quick(to_datetime, text)
    if isinstance(result, datetime):
        assert MIN_MOMENT <= result.astimezone(UTC) <= MAX_MOMENT
        assert result == datetime.fromisoformat(text)
        for zone in ("Pacific/Kiritimati", "Etc/GMT+12", "Europe/Prague"):
            result.astimezone(ZoneInfo(zone))  # showing it in any zone never overflows
    else:
        assert result.type == "datetime_range" and "out of range" in result.message()


@BOUNDED
@given(epoch=EPOCHS)
def test_an_epoch_of_any_length_is_a_moment_or_a_range_error(epoch: Any) -> None:
    result = quick(to_datetime, epoch)
    if isinstance(result, datetime):
        assert MIN_MOMENT <= result <= MAX_MOMENT
    else:
        assert result.type in ("datetime_range", "datetime_parsing"), result


# --- through the receiver --------------------------------------------------------------------------------

AUTH = ("hooks", "bounds-password")


@pytest.fixture(scope="module")
def receiver() -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        settings_ = Settings(opsdash_db=Path(tmp) / "hooks.db", opsdash_webhook_user=AUTH[0],
                             opsdash_webhook_password=SecretStr(AUTH[1]))
        with TestClient(webhook_app(settings_, limiter=AuthFailures(budget=10**9)),
                        raise_server_exceptions=False) as client:
            yield client


def answered(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 400), (response.status_code, response.text[:300])
    body: dict[str, Any] = response.json()
    if response.status_code == 400:
        assert body["detail"] and "Traceback" not in body["detail"] and len(body["detail"]) < 500
    return body


@BOUNDED
@given(total=st.one_of(INTS, NUMBER_TEXT), balance=st.one_of(st.none(), INTS, NUMBER_TEXT), n=st.integers(0, 10**6))
def test_upwell_amounts_at_the_edges(receiver: Any, total: Any, balance: Any, n: int) -> None:
    body = json.dumps(upwell_event(f"amounts-{n}", id=f"ci-{n}", total_amount=total, balance=balance))
    answer = answered(receiver.post("/webhooks/upwell", content=body.encode(), auth=AUTH))
    if "detail" in answer:
        assert answer["detail"].split(":")[0] in ("payload.new.total_amount", "payload.new.balance", "body")


@BOUNDED
@given(stamp=st.one_of(ISO_MOMENTS, EPOCHS.map(str)), field=st.sampled_from(["updatedAt", "createdAt", "updated_at"]),
       n=st.integers(0, 10**6))
def test_upwell_timestamps_at_the_edges(receiver: Any, stamp: str, field: str, n: int) -> None:
    event = upwell_event(f"stamps-{n}", id=f"ci-t{n}")
    if field == "updated_at":
        event["payload"]["new"]["updated_at"] = stamp
    else:
        event[field] = stamp
    answered(receiver.post("/webhooks/upwell", content=json.dumps(event).encode(), auth=AUTH))


@BOUNDED
@given(stamp=st.one_of(ISO_MOMENTS, EPOCHS.map(str)), n=st.integers(0, 10**6))
def test_qargo_timestamps_at_the_edges(receiver: Any, stamp: str, n: int) -> None:
    body = json.dumps(qargo_event(f"e{n}", "ACCEPTED", stamp, order_id=f"order-{n}"))
    answer = answered(receiver.post("/webhooks/qargo", content=body.encode(), auth=AUTH))
    if "detail" in answer:
        assert answer["detail"].startswith("events.0.timestamp: ")


# --- files -------------------------------------------------------------------------------------------------

@BOUNDED
@given(value=NUMBER_TEXT, column=st.sampled_from(["goods_quantity", "goods_weight_kg", "goods_volume_m3"]))
def test_order_file_numbers_at_the_edges(value: str, column: str) -> None:
    started = time.perf_counter()
    batch = parse_orders(one_order_csv(**{column: value}), "csv")
    assert time.perf_counter() - started < 0.5
    if batch.errors:
        assert [(e.row, e.field) for e in batch.errors] == [(2, column)]
    else:
        good = batch.orders[0].order.consignments[0].goods[0]
        got = {"goods_quantity": good.quantity, "goods_weight_kg": good.total_weight_kg,
               "goods_volume_m3": good.total_volume_m3}[column]
        assert got == (int(Decimal(value)) if column == "goods_quantity" else float(Decimal(value)))


@BOUNDED
@given(value=NUMBER_TEXT)
def test_reorder_levels_at_the_edges_are_finite_or_refused(value: str) -> None:
    level, problems = reorder.parse_row({"product_code": "NUT", "reorder_level": value}, {})
    if level is None:
        assert len(problems) == 1 and problems[0].startswith("reorder_level")
    else:
        assert level.reorder_level == float(Decimal(value)) and level.reorder_level != float("inf")
