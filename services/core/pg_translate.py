"""SQLite's dialect as PostgreSQL runs it: `translate`, a pure function of the statement's text (no database).

The one place SQL is translated is `translate`: placeholders (`?` -> `%s`, `:name` -> `%(name)s`, a literal `%`
doubled), `INSERT OR IGNORE` -> `INSERT ... ON CONFLICT DO NOTHING`, `IS ?` -> `IS NOT DISTINCT FROM %s`, and
`json_each(?)` over a JSON array -> `json_array_elements_text(%s::json)` (its column is `value` too), and
`? IS NULL` (an optional filter) -> `CAST(%s AS TEXT) IS NULL` (PostgreSQL must know a parameter's type), and
`CAST(x AS REAL)` -> `AS DOUBLE PRECISION` (SQLite's REAL has 8 bytes, PostgreSQL's 4), and every `ORDER BY`
item gets SQLite's NULL order (`NULLS FIRST` ascending, `NULLS LAST` descending; PostgreSQL's is the opposite),
`LIKE` -> `ILIKE` (SQLite's LIKE ignores ASCII case; with the byte-order LC_CTYPE the database must have,
so does ILIKE), and a subquery in FROM or JOIN without an alias gets one.
Quoted text and identifiers are left alone. Anything else that differs (functions, DDL) is written portably in the
code, or branched on `is_postgres` where the database's own means are the point (SKIP LOCKED, advisory locks).

services/core/postgres.py runs every statement through `translate` (and re-exports it); `before_returning` and
`RETURNING` are also what it uses to append `RETURNING <identity column>` for `lastrowid`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|::|\?\d*|(?<![:\w]):[A-Za-z_]\w*|%|[^'"?:%-]+|.""", re.DOTALL)
_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_IS_PARAM = re.compile(r"\bIS\s+(NOT\s+)?(?=\?)", re.IGNORECASE)
_JSON_EACH = re.compile(r"\bjson_each\(\?\)", re.IGNORECASE)
_LIKE = re.compile(r"(?<![\w.])LIKE\b", re.IGNORECASE)  # SQLite's LIKE ignores ASCII case: ILIKE under LC_CTYPE C
_AS_REAL = re.compile(r"\bAS\s+REAL\b", re.IGNORECASE)  # SQLite's REAL is 8 bytes, PostgreSQL's 4
_PARAM_IS_NULL = re.compile(r"(?<![\w.])\?(?=\s+IS\s+(?:NOT\s+)?NULL\b)", re.IGNORECASE)


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """SQLite-flavoured SQL as psycopg runs it (see the module doc); always run with a params argument."""
    sql = _IS_PARAM.sub(lambda m: "IS DISTINCT FROM " if m.group(1) else "IS NOT DISTINCT FROM ", sql)
    sql = _JSON_EACH.sub("json_array_elements_text(?::json)", sql)
    sql = _PARAM_IS_NULL.sub("CAST(? AS TEXT)", sql)
    out = []
    for token in _TOKEN.findall(sql):
        if token.startswith("?"):
            out.append("%s")
        elif token.startswith(":") and len(token) > 1 and token != "::":
            out.append(f"%({token[1:]})s")
        elif token.startswith("'"):
            out.append(token.replace("%", "%%"))
        elif token == "%":
            out.append("%%")
        else:
            out.append(_LIKE.sub("ILIKE", _AS_REAL.sub("AS DOUBLE PRECISION", token)))
    text = _alias_subqueries(_sqlite_null_order("".join(out)))
    if _OR_IGNORE.match(text):
        text = _OR_IGNORE.sub("INSERT INTO", text, count=1)
        text = before_returning(text, " ON CONFLICT DO NOTHING")
    return text


_FROM_PAREN = re.compile(r"\b(FROM|JOIN)\s*\(", re.IGNORECASE)
_AFTER = re.compile(r"\s*([A-Za-z_]\w*)")
_NOT_ALIAS = frozenset({"WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET", "UNION", "INTERSECT", "EXCEPT", "JOIN", "LEFT",
                        "RIGHT", "INNER", "CROSS", "FULL", "NATURAL", "ON", "USING", "HAVING", "WINDOW", "FOR",
                        "RETURNING", "FETCH"})


