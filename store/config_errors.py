"""Configuration errors a staff action met at a vendor (401/403: the key or its user's rights), kept per vendor
for the Vendors page until a call to that vendor succeeds again. The message is the client's, which never
carries a secret (services/core/errors.py); no credential is stored.

Why 401/403 are configuration errors (Quaderno, seeds/001 lines 88-93): "Your API key is wrong, or your
user does not have access to this resource" and "hidden for administrators only". Retrying cannot fix
either, so they are not "unavailable" and nothing retries them on a schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from services.core import VendorError
from store.db import iso, transaction, utcnow

CONFIG_STATUSES = frozenset({401, 403})


@dataclass(frozen=True)
class ConfigError:
    vendor: str
    status: int | None
    message: str
    action: str | None
    seen_at: str


def is_config_error(exc: VendorError) -> bool:
    return exc.status in CONFIG_STATUSES


def record(db: Database, vendor: str, exc: VendorError, action: str) -> None:
    with transaction(db):
        db.conn.execute(
            "INSERT INTO vendor_config_errors (vendor, status, message, action, seen_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (vendor) DO UPDATE SET status = excluded.status, message = excluded.message, "
            "action = excluded.action, seen_at = excluded.seen_at",
            [vendor, exc.status, str(exc), action, iso(utcnow())])


def clear(db: Database, vendor: str) -> None:
    """A call to `vendor` succeeded: its configuration works again."""
    if db.conn.execute("SELECT 1 FROM vendor_config_errors WHERE vendor = ?", [vendor]).fetchone():
        with transaction(db):
            db.conn.execute("DELETE FROM vendor_config_errors WHERE vendor = ?", [vendor])


def current(db: Database) -> list[ConfigError]:
    if "vendor_config_errors" not in db.table_names():
        return []
    rows = db.conn.execute("SELECT vendor, status, message, action, seen_at FROM vendor_config_errors "
                           "ORDER BY vendor").fetchall()
    return [ConfigError(*row) for row in rows]
