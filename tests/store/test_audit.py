"""The audit log stores a payload digest, never the payload; search filters."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlite_utils import Database

from store import audit
from tests.conftest import NOW


def test_record_stores_digest_not_payload(db: Database) -> None:
    payload = {"tax_id": "DE123456789", "name": "Jane Doe", "api_key": "sk_live_secret"}
    entry_id = audit.record(db, "fin@x", "validate_tax_id", "DE123456789", payload, "valid", "req_1", now=NOW)
    row = db.execute("SELECT * FROM audit_log WHERE id = ?", [entry_id]).fetchone()
    expected = hashlib.sha256(b'{"api_key":"sk_live_secret","name":"Jane Doe","tax_id":"DE123456789"}').hexdigest()
    assert row == (entry_id, "2025-03-10T12:00:00.000Z", "fin@x", "validate_tax_id", "DE123456789",
                   expected, "valid", "req_1")
    assert "sk_live_secret" not in repr(db.execute("SELECT * FROM audit_log").fetchall())


@pytest.mark.parametrize(("a", "b", "equal"), [
    ({"x": 1, "y": [1, 2]}, {"y": [1, 2], "x": 1}, True),
    ({"x": 1}, {"x": 2}, False),
    ({"x": "é"}, {"x": "é"}, True),
])
def test_digest_is_canonical(a: object, b: object, equal: bool) -> None:
    assert (audit.payload_digest(a) == audit.payload_digest(b)) is equal


def test_none_payload_has_no_digest(db: Database) -> None:
    entry_id = audit.record(db, "ops", "refresh", None, None, "queued", now=NOW)
    assert audit.search(db)[0].payload_digest is None and audit.search(db)[0].id == entry_id


@pytest.mark.parametrize(("kwargs", "actions"), [
    ({}, ["cancel_order", "approve_charge", "upload_order"]),
    ({"actor": "ops@x"}, ["cancel_order", "upload_order"]),
    ({"action": "approve_charge"}, ["approve_charge"]),
    ({"since": NOW + timedelta(minutes=1)}, ["cancel_order", "approve_charge"]),
    ({"until": NOW + timedelta(minutes=1)}, ["upload_order"]),
    ({"text": "qref-9"}, ["approve_charge"]),
    ({"text": "REJECTED"}, ["cancel_order"]),
])
def test_search(db: Database, kwargs: dict[str, object], actions: list[str]) -> None:
    audit.record(db, "ops@x", "upload_order", "ORD-1", {"a": 1}, "accepted", "up_1", now=NOW)
    audit.record(db, "fin@x", "approve_charge", "CH-2", {}, "approved", "qref-9", now=NOW + timedelta(minutes=1))
    audit.record(db, "ops@x", "cancel_order", "ORD-1", {}, "rejected: already delivered", None,
                 now=NOW + timedelta(minutes=2))
    assert [e.action for e in audit.search(db, **kwargs)] == actions  # type: ignore[arg-type]
