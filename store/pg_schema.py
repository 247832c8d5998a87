"""The PostgreSQL side of the one schema (issue 20): the schema migrations 0001..0025 build, derived from those
migrations themselves, and the SQLite functions the shared SQL calls, defined on PostgreSQL.

One history serves both databases: store/migrations/. Its first migrations, 0001..0025 (`COVERS`), are written
for SQLite (STRICT tables, tables rebuilt to change a CHECK, triggers created and dropped again, `sqlite_master`,
`rowid`, `json_extract` back-fills of rows a new PostgreSQL database does not have), so they are not replayed on
PostgreSQL: `baseline` runs them on an in-memory SQLite database and `translate_schema` reads back what they left
(sqlite_master, `PRAGMA table_xinfo`, `index_list`, `index_xinfo`) as PostgreSQL DDL, seeded rows included. A new
PostgreSQL database gets that, with 0001..0025 recorded as applied; every migration after 0025 runs on both
databases (store/schema.py): SQL both accept, or a branch on `store.db.is_postgres` inside it.
tests/store/test_pg_schema.py compares the two databases' tables, columns, types, defaults, keys, checks and
indexes.

Translation (`translate_schema`, the one place): types by the column's declared type, SQLite STRICT INTEGER ->
BIGINT (8 bytes, as SQLite's), REAL -> DOUBLE PRECISION (never PostgreSQL's 4-byte REAL), BLOB -> BYTEA, TEXT ->
TEXT; an `INTEGER PRIMARY KEY` (SQLite's rowid, which numbers new rows) -> an identity column, unless a CHECK pins
it (`figure_worker`'s one row); NOT NULL, literal defaults, CHECK clauses (as written), primary keys, UNIQUE
constraints, and indexes (unique, partial, on expressions) carried over. Anything it cannot carry (a view, a
trigger, a foreign key, a collation, a generated column, a default that is not a literal) raises, naming it.
Deriving takes ~20 ms, once per new database.
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from typing import Any, NamedTuple

from sqlite_utils import Database

from store.migrations import MIGRATIONS

SQUASHED_THROUGH = "0025_upload_erp_numbers"  # the last migration written for SQLite alone
# Every migration the derived schema stands for, in registration order (as sqlite_utils applies them): recorded as
# applied when a new PostgreSQL database gets it.
_NAMES = [m.name for m in MIGRATIONS._migrations]
COVERS: tuple[str, ...] = tuple(_NAMES[:_NAMES.index(SQUASHED_THROUGH) + 1])

Statement = tuple[str, list[Any]]

_TYPES = {"INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION", "BLOB": "BYTEA", "TEXT": "TEXT"}
_LITERAL = re.compile(r"-?\d+(\.\d+)?|'(?:[^']|'')*'|NULL", re.IGNORECASE)
# column constraints with no translation here (a new one fails loudly, never silently differs)
_UNSUPPORTED = re.compile(r"\b(REFERENCES|COLLATE|GENERATED|AS|AUTOINCREMENT|CONSTRAINT|CONFLICT)\b", re.IGNORECASE)
_DIRECTION = re.compile(r"\s+(ASC|DESC)\s*$", re.IGNORECASE)


def baseline() -> list[Statement]:
    """What migrations 0001..0025 build, as PostgreSQL statements (DDL, then the rows they seed): they run on an
    in-memory SQLite database, and `translate_schema` reads the result."""
    db = Database(sqlite3.connect(":memory:", isolation_level=None))
    try:
        for migration in MIGRATIONS._migrations:
            if migration.name in COVERS:
                migration.fn(db)
        return translate_schema(db)
    finally:
        db.close()


def translate_schema(db: Database) -> list[Statement]:
    """`db`'s (SQLite) tables, indexes and rows as PostgreSQL statements (see the module doc)."""
    objects = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' "
                         "ESCAPE '\\' ORDER BY rowid").fetchall()
    for kind, name, _, _ in objects:
        if kind not in ("table", "index"):
            raise ValueError(f"store/pg_schema.py: the {kind} {name!r} has no PostgreSQL translation")
    tables = [(name, sql) for kind, name, _, sql in objects if kind == "table"]
    statements: list[Statement] = [(_create_table(db, name, sql), []) for name, sql in tables]
    statements += [(_create_index(db, name, table, sql), []) for kind, name, table, sql in objects
                   if kind == "index" and sql is not None]  # sql NULL: a key's own index, made with its table
    for name, _ in tables:
        statements += _rows(db, name)
    return statements


class _Column(NamedTuple):
    cid: int
    name: str
    type: str
    notnull: int
    default: str | None
    pk: int  # its position in the primary key, 0 when not in it
    hidden: int


def _columns(db: Database, table: str) -> list[_Column]:
    return [_Column(*row) for row in db.execute(f"PRAGMA table_xinfo({_q(table)})").fetchall()]


