"""The cache schema, as one sqlite-utils `Migrations` registry (`MIGRATIONS`, store/migrations/registry.py).

Rules every table follows:
- timestamps are UTC ISO-8601 text (`store.db.iso` for our own; vendors' as they send them);
- money is exact: integer minor units, or decimal TEXT where the vendor sends a decimal string
  (Qargo charges), always next to a `currency` column. Tables are STRICT, so a float can never
  land in an INTEGER money column by accident;
- vendor records keep normalized columns for the pages plus `raw` (the vendor JSON) and
  `synced_at`, so a new column can be back-filled from `raw` without a re-sync.

One history for both databases (issue 20). 0001..0025 are written for SQLite alone: a new PostgreSQL
database gets the schema they build, derived from them (store/pg_schema.py runs them on an in-memory SQLite
and translates what they left), with them recorded as applied. Migrations after 0025 run on both: SQL both
databases accept, or a branch on `store.db.is_postgres` (tests/store/test_pg_schema.py compares the two
schemas: columns, types, defaults, keys, checks, indexes). Never edit one that has shipped (0001..0025 are
also PostgreSQL's schema now). DDL runs statement by statement through `db.execute` (never `executescript`,
which would commit the migration's transaction half-way).

The history is split by era into the modules below; importing them in this order registers the migrations
in the order sqlite-utils applies them (registration order, not name order: 0012 before 0010, 0023 before
0022). Keep this order (it is not alphabetical):
- vendor_tables.py   0001..0004  the vendor mirror tables
- operations.py      0005..0012  actions, operations, Qasida open items, alerts, UI, reorder levels, hardening
- performance.py     0011, 0014..0017  data versions, summaries, indexes
- reshaping.py       0018..0025  issues 18-22: reshaped tables and back-fills; the last SQLite-only ones
- portable.py        0027..      migrations that run on both databases
The end of the history is the end of portable.py: append a new migration there (a new era module, if one is
ever needed, is imported last here).
"""

from __future__ import annotations

from store.migrations.registry import MIGRATIONS

# Registration order (see above): one import per era, oldest first.
from store.migrations import vendor_tables  # noqa: F401  # isort: skip
from store.migrations import operations  # noqa: F401  # isort: skip
from store.migrations import performance  # noqa: F401  # isort: skip
from store.migrations import reshaping  # noqa: F401  # isort: skip
from store.migrations import portable  # noqa: F401  # isort: skip

__all__ = ["MIGRATIONS"]
