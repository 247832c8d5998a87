"""actions/isolated.py: a parser run in its own process, its answer or its error back, time and memory capped."""

from __future__ import annotations

import time

import pytest

from actions.isolated import TooCostly, run_apart
from actions.order_file import FileRejected, parse_orders, template


def sleep_then(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


def allocate(size: int) -> int:
    return len(bytearray(size))


def test_the_answer_comes_back() -> None:
    batch = run_apart(parse_orders, template("xlsx"), "xlsx")
    assert batch.errors == [] and len(batch.orders) == 1
    assert batch.orders[0].order.order_identifier == parse_orders(template("xlsx"), "xlsx").orders[0].order.order_identifier


def test_the_parsers_own_refusal_is_raised_again() -> None:
    with pytest.raises(FileRejected, match="not a readable .xlsx workbook"):
        run_apart(parse_orders, b"not a zip", "xlsx")


def test_past_its_time_the_child_is_stopped() -> None:
    started = time.monotonic()
    with pytest.raises(TooCostly, match="took longer than 2 s"):
        run_apart(sleep_then, 60, seconds=2)
    assert time.monotonic() - started < 10


def test_past_its_memory_the_child_gets_a_memory_error_not_the_machine() -> None:
    with pytest.raises(TooCostly, match="needs more than 1,024 MB of memory"):
        run_apart(allocate, 2 * 1024**3, memory_bytes=1024**3)
    assert run_apart(allocate, 1024, memory_bytes=1024**3) == 1024
