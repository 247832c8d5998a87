"""The one migration set (`MIGRATIONS`, a sqlite-utils `Migrations` registry; sqlite-utils >= 4 ships it) the
modules of this package register their migrations on, in the order store/migrations/__init__.py imports them,
and `_run`, the helper they share (private to this package).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("opsdash")


def _run(db: Database, statements: Iterable[str]) -> None:
    for sql in statements:
        db.execute(sql)
