"""One migration history on both databases (issue 20): the schema migrations 0001..0025 build, derived for PostgreSQL
from those migrations (store/pg_schema.py), plus the migrations after them, gives the same tables, columns, types,
defaults, keys, checks and indexes as 0001..the last on SQLite. The PostgreSQL tests run whenever the PostgreSQL
binaries are installed, whatever --db says; the translation's own tests need no server."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from store import pg_schema
from store.db import connect
from store.migrations import MIGRATIONS
from store.schema import migrate, session

# SQLite STRICT type -> the PostgreSQL type it is given (information_schema's name)
TYPES = {"TEXT": "TEXT", "INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION", "BLOB": "BYTEA"}
Schema = dict[str, Any]


def _sqlite_schema(path: Path) -> Schema:
    db = connect(path)
    migrate(db)
    try:
        columns: dict[str, Any] = {}
        indexes: dict[str, Any] = {}
        uniques: dict[str, list[list[str]]] = {}
        checks: dict[str, int] = {}
        for table in db.table_names():
            columns[table] = {c.name: (TYPES[c.type.upper()], bool(c.notnull or c.is_pk), bool(c.is_pk),
                                       c.default_value) for c in db[table].columns}
            sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
            checks[table] = len(re.findall(r"\bCHECK\s*\(", sql, re.IGNORECASE))
            for _, name, unique, origin, partial in db.execute(f"PRAGMA index_list({table})").fetchall():
                terms = [column for _, _, column, _, _, key in db.execute(f"PRAGMA index_xinfo({name})") if key]
                if origin == "c":
                    indexes[name] = (table, bool(unique), bool(partial), terms)
                elif origin == "u":
                    uniques.setdefault(table, []).append(terms)
        return {"columns": columns, "indexes": indexes, "uniques": uniques, "checks": checks}
    finally:
        db.close()


def _pg_default(default: str | None) -> str | None:
    """`'{}'::text` as SQLite keeps it, `'{}'`; numbers as they are."""
    return None if default is None else re.sub(r"::[a-z ]+$", "", default)


def _pg_schema(url: str) -> Schema:
    db = connect(url)
    try:
        columns: dict[str, Any] = {}
        for table in db.table_names():
            defaults = dict(db.execute("SELECT column_name, column_default FROM information_schema.columns "
                                       "WHERE table_schema = current_schema() AND table_name = ?", [table]).fetchall())
            columns[table] = {c.name: (c.type, bool(c.notnull), bool(c.is_pk), _pg_default(defaults[c.name]))
                              for c in db[table].columns}
        indexes = {name: (table, unique, partial, [column if n else None for n, column in zip(keys, names, strict=True)])
                   for name, table, unique, partial, keys, names in db.execute("""
            SELECT i.relname, t.relname, x.indisunique, x.indpred IS NOT NULL, x.indkey::int2[]::int[],
                   ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(n, o)
                         LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relnamespace = current_schema()::regnamespace AND t.relkind = 'r'
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""").fetchall()}
        uniques: dict[str, list[list[str]]] = {}
        checks = dict.fromkeys(columns, 0)
        for table, kind, names in db.execute("""
            SELECT t.relname, c.contype, ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(n, o)
                                           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o)
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relnamespace = current_schema()::regnamespace AND c.contype IN ('u', 'c')""").fetchall():
            if kind == "u":
                uniques.setdefault(table, []).append(list(names))
            else:
                checks[table] += 1
        return {"columns": columns, "indexes": indexes, "uniques": uniques, "checks": checks}
    finally:
        db.close()


def test_both_databases_have_the_same_tables_columns_types_defaults_keys_checks_and_indexes(
        tmp_path: Path, pg_url: str) -> None:
    sqlite, pg = _sqlite_schema(tmp_path / "s.db"), _pg_schema(pg_url)
    assert sorted(pg["columns"]) == sorted(sqlite["columns"])
    for table in sqlite["columns"]:
        assert pg["columns"][table] == sqlite["columns"][table], table
    # the record of applied migrations keeps its key as sqlite-utils makes it (an index) and as store/schema.py does
    # (a constraint): not part of the schema compared
    ours = MIGRATIONS.migrations_table
    assert ({n: i for n, i in pg["indexes"].items() if i[0] != ours}
            == {n: i for n, i in sqlite["indexes"].items() if i[0] != ours})
    assert ({t: sorted(u) for t, u in pg["uniques"].items() if t != ours}
            == {t: sorted(u) for t, u in sqlite["uniques"].items() if t != ours})
    assert pg["checks"] == sqlite["checks"]
    # spot values a person read off the migrations: 0006's partial unique index, 0016's expression index
    assert sqlite["indexes"]["jobs_dedupe"] == ("jobs", True, True, ["dedupe_key"])
    assert sqlite["indexes"]["quaderno_invoices_open_due"] == ("quaderno_invoices", False, False, ["state", None])
    assert sqlite["columns"]["alert_rules"]["channels"] == ("TEXT", True, False, """'["inbox"]'""")


def test_the_rows_a_migration_seeds_are_there_too(tmp_path: Path, pg_url: str) -> None:
    sql = "SELECT warehouse_id, lead_time_days, updated_by FROM lead_times ORDER BY warehouse_id"
    sqlite, pg = connect(tmp_path / "s.db"), connect(pg_url)
    migrate(sqlite)
    try:
        assert [tuple(r) for r in pg.execute(sql).fetchall()] == sqlite.execute(sql).fetchall() == [("", 7.0, "default")]
    finally:
        sqlite.close()
        pg.close()


def test_the_derived_schema_stands_for_every_migration_up_to_0025_and_later_ones_run_on_both(pg_url: str) -> None:
    names = [m.name for m in MIGRATIONS._migrations]
    assert pg_schema.COVERS == tuple(names[:len(pg_schema.COVERS)]) and pg_schema.COVERS[-1] == "0025_upload_erp_numbers"
    assert len(pg_schema.COVERS) == 23
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
    """store/pg_schema.py FUNCTIONS: the same answers, NULLs included (`AS REAL` is translated to PostgreSQL's
    8-byte DOUBLE PRECISION)."""
    sqlite, pg = connect(tmp_path / "s.db"), connect(pg_url)
    try:
        expected = [(2460745.0, 2460744.5, None, 2.5, None, 3, 0)]
        assert sqlite.execute(FUNCTIONS_SQL).fetchall() == expected
        assert [tuple(r) for r in pg.execute(FUNCTIONS_SQL).fetchall()] == expected
    finally:
        sqlite.close()
        pg.close()


SMALL_SCHEMA = (
    """CREATE TABLE t (id INTEGER PRIMARY KEY, n REAL NOT NULL DEFAULT 0 CHECK (n >= 0), -- a comment, (with parens
        b BLOB, s TEXT DEFAULT 'a,b', UNIQUE (s, b), CHECK (s <> 'x')) STRICT""",
    "CREATE TABLE one (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL)",
    "CREATE UNIQUE INDEX t_s ON t(coalesce(s, ''), n DESC) WHERE s IS NOT NULL",
    "INSERT INTO t (id, n, s) VALUES (5, 1.5, 'a')",
)


def _translated(*sql: str) -> list[tuple[str, list[Any]]]:
    db = Database(sqlite3.connect(":memory:", isolation_level=None))
    for statement in sql:
        db.execute(statement)
    return pg_schema.translate_schema(db)


def test_the_translation_of_a_small_schema_written_out_by_hand() -> None:
    """Types, the rowid key as an identity (not when a CHECK pins it: a one-row table), NOT NULL, a literal default
    with a comma, column and table CHECKs, a UNIQUE constraint, a partial unique index on an expression and a
    descending column, the seeded row and the identity's counter moved past it; the comment is dropped."""
    assert _translated(*SMALL_SCHEMA) == [
        (('CREATE TABLE "t" (\n    "id" BIGINT GENERATED BY DEFAULT AS IDENTITY,\n'
          '    "n" DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (n >= 0),\n    "b" BYTEA,\n    "s" TEXT DEFAULT \'a,b\',\n'
          '    PRIMARY KEY ("id"),\n    UNIQUE ("s", "b"),\n    CHECK (s <> \'x\'))'), []),
        ('CREATE TABLE "one" (\n    "id" BIGINT CHECK (id = 1),\n    "at" TEXT NOT NULL,\n    PRIMARY KEY ("id"))', []),
        ('CREATE UNIQUE INDEX "t_s" ON "t" ((coalesce(s, \'\')), "n" DESC) WHERE s IS NOT NULL', []),
        ('INSERT INTO "t" ("id", "n", "b", "s") VALUES (?, ?, ?, ?)', [5, 1.5, None, "a"]),
        ('SELECT setval(pg_get_serial_sequence(?, ?), max("id")) FROM "t"', ['"t"', "id"]),
    ]


def test_the_translated_small_schema_runs_on_postgresql_and_numbers_new_rows_after_the_seeded_one(
        pg_url: str) -> None:
    db = connect(pg_url)
    try:
        for sql, params in _translated(*SMALL_SCHEMA):
            db.execute(sql, params)
        assert db.execute("INSERT INTO t (n, s) VALUES (2, 'b')").lastrowid == 6
        assert db.execute("INSERT INTO one (id, at) VALUES (1, 'now')").lastrowid is None  # no identity
        with pytest.raises(Exception, match="t_n_check"):
            db.execute("INSERT INTO t (n) VALUES (-1)")
    finally:
        db.close()


@pytest.mark.parametrize(("sql", "names"), [
    ("CREATE VIEW v AS SELECT 1", "view 'v'"),
    ("CREATE TABLE c (id TEXT PRIMARY KEY, p TEXT REFERENCES c(id))", "foreign key"),
    ("CREATE TABLE d (at TEXT DEFAULT (strftime('%s', 'now')))", "d.at defaults to"),
    ("CREATE TABLE e (x NUMERIC)", "e.x has type 'NUMERIC'"),
    ("CREATE TABLE f (x TEXT COLLATE NOCASE)", "COLLATE NOCASE"),
])
def test_what_the_translation_cannot_carry_fails_naming_it(sql: str, names: str) -> None:
    with pytest.raises(ValueError, match=re.escape(names)):
        _translated(sql)


def test_deriving_the_schema_is_cheap() -> None:
    """It runs once per new PostgreSQL database, inside `migrate`: the 23 migrations on an in-memory SQLite and
    the translation take tens of milliseconds (a generous bound: the machine may be loaded)."""
    import time

    pg_schema.baseline()  # the first call imports what the migrations import
    started = time.perf_counter()
    statements = pg_schema.baseline()
    assert time.perf_counter() - started < 1.0
    assert sum(sql.startswith("CREATE TABLE") for sql, _ in statements) == 41


def test_a_database_this_process_migrated_is_only_checked_then(db_path: str | Path, on_postgres: bool) -> None:
    """`session()` migrates on every call (actions, job polls): on PostgreSQL the second and later calls of a process
    do one SELECT, not the ~80 ms pass under the migration lock."""
    if not on_postgres:
        pytest.skip("PostgreSQL only: SQLite's check is sqlite-utils' pending list")
    statements: list[str] = []
    with session(db_path) as db:
        real = db.execute
        db.execute = lambda sql, params=None: statements.append(sql) or real(sql, params)  # type: ignore[method-assign]
        assert migrate(db) == []
    assert len(statements) == 1 and "count(*)" in statements[0]