def _counter(db: Database, table: str) -> str | None:
    """The table's `INTEGER PRIMARY KEY` that is SQLite's rowid (it numbers new rows), unless a CHECK pins it."""
    key = [c for c in _columns(db, table) if c.pk]
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()[0]
    own_index = any(origin == "pk" for _, _, _, origin, _ in db.execute(f"PRAGMA index_list({_q(table)})"))
    if len(key) != 1 or key[0].type.upper() != "INTEGER" or own_index or _checks(sql)[0][key[0].name]:
        return None
    return key[0].name


def _create_table(db: Database, table: str, sql: str) -> str:
    where = f"table {table!r}"
    columns = _columns(db, table)
    if any(c.hidden for c in columns):
        raise ValueError(f"store/pg_schema.py: {where} has a generated or hidden column; no translation")
    if db.execute(f"PRAGMA foreign_key_list({_q(table)})").fetchall():
        raise ValueError(f"store/pg_schema.py: {where} has a foreign key; no translation")
    checks, table_checks = _checks(sql)
    if sorted(checks) != sorted(c.name for c in columns):
        raise ValueError(f"store/pg_schema.py: could not read the column definitions of {where}")
    counter = _counter(db, table)
    lines = []
    for column in columns:
        what = f"column {table}.{column.name}"
        if column.type.upper() not in _TYPES:
            raise ValueError(f"store/pg_schema.py: {what} has type {column.type!r}; no PostgreSQL translation")
        parts = [_q(column.name), _TYPES[column.type.upper()]]
        if column.name == counter:
            parts.append("GENERATED BY DEFAULT AS IDENTITY")
        if column.notnull:
            parts.append("NOT NULL")
        if column.default is not None:
            if not _LITERAL.fullmatch(column.default):
                raise ValueError(f"store/pg_schema.py: {what} defaults to {column.default!r}, not a literal; "
                                 "no translation")
            parts.append(f"DEFAULT {column.default}")
        parts += [f"CHECK {check}" for check in checks[column.name]]
        lines.append(" ".join(parts))
    key = [c.name for c in sorted(columns, key=lambda c: c.pk) if c.pk]
    if key:
        lines.append(f"PRIMARY KEY ({', '.join(map(_q, key))})")
    for _, index, _, origin, _ in db.execute(f"PRAGMA index_list({_q(table)})").fetchall():
        if origin == "u":  # a UNIQUE constraint (PostgreSQL names it <table>_<columns>_key)
            names = [name for _, _, name in db.execute(f"PRAGMA index_info({_q(index)})").fetchall()]
            lines.append(f"UNIQUE ({', '.join(map(_q, names))})")
    lines += [f"CHECK {check}" for check in table_checks]
    return f"CREATE TABLE {_q(table)} (\n    " + ",\n    ".join(lines) + ")"


@lru_cache(maxsize=256)
def _checks(sql: str) -> tuple[dict[str, list[str]], list[str]]:
    """The CHECK clauses of a CREATE TABLE as sqlite_master keeps it (ALTER TABLE ADD COLUMN included): per
    column, and the table's own; every other constraint is read from the PRAGMAs."""
    body, _ = _parenthesized(sql)
    per_column: dict[str, list[str]] = {}
    table: list[str] = []
    for item in _split(body):
        head = item.split(None, 1)[0]
        if head.upper() in ("PRIMARY", "UNIQUE"):
            continue
        if head.upper() == "CHECK":
            table.append(_parenthesized(item)[0].join("()"))
            continue
        if head.upper() in ("CONSTRAINT", "FOREIGN") or _UNSUPPORTED.search(" ".join(_words(item))):
            raise ValueError(f"store/pg_schema.py: {item.strip()!r} has no PostgreSQL translation ({sql[:60]}...)")
        per_column[head.strip('"`[]')] = _column_checks(item)
    return per_column, table


def _column_checks(item: str) -> list[str]:
    found, rest = [], item
    while (at := re.search(r"\bCHECK\s*\(", _blank_quotes(rest), re.IGNORECASE)) is not None:
        group, rest = _parenthesized(rest[at.start():])
        found.append(group.join("()"))
    return found


