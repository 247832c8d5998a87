"""The Vendors page's configuration errors (store/config_errors.py), read through a cached loader."""

from __future__ import annotations

from sqlite_utils import Database

from store import config_errors
from ui.data import loader
from ui.tables import VENDORS


@loader
def rows(db: Database) -> list[dict[str, object]]:
    """One row per vendor whose last staff action met a 401/403, with what to check."""
    return [{"vendor": VENDORS.get(e.vendor, e.vendor), "status": e.status, "while": e.action,
             "message": e.message, "last_seen_at": e.seen_at} for e in config_errors.current(db)]
