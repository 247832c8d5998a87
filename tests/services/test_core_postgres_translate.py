"""services/core/pg_translate.py `translate` (re-exported by services/core/postgres.py): the one place
SQLite-flavoured SQL becomes what psycopg runs. Pure text in, text out (no database); each case written out by
hand."""

from __future__ import annotations

import pytest

from services.core.postgres import is_url, translate

CASES = [
    ("SELECT * FROM jobs WHERE job_id = ? AND fence = ?", "SELECT * FROM jobs WHERE job_id = %s AND fence = %s"),
    ("SELECT * FROM t WHERE d >= :today AND x = :week_ago", "SELECT * FROM t WHERE d >= %(today)s AND x = %(week_ago)s"),
    # a literal %, inside text or as the modulo operator, is doubled; quoted text keeps its ? and :name
    ("SELECT 'a%?:x', n % 100 FROM t WHERE s = ?", "SELECT 'a%%?:x', n %% 100 FROM t WHERE s = %s"),
    ("SELECT \"odd?name\" FROM t", "SELECT \"odd?name\" FROM t"),
    ("SELECT x::text FROM t", "SELECT x::text FROM t"),
    ("BEGIN n := 1; RETURN n; END", "BEGIN n := 1; RETURN n; END"),  # a lone ':' is no placeholder
    ("SELECT 'it''s ?' FROM t WHERE a = ?", "SELECT 'it''s ?' FROM t WHERE a = %s"),
    ("INSERT OR IGNORE INTO raw_dicts (a) VALUES (?)", "INSERT INTO raw_dicts (a) VALUES (%s) ON CONFLICT DO NOTHING"),
    ("INSERT OR IGNORE INTO t (a) VALUES (?) RETURNING a",
     "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING RETURNING a"),
    ("UPDATE r SET v = ? WHERE last IS ?", "UPDATE r SET v = %s WHERE last IS NOT DISTINCT FROM %s"),
    ("SELECT 1 WHERE a IS NOT ?", "SELECT 1 WHERE a IS DISTINCT FROM %s"),
    ("SELECT value FROM json_each(?)", "SELECT value FROM json_array_elements_text(%s::json)"),
    ("SELECT CAST(q AS REAL), 'AS REAL' FROM t", "SELECT CAST(q AS DOUBLE PRECISION), 'AS REAL' FROM t"),
    ("SELECT a FROM t ORDER BY a DESC, b, lower(c) ASC LIMIT ?",
     "SELECT a FROM t ORDER BY a DESC NULLS LAST, b NULLS FIRST, lower(c) ASC NULLS FIRST LIMIT %s"),
    ("SELECT (SELECT x FROM u ORDER BY u.end_time DESC LIMIT 1) FROM t ORDER BY 1",
     "SELECT (SELECT x FROM u ORDER BY u.end_time DESC NULLS LAST LIMIT 1) FROM t ORDER BY 1 NULLS FIRST"),
    ("SELECT * FROM t ORDER BY a NULLS LAST, 'ORDER BY b'", "SELECT * FROM t ORDER BY a NULLS LAST, 'ORDER BY b' NULLS FIRST"),
    ("SELECT * FROM (SELECT a FROM t ORDER BY a) AS s UNION ALL SELECT 1",
     "SELECT * FROM (SELECT a FROM t ORDER BY a NULLS FIRST) AS s UNION ALL SELECT 1"),
    ("SELECT 1 WHERE a LIKE ? ESCAPE '\\' AND b NOT LIKE 'LIKE'", "SELECT 1 WHERE a ILIKE %s ESCAPE '\\' AND b NOT ILIKE 'LIKE'"),
    ("SELECT count(*) FROM (SELECT * FROM (SELECT 1) WHERE x IN (SELECT y FROM t)) AS page",
     "SELECT count(*) FROM (SELECT * FROM (SELECT 1) AS _s1 WHERE x IN (SELECT y FROM t)) AS page"),
    ("SELECT * FROM (SELECT 1) JOIN (SELECT 2) AS b ON 1 = 1 LEFT JOIN (SELECT 3) q ON 1 = 1 WHERE 'FROM (x'",
     "SELECT * FROM (SELECT 1) AS _s1 JOIN (SELECT 2) AS b ON 1 = 1 LEFT JOIN (SELECT 3) q ON 1 = 1 WHERE 'FROM (x'"),
    ("SELECT * FROM (SELECT * FROM (SELECT 1) WHERE 1 = 1)", "SELECT * FROM (SELECT * FROM (SELECT 1) AS _s1 WHERE 1 = 1) AS _s2"),
    ("SELECT * FROM (VALUES (1)) AS v UNION ALL SELECT * FROM (SELECT 2)",
     "SELECT * FROM (VALUES (1)) AS v UNION ALL SELECT * FROM (SELECT 2) AS _s1"),
    # a parenthesis or comma inside quotes neither ends an ORDER BY item nor its list; `;` ends the list
    ("SELECT * FROM t ORDER BY coalesce(a, ')'), b || ',x' DESC; SELECT 1 ORDER BY 1",
     "SELECT * FROM t ORDER BY coalesce(a, ')') NULLS FIRST, b || ',x' DESC NULLS LAST; SELECT 1 ORDER BY 1 NULLS FIRST"),
    ("SELECT * FROM t WHERE s = 'it''s FROM (x' ORDER BY \"ORDER BY\"",
     "SELECT * FROM t WHERE s = 'it''s FROM (x' ORDER BY \"ORDER BY\" NULLS FIRST"),
    ("WHERE (? IS NULL OR vendor = ?)", "WHERE (CAST(%s AS TEXT) IS NULL OR vendor = %s)"),
    ("SELECT a -- a comment with ? and 'quote\nFROM t WHERE b = ?", "SELECT a -- a comment with ? and 'quote\nFROM t WHERE b = %s"),
]


@pytest.mark.parametrize(("sqlite", "postgres"), CASES)
def test_translate(sqlite: str, postgres: str) -> None:
    assert translate(sqlite) == postgres


@pytest.mark.parametrize(("value", "expected"), [
    ("postgresql://u@h/db", True), ("postgres://u@h/db", True), ("opsdash.db", False),
    ("/var/lib/opsdash/cache.db", False), ("sqlite:///x.db", False),
])
def test_is_url(value: str, expected: bool) -> None:
    assert is_url(value) is expected
