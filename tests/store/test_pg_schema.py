"""One migration history on both databases (issue 20): the PostgreSQL baseline (store/pg_baseline.py) plus the
migrations after it build the same tables and columns, with matching types and keys, as 0001..0023 on SQLite.
Runs whenever the PostgreSQL binaries are installed, whatever --db says."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import pg_baseline
from store.db import connect
from store.migrations import MIGRATIONS
from store.schema import migrate

# SQLite STRICT type -> the PostgreSQL type the baseline gives it (information_schema's name)
TYPES = {"TEXT": "TEXT", "INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION", "BLOB": "BYTEA"}


def _sqlite_schema(path: Path) -> dict[str, dict[str, tuple[str, bool, bool]]]:
    db = connect(path)
    migrate(db)
    try:
        return {table: {c.name: (TYPES[c.type.upper()], bool(c.notnull or c.is_pk), bool(c.is_pk))
                        for c in db[table].columns}
                for table in db.table_names()}
    finally:
        db.close()


def _pg_schema(url: str) -> dict[str, dict[str, tuple[str, bool, bool]]]:
    db = connect(url)
    try:
        return {table: {c.name: (c.type, bool(c.notnull), bool(c.is_pk)) for c in db[table].columns}
                for table in db.table_names()}
    finally:
        db.close()


def test_both_databases_have_the_same_tables_columns_types_and_keys(tmp_path: Path, pg_url: str) -> None:
    sqlite, pg = _sqlite_schema(tmp_path / "s.db"), _pg_schema(pg_url)
    assert sorted(pg) == sorted(sqlite)
    for table in sqlite:
        assert pg[table] == sqlite[table], table


def test_the_rows_a_migration_seeds_are_there_too(tmp_path: Path, pg_url: str) -> None:
    sql = "SELECT warehouse_id, lead_time_days, updated_by FROM lead_times ORDER BY warehouse_id"
    sqlite, pg = connect(tmp_path / "s.db"), connect(pg_url)
    migrate(sqlite)
    try:
        assert [tuple(r) for r in pg.execute(sql).fetchall()] == sqlite.execute(sql).fetchall() == [("", 7.0, "default")]
    finally:
        sqlite.close()
        pg.close()


def test_the_baseline_stands_for_every_migration_up_to_0023_and_later_ones_run_on_both(pg_url: str) -> None:
    names = [m.name for m in MIGRATIONS._migrations]
    assert set(pg_baseline.COVERS) <= set(names)
    db = connect(pg_url)
    try:
        recorded = [n for (n,) in db.execute(f"SELECT name FROM {MIGRATIONS.migrations_table} ORDER BY id")]
        assert sorted(recorded) == sorted(names)
        assert migrate(db) == []  # a second start finds nothing pending
    finally:
        db.close()


def test_a_database_that_does_not_sort_text_by_bytes_is_refused(pg_template: str) -> None:
    """ISO timestamps and keys are compared as text (`lease_until < ?`): a linguistic collation would order
    them differently from SQLite, so migrate refuses it with the command that makes a right database."""
    from tests.pgcluster import admin_execute, database_url

    admin_execute(pg_template, "CREATE DATABASE opsdash_icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
    db = connect(database_url(pg_template, "opsdash_icu"))
    try:
        with pytest.raises(RuntimeError, match="LC_COLLATE 'C'"):
            migrate(db)
        assert db.table_names() == []
    finally:
        db.close()
        admin_execute(pg_template, "DROP DATABASE opsdash_icu WITH (FORCE)")


FUNCTIONS_SQL = ("SELECT julianday('2025-03-10T12:00:00.000Z'), julianday('2025-03-10'), julianday('nonsense'), "
                 "max(CAST(1.5 AS REAL), CAST(2.5 AS REAL)), max(CAST(NULL AS REAL), CAST(1 AS REAL)), "
                 "instr('abc', 'c'), instr('abc', 'x')")


DECIMAL_SQL = ("SELECT decimal_sum(x) FROM (SELECT '0.1' AS x UNION ALL SELECT '0.2' UNION ALL SELECT NULL "
               "UNION ALL SELECT '' UNION ALL SELECT '1.50') AS t UNION ALL "
               "SELECT decimal_sum(x) FROM (SELECT CAST(250741 AS INTEGER) AS x UNION ALL SELECT 5) AS t UNION ALL "
               "SELECT decimal_sum(x) FROM (SELECT '1' AS x UNION ALL SELECT 'abc') AS t UNION ALL "
               "SELECT decimal_sum(x) FROM (SELECT '1' AS x) AS t WHERE 1 = 0")


def test_decimal_sum_is_exact_and_the_same_on_both(tmp_path: Path, pg_url: str) -> None:
    from store.decimals import decimal_sum

    sqlite, pg = decimal_sum(connect(tmp_path / "s.db")), decimal_sum(connect(pg_url))
    try:
        expected = [("1.80",), ("250746",), (None,), (None,)]
        assert sqlite.execute(DECIMAL_SQL).fetchall() == expected
        assert [tuple(r) for r in pg.execute(DECIMAL_SQL).fetchall()] == expected
    finally:
        sqlite.close()
        pg.close()


def test_the_sqlite_functions_defined_on_postgresql_answer_as_sqlite(tmp_path: Path, pg_url: str) -> None:
    """store/pg_baseline.py FUNCTIONS: the same answers, NULLs included (`AS REAL` is translated to PostgreSQL's
    8-byte DOUBLE PRECISION)."""
    sqlite, pg = connect(tmp_path / "s.db"), connect(pg_url)
    try:
        expected = [(2460745.0, 2460744.5, None, 2.5, None, 3, 0)]
        assert sqlite.execute(FUNCTIONS_SQL).fetchall() == expected
        assert [tuple(r) for r in pg.execute(FUNCTIONS_SQL).fetchall()] == expected
    finally:
        sqlite.close()
        pg.close()
