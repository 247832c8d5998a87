"""`decimal_sum`: an exact SQL aggregate over decimal text (money never becomes a float in SQL)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlite_utils import Database

from store.db import is_postgres


class DecimalSum:
    """`decimal_sum(x)`: an exact SQL sum of decimal text or integers, returned as decimal text.

    SQLite's own `sum` turns "0.1" + "0.2" into a float; this never does. NULLs and empty text are
    skipped; a value that is not a number makes the sum NULL (never a silent partial figure)."""

    def __init__(self) -> None:
        self.total: Decimal | None = None
        self.bad = False

    def step(self, value: Any) -> None:
        if value is None or value == "":
            return
        try:
            self.total = (self.total or Decimal(0)) + Decimal(str(value))
        except InvalidOperation:
            self.bad = True

    def finalize(self) -> str | None:
        return None if self.bad or self.total is None else str(self.total)


def decimal_sum(db: Database) -> Database:
    """Register `decimal_sum` on this connection (idempotent, cheap); returns `db`. PostgreSQL has it as an SQL
    aggregate of the same meaning (store/pg_schema.py FUNCTIONS)."""
    if is_postgres(db):
        return db
    db.conn.create_aggregate("decimal_sum", 1, DecimalSum)  # type: ignore[arg-type]
    return db