def _create_index(db: Database, name: str, table: str, sql: str) -> str:
    where = f"index {name!r}"
    unique, partial = next((u, p) for _, n, u, _, p in db.execute(f"PRAGMA index_list({_q(table)})") if n == name)
    keys = [k for k in db.execute(f"PRAGMA index_xinfo({_q(name)})").fetchall() if k[5]]  # seqno, cid, name,
    terms, rest = _parenthesized(sql[re.search(r"\bON\b", _blank_quotes(sql), re.IGNORECASE).end():])  # type: ignore[union-attr]
    written = _split(terms)
    if len(written) != len(keys):
        raise ValueError(f"store/pg_schema.py: could not read the terms of {where}")
    parts = []
    for (_, cid, column, desc, collation, _), term in zip(keys, written, strict=True):
        if collation.upper() != "BINARY":
            raise ValueError(f"store/pg_schema.py: {where} uses collation {collation}; no translation")
        expression = _q(column) if cid >= 0 else f"({_DIRECTION.sub('', _strip_comments(term).strip())})"
        parts.append(expression + (" DESC" if desc else ""))
    condition = ""
    if partial:
        condition = " " + _strip_comments(rest).strip()
        if not condition.upper().startswith(" WHERE"):
            raise ValueError(f"store/pg_schema.py: could not read the condition of {where}")
    return f"CREATE {'UNIQUE ' if unique else ''}INDEX {_q(name)} ON {_q(table)} ({', '.join(parts)}){condition}"


def _rows(db: Database, table: str) -> list[Statement]:
    """The rows a migration seeded (0024's lead time for every warehouse); an identity's counter moved past them."""
    cursor = db.execute(f"SELECT * FROM {_q(table)}")
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    insert = f"INSERT INTO {_q(table)} ({', '.join(map(_q, names))}) VALUES ({', '.join('?' for _ in names)})"
    statements: list[Statement] = [(insert, list(row)) for row in rows]
    if rows and (counter := _counter(db, table)) is not None:
        statements.append((f"SELECT setval(pg_get_serial_sequence(?, ?), max({_q(counter)})) FROM {_q(table)}",
                           [_q(table), counter]))
    return statements


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- reading SQL text: quotes, comments and parentheses -------------------------------------------------------

_PIECES = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|--[^\n]*|/\*.*?\*/|[^'"`\[/-]+|.""",
                     re.DOTALL)


def _strip_comments(sql: str) -> str:
    return "".join(" " if p.startswith(("--", "/*")) else p for p in _PIECES.findall(sql))


@lru_cache(maxsize=1024)
def _blank_quotes(sql: str) -> str:
    """`sql` with quoted text and comments blanked out, same length: searches see only SQL words."""
    return "".join(" " * len(p) if p[0] in "'\"`[" or p.startswith(("--", "/*")) else p
                   for p in _PIECES.findall(sql))


def _parenthesized(sql: str) -> tuple[str, str]:
    """The text inside the first parenthesis of `sql` (quotes and comments respected), and what follows it."""
    blank = _blank_quotes(sql)
    start, depth = blank.index("("), 0
    for at in range(start, len(blank)):
        depth += {"(": 1, ")": -1}.get(blank[at], 0)
        if depth == 0:
            return _strip_comments(sql[start + 1:at]), sql[at + 1:]
    raise ValueError(f"store/pg_schema.py: unbalanced parentheses in {sql!r}")


def _split(body: str) -> list[str]:
    """The comma-separated items of `body` at its own level (not inside parentheses or quotes)."""
    blank, items, depth, start = _blank_quotes(body), [], 0, 0
    for at, char in enumerate(blank):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(body[start:at])
            start = at + 1
    items.append(body[start:])
    return [item for item in items if item.strip()]


def _words(item: str) -> list[str]:
    """The words of a definition outside parentheses and quotes (its type and constraint keywords)."""
    blank, depth, out = _blank_quotes(item), 0, []
    for char in blank:
        depth += {"(": 1, ")": -1}.get(char, 0)
        out.append(char if depth == 0 and char not in "()" else " ")
    return "".join(out).split()


