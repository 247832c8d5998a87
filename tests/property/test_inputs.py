"""Property tests (issue 11 point 5): every entry point answers bad input with a clear error or a correct
result, never an exception of another kind, a 5xx or a traceback.

Bounded for CI: each property runs a fixed number of examples with no per-example deadline (the whole
module stays well under a minute on two cores), with a fixed seed (`derandomize`) so a failure repeats.
"""

from __future__ import annotations

import json
import os
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from starlette.testclient import TestClient

from actions.order_file import FORMATS, FileRejected, ParsedBatch, parse_orders
from actions.taxids import TaxIdRow, parse_csv
from exports.export import ExportTargetError, export_rows
from services.settings import Settings
from tests.webhooks.test_webhooks import qargo_event, upwell_event
from webhooks.webhooks import AuthFailures, webhook_app

BOUNDED = settings(max_examples=120, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Text with everything a hostile sender can put in JSON: lone surrogates (category Cs), controls, emoji.
ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
BIG_INTS = st.one_of(st.integers(), st.integers(min_value=2**62, max_value=2**70), st.integers(max_value=-(2**63) + 5))
JSON_LEAF = st.one_of(st.none(), st.booleans(), BIG_INTS, st.floats(allow_nan=False), ANY_TEXT)
JSON_ANY = st.recursive(JSON_LEAF, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(ANY_TEXT, inner, max_size=4)), max_leaves=20)


# --- webhook routes ---------------------------------------------------------------------------------

AUTH = ("hooks", "property-password")


@pytest.fixture(scope="module")
def receiver() -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        settings_ = Settings(opsdash_db=Path(tmp) / "hooks.db", opsdash_webhook_user=AUTH[0],
                             opsdash_webhook_password=SecretStr(AUTH[1]))
        with TestClient(webhook_app(settings_, limiter=AuthFailures(budget=10**9)),
                        raise_server_exceptions=False) as client:
            yield client


def answered_cleanly(response: Any) -> None:
    assert response.status_code in (200, 400, 413), (response.status_code, response.text[:300])
    body = response.json()
    if response.status_code == 200:
        assert body["outcome"] in ("accepted", "duplicate", "stale")
    elif response.status_code == 400:
        assert isinstance(body["detail"], str) and body["detail"] and "Traceback" not in body["detail"]