def _alias_subqueries(sql: str) -> str:
    """A subquery in FROM or JOIN without an alias gets one (`AS _s1`, ...): SQLite needs none, PostgreSQL 15
    refuses it."""
    ends = []
    for found in _FROM_PAREN.finditer(sql):
        end = None if _quoted_at(sql, found.start()) else _closing(sql, found.end() - 1)
        after = _AFTER.match(sql, end + 1) if end is not None else None
        if end is not None and (after is None or after.group(1).upper() in _NOT_ALIAS):
            ends.append(end + 1)
    out, last = [], 0
    for number, at in enumerate(sorted(ends), 1):
        out.append(sql[last:at] + f" AS _s{number}")
        last = at
    return "".join(out) + sql[last:]


def _unquoted(sql: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """Each position from `start` outside quoted literals and identifiers (quote marks too are left out), with its
    character: the one scan of quotes the parenthesis, alias and ORDER BY rewrites share. A doubled quote inside
    a literal ends it and opens another, so `'it''s'` stays quoted throughout."""
    quote = ""
    for i in range(start, len(sql)):
        char = sql[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        else:
            yield i, char


def _closing(sql: str, open_at: int) -> int | None:
    """Where the parenthesis opened at `open_at` closes (quotes skipped), or None."""
    depth = 0
    for i, char in _unquoted(sql, open_at):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


def _quoted_at(sql: str, at: int) -> bool:
    """Whether position `at` is inside a quoted literal or identifier."""
    return next((i != at for i, _ in _unquoted(sql) if i >= at), True)


def _word_start(sql: str, i: int) -> bool:
    return i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")


_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)
_ORDER_END = re.compile(r"\b(LIMIT|OFFSET|FETCH|UNION|INTERSECT|EXCEPT|FOR|RETURNING|ON\s+CONFLICT)\b", re.IGNORECASE)
_HAS_NULLS = re.compile(r"\bNULLS\s+(FIRST|LAST)\s*$", re.IGNORECASE)
_DESC = re.compile(r"\bDESC\s*$", re.IGNORECASE)


def _sqlite_null_order(sql: str) -> str:
    """Every `ORDER BY` item sorts NULLs as SQLite does: first ascending, last descending (PostgreSQL's default
    is the opposite). Items that say NULLS FIRST/LAST themselves are left alone."""
    out, copied = [], 0
    for i, _ in _unquoted(sql):
        if i >= copied and (found := _ORDER_BY.match(sql, i)) and _word_start(sql, i):
            out.append(sql[copied:found.end()])
            copied = _order_items(sql, found.end(), out)
    out.append(sql[copied:])
    return "".join(out)


def _order_items(sql: str, start: int, out: list[str]) -> int:
    """Copy the ORDER BY list from `start` to `out` with each item's NULL order; returns where the list ended (a
    `)` closing its level, a `;`, the next clause, or the end)."""
    level, end = 0, len(sql)
    for i, char in _unquoted(sql, start):
        if char == "(":
            level += 1
        elif char == ")":
            if level == 0:
                end = i
                break
            level -= 1
        elif level == 0 and (char in ",;" or (_ORDER_END.match(sql, i) and _word_start(sql, i))):
            out.append(_null_order(sql[start:i]))
            if char != ",":
                return i
            out.append(",")
            start = i + 1
    out.append(_null_order(sql[start:end]))
    return end


def _null_order(item: str) -> str:
    body = item.rstrip()
    if not body.strip() or _HAS_NULLS.search(body):
        return item
    return body + (" NULLS LAST" if _DESC.search(body) else " NULLS FIRST") + item[len(body):]


def before_returning(sql: str, clause: str) -> str:
    """`sql` with `clause` put before its RETURNING, or at its end (a trailing `;` dropped) when it has none."""
    found = RETURNING.search(sql)
    stripped = sql.rstrip().rstrip(";")
    if found is None:
        return stripped + clause
    return sql[:found.start()].rstrip() + clause + " " + sql[found.start():]