# SQLite functions the shared SQL calls that PostgreSQL lacks, defined with SQLite's meaning; (re)created at every
# migrate (CREATE OR REPLACE), like the dataset views on SQLite. Only what the ported SQL needs.
FUNCTIONS = (
    # instr(haystack, needle): 1-based position, 0 when absent (store/audit.py, store/queries.py search)
    """CREATE OR REPLACE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS INTEGER
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT strpos(haystack, needle)'""",
    # julianday(text): fractional days since noon UTC, 24 November 4714 BC; NULL for text that is not a time, as
    # SQLite answers (sessions run in UTC: services/core/postgres.py), e.g. the Qargo poll's order
    """CREATE OR REPLACE FUNCTION julianday(moment TEXT) RETURNS DOUBLE PRECISION
    LANGUAGE plpgsql STABLE PARALLEL RESTRICTED AS $$
    BEGIN
        RETURN extract(epoch FROM moment::timestamptz) / 86400.0 + 2440587.5;
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END $$""",
    # SQLite's two-argument max: NULL when either is NULL (greatest() would skip the NULL)
    *(f"""CREATE OR REPLACE FUNCTION max(a {t}, b {t}) RETURNS {t} LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE greatest(a, b) END'"""
      for t in ("INTEGER", "BIGINT", "DOUBLE PRECISION", "TEXT")),
    *(f"""CREATE OR REPLACE FUNCTION min(a {t}, b {t}) RETURNS {t} LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE least(a, b) END'"""
      for t in ("INTEGER", "BIGINT", "DOUBLE PRECISION", "TEXT")),
    # round(x, digits) of a float, as SQLite's (PostgreSQL rounds only numeric to digits)
    """CREATE OR REPLACE FUNCTION round(x DOUBLE PRECISION, digits INTEGER) RETURNS DOUBLE PRECISION
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT round(x::numeric, digits)::double precision'""",
    # typeof(x): SQLite's storage class ('integer', 'real', 'text', 'blob', 'null'), e.g. minor units or decimal text
    """CREATE OR REPLACE FUNCTION typeof(value ANYELEMENT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NULL THEN 'null'
                WHEN pg_typeof(value) IN ('bigint'::regtype, 'integer'::regtype, 'smallint'::regtype) THEN 'integer'
                WHEN pg_typeof(value) IN ('double precision'::regtype, 'real'::regtype, 'numeric'::regtype) THEN 'real'
                WHEN pg_typeof(value) = 'bytea'::regtype THEN 'blob' ELSE 'text' END $$""",
    # printf(format, text, integer, integer) as store/datasets.py `minor_text` calls it: %s, %d and %0Nd only
    """CREATE OR REPLACE FUNCTION printf(format TEXT, a TEXT, b BIGINT, c BIGINT) RETURNS TEXT
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE
        args TEXT[] := ARRAY[a, b::text, c::text];
        spec TEXT[];
        result TEXT := '';
        rest TEXT := format;
        i INT := 1;
    BEGIN
        LOOP
            spec := regexp_match(rest, '^(.*?)%(0?)([0-9]*)([sd])(.*)$', 's');
            EXIT WHEN spec IS NULL;
            result := result || spec[1] || CASE WHEN spec[2] = '0' AND spec[3] <> ''
                THEN lpad(coalesce(args[i], ''), spec[3]::int, '0') ELSE coalesce(args[i], '') END;
            rest := spec[5];
            i := i + 1;
        END LOOP;
        RETURN result || rest;
    END $$""",
    # date(day, modifier): SQLite's date with one '+N days' / '-N days' modifier, as text; NULL for a bad day
    """CREATE OR REPLACE FUNCTION date(day TEXT, modifier TEXT) RETURNS TEXT
    LANGUAGE plpgsql IMMUTABLE PARALLEL RESTRICTED AS $$
    BEGIN
        RETURN to_char(day::date + modifier::interval, 'YYYY-MM-DD');
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END $$""",
    # group_concat(text): comma-joined, NULLs skipped (DISTINCT works as on SQLite)
    """CREATE OR REPLACE FUNCTION opsdash_concat_step(joined TEXT, value TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    'SELECT CASE WHEN value IS NULL THEN joined WHEN joined IS NULL THEN value ELSE joined || '','' || value END'""",
    """CREATE OR REPLACE AGGREGATE group_concat(TEXT) (SFUNC = opsdash_concat_step, STYPE = TEXT)""",
    # decimal_sum(x): store/decimals.py's exact sum of decimal text or integers, as decimal text; NULL and '' are
    # skipped, a value that is not a number makes the sum NULL, no values give NULL
    """CREATE OR REPLACE FUNCTION opsdash_decimal_step(state TEXT, value TEXT) RETURNS TEXT
    LANGUAGE plpgsql IMMUTABLE PARALLEL RESTRICTED AS $$
    BEGIN
        IF value IS NULL OR value = '' OR state = 'bad' THEN
            RETURN state;
        END IF;
        RETURN (coalesce(state::numeric, 0) + value::numeric)::text;
    EXCEPTION WHEN others THEN
        RETURN 'bad';
    END $$""",
    """CREATE OR REPLACE FUNCTION opsdash_decimal_step(state TEXT, value NUMERIC) RETURNS TEXT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    'SELECT CASE WHEN value IS NULL OR state = ''bad'' THEN state ELSE (coalesce(state::numeric, 0) + value)::text END'""",
    """CREATE OR REPLACE FUNCTION opsdash_decimal_final(state TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT nullif(state, ''bad'')'""",
    *(f"""CREATE OR REPLACE AGGREGATE decimal_sum({t}) (SFUNC = opsdash_decimal_step, STYPE = TEXT,
    FINALFUNC = opsdash_decimal_final)""" for t in ("TEXT", "NUMERIC")),
    # total(x): a float sum that is 0.0, not NULL, over no rows
    """CREATE OR REPLACE AGGREGATE total(DOUBLE PRECISION) (SFUNC = float8pl, STYPE = DOUBLE PRECISION,
    INITCOND = '0')""",
)