def mutate(event: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """`event` with the value at `path` (created where missing) replaced by `value`."""
    target = event
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value
    return event


UPWELL_PATHS = [["id"], ["operation"], ["updatedAt"], ["payload", "new", "total_amount"],
                ["payload", "new", "invoice_number"], ["payload", "new", "updated_at"], ["payload", "new"],
                ["payload", "new", "currency"], ["retryOfId"], ["payload"]]
QARGO_PATHS = [["events"], ["order"], ["order", "id"], ["order", "customer"], ["order", "stops"]]


@BOUNDED
@given(raw=st.binary(max_size=300), source=st.sampled_from(["upwell", "qargo"]))
def test_any_bytes_to_a_webhook(receiver: Any, raw: bytes, source: str) -> None:
    answered_cleanly(receiver.post(f"/webhooks/{source}", content=raw, auth=AUTH))


@BOUNDED
@given(body=JSON_ANY, source=st.sampled_from(["upwell", "qargo"]))
def test_any_json_to_a_webhook(receiver: Any, body: Any, source: str) -> None:
    answered_cleanly(receiver.post(f"/webhooks/{source}", content=json.dumps(body).encode(), auth=AUTH))


@BOUNDED
@given(path=st.sampled_from(UPWELL_PATHS), value=JSON_ANY, n=st.integers(0, 10**6))
def test_an_upwell_event_with_one_hostile_field(receiver: Any, path: list[str], value: Any, n: int) -> None:
    event = mutate(upwell_event(f"p{n}"), path, value)
    answered_cleanly(receiver.post("/webhooks/upwell", content=json.dumps(event).encode(), auth=AUTH))


@BOUNDED
@given(path=st.sampled_from(QARGO_PATHS), value=JSON_ANY, n=st.integers(0, 10**6))
def test_a_qargo_event_with_one_hostile_field(receiver: Any, path: list[str], value: Any, n: int) -> None:
    event = mutate(qargo_event(f"q{n}", "PLANNED", "2026-11-20T10:00:00Z"), path, value)
    answered_cleanly(receiver.post("/webhooks/qargo", content=json.dumps(event).encode(), auth=AUTH))


@BOUNDED
@given(depth=st.integers(1, 20_000), opener=st.sampled_from(["[", '{"a":']))
def test_nesting_of_any_depth(receiver: Any, depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    answered_cleanly(receiver.post("/webhooks/upwell", content=(opener * depth + "1" + closer * depth).encode(),
                                   auth=AUTH))


# --- the order-file parser ----------------------------------------------------------------------------

def parsed_or_rejected(data: bytes, fmt: str) -> None:
    try:
        batch = parse_orders(data, fmt)
    except FileRejected as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(batch, ParsedBatch)
    for error in batch.errors:
        assert str(error)
    for order in batch.orders:
        assert order.order.order_identifier.startswith("OPS-")


@BOUNDED
@given(data=st.binary(max_size=400), fmt=st.sampled_from(FORMATS))
def test_order_file_of_any_bytes(data: bytes, fmt: str) -> None:
    parsed_or_rejected(data, fmt)


@BOUNDED
@given(body=JSON_ANY)
def test_order_file_of_any_json(body: Any) -> None:
    parsed_or_rejected(json.dumps(body).encode(), "json")


CSV_CELL = st.one_of(ANY_TEXT.filter(lambda t: "\x00" not in t), st.sampled_from(["", "2026-13-40", "1e999", "-1",
                                                                                  "9" * 40, "DE", "PALLET"]))


@BOUNDED
@given(rows=st.lists(st.lists(CSV_CELL, min_size=1, max_size=8), max_size=6))
def test_order_csv_with_the_template_header_and_any_cells(rows: list[list[str]]) -> None:
    from actions.order_file import template

    header = template("csv").decode("utf-8-sig").splitlines()[0]
    lines = [header] + [",".join(json.dumps(c) if c else "" for c in row) for row in rows]
    parsed_or_rejected("\n".join(lines).encode("utf-8", "surrogatepass"), "csv")


# --- the tax-ID file parser (actions/taxids.parse_csv) -------------------------------------------------

@BOUNDED
@given(data=st.one_of(st.binary(max_size=300),
                      st.lists(st.lists(CSV_CELL, max_size=4), max_size=6).map(
                          lambda rows: ("country,tax_id,name\n" + "\n".join(",".join(r) for r in rows))
                          .encode("utf-8", "surrogatepass"))))
def test_tax_id_csv(data: bytes) -> None:
    try:
        rows, errors = parse_csv(data)
    except ValueError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    assert all(isinstance(r, TaxIdRow) and r.country and r.tax_id for r in rows)
    assert all(e.startswith("row ") for e in errors)


# --- the export path ----------------------------------------------------------------------------------

NAME = st.text(alphabet=string.ascii_letters + string.digits + " ._-é€\n\\'\"", min_size=1, max_size=20)
TARGET_KIND = st.sampled_from(["new", "existing file", "directory", "fifo", "symlink", "dangling symlink",
                               "missing parent", "device", "nested"])


def make_target(root: Path, kind: str, name: str) -> tuple[Path, bool]:
    """A path of `kind` under root; True when an export to it must succeed. ("a" and "real" are the
    fixture's own directory and symlink target: the strategy never draws them as names.)"""
    path = root / name
    if kind in ("new", "nested"):
        return (root / "a" / name if kind == "nested" else path), True
    if kind == "existing file":
        path.write_bytes(b"old")
        return path, True
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":
        (root / "real").write_bytes(b"keep")
        path.symlink_to(root / "real")
    elif kind == "dangling symlink":
        path.symlink_to(root / "nowhere")
    elif kind == "missing parent":
        return root / "missing" / name, False
    else:
        return Path("/dev/full"), False
    return path, False


@settings(max_examples=150, deadline=None, derandomize=True)
@given(kind=TARGET_KIND, name=NAME.filter(lambda n: n not in (".", "..", "a", "real") and "/" not in n),
       fmt=st.sampled_from(["csv", "json", "xlsx", "parquet"]),
       rows=st.lists(st.fixed_dictionaries({"a": st.integers(-(2**63), 2**63 - 1), "b": ANY_TEXT.map(
           lambda t: t.encode("utf-8", "replace").decode("utf-8"))}), max_size=3))
def test_export_to_any_path(kind: str, name: str, fmt: str, rows: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "a").mkdir()
        target, must_succeed = make_target(root, kind, name)
        before = sorted(p.name for p in root.iterdir())
        try:
            count = export_rows(rows, ("a", "b"), fmt, target)
        except ExportTargetError as exc:
            assert not must_succeed, exc
            assert str(exc) and str(target) in str(exc)
            assert sorted(p.name for p in root.iterdir()) == before  # nothing created, nothing replaced
        else:
            assert must_succeed and count == len(rows) and target.is_file() and not target.is_symlink()
            if fmt == "json":
                assert [r["a"] for r in json.loads(target.read_bytes())] == [r["a"] for r in rows]
        # a temporary file of ours left behind (the target itself may be named "x.part": that is the user's name)
        leftovers = [p for p in root.rglob("*") if p.name.endswith(".part") and p != target]
        assert leftovers == []

