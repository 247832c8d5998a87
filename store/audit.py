"""The audit log: who triggered which vendor action, on what, with what result.

The payload itself is never stored (it may hold personal data or secrets): only the SHA-256 of
its canonical JSON, which proves later which payload was sent without keeping it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from store.db import iso, transaction, utcnow

_COLUMNS = "id, at, actor, action, target, payload_digest, result, vendor_reference"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    target: str | None
    payload_digest: str | None
    result: str | None
    vendor_reference: str | None


def payload_digest(payload: Any) -> str:
    """SHA-256 hex of the canonical JSON (sorted keys, no spaces): equal payloads, equal digests."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    db: Database, actor: str, action: str, target: str | None, payload: Any, result: str | None,
    vendor_reference: str | None = None, now: datetime | None = None,
) -> int:
    """Append one entry; `payload=None` stores no digest."""
    digest = None if payload is None else payload_digest(payload)
    with transaction(db):
        cursor = db.conn.execute(
            f"INSERT INTO audit_log ({_COLUMNS.removeprefix('id, ')}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [iso(now or utcnow()), actor, action, target, digest, result, vendor_reference])
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def search(
    db: Database, *, actor: str | None = None, action: str | None = None, target: str | None = None,
    since: datetime | None = None, until: datetime | None = None, text: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Newest first. `text` matches (case-insensitively) target, result or vendor reference."""
    clauses, params = ["1 = 1"], []
    for column, value in (("actor", actor), ("action", action), ("target", target)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        clauses.append("at >= ?")
        params.append(iso(since))
    if until is not None:
        clauses.append("at < ?")
        params.append(iso(until))
    if text:
        clauses.append("instr(lower(coalesce(target, '') || ' ' || coalesce(result, '') || ' ' || "
                       "coalesce(vendor_reference, '')), lower(?)) > 0")
        params.append(text)
    sql = f"SELECT {_COLUMNS} FROM audit_log WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ?"
    return [AuditEntry(*row) for row in db.conn.execute(sql, [*params, limit])]
