"""`opsdash migrate-store --from FILE --to URL`: a team's SQLite cache copied into PostgreSQL (issue 20).

One rule: the target is either the whole cache, checked equal, or left as it was. The source is opened the
normal way (its pending migrations applied) and read in one snapshot (a read transaction: a process still
writing to the file cannot tear the copy); the target is migrated, then everything else runs in ONE PostgreSQL
transaction: the refusal check, clearing (`replace=True` only), the copy, the identity reset and the comparison
(actions/store_check.py). A failed row, an interruption or a difference rolls it all back.

- A target holding data is refused; with `replace` its rows are removed first, table by table as listed.
  Rows the migrations themselves put there (`SEEDED`) do not count as data and are replaced by the source's.
- Tables go in dependency order (a table after those its foreign keys name; today's schema has none), each
  with `COPY ... FROM STDIN`, read from SQLite `BATCH` rows at a time in primary-key order. Values go as
  stored: money as its integer minor units or decimal text, timestamps as their text, `raw` as stored
  (compressed raw stays readable: `raw_dicts` moves too); integer ids are kept and each identity column then
  continues after the largest id; each table is then analyzed (the planner's statistics of a table whose rows were
  just replaced made one dataset's plan take minutes instead of seconds).
- Not moved (`SKIPPED`, with the reason each is printed with).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import psycopg
from sqlite_utils import Database

from actions.store_check import Comparison, compare, order_by
from services.core.postgres import PgDatabase, is_url
from store.db import connect, transaction, utcnow
from store.migrations import MIGRATIONS
from store.schema import migrate

BATCH = 5_000
_MIGRATIONS_TABLE = MIGRATIONS.migrations_table
SKIPPED: dict[str, str] = {
    _MIGRATIONS_TABLE: "the target records its own migrations (both must have applied the same ones)",
    "service_tokens": "the Qargo access token is a secret cached for an hour: PostgreSQL's processes fetch their own",
    "rate_buckets": "the rate limiters refill from the database's clock on PostgreSQL: they start there full",
    "figures": "stored figures are a cache: rebuilt from the copied tables when first read",
    "figure_worker": "the heartbeat of a figure worker on the SQLite file, not of one on PostgreSQL",
}
# Caches of the target's own data: always emptied, so no figure built before the move outlives it.
CLEARED = ("figures", "figure_worker")
# Rows the migrations insert into a new database: not the target's data; replaced by the source's.
SEEDED: dict[str, str] = {"lead_times": "warehouse_id = '' AND updated_by = 'default'"}
_MOVE_LOCK = 20_0020  # pg_advisory_xact_lock key: one move into a database at a time


class MoveRefused(Exception):
    """The move did not start or was rolled back; the message says why and what to do."""


@dataclass
class MoveReport:
    """What was moved and how the two sides compared."""

    source: str
    target: str
    copied: dict[str, int] = field(default_factory=dict)  # table -> rows copied
    removed: dict[str, int] = field(default_factory=dict)  # table -> rows removed from the target first
    comparison: Comparison | None = None

    @property
    def ok(self) -> bool:
        return self.comparison is not None and self.comparison.ok


class _Differs(Exception):
    """Raised inside the transaction to roll it back when the comparison finds a difference."""


Say = Callable[[str], object]


def move_store(source: Path, target_url: str, *, replace: bool = False, now: datetime | None = None,
               say: Say = print) -> MoveReport:
    """Copy the SQLite cache `source` into the PostgreSQL database `target_url` and compare them; returns the
    report, whose `comparison` lists any difference (the target was then left as it was). Raises `MoveRefused`
    before anything is written (a missing file, a target with data, different migrations) or after a rollback
    (a row PostgreSQL refuses)."""
    if not is_url(target_url):
        raise MoveRefused(f"--to must be a postgresql:// URL, not {target_url!r}")
    if is_url(str(source)) or not Path(source).is_file():
        raise MoveRefused(f"--from must be an existing SQLite file: {source} is not one")
    report = MoveReport(str(source), redact(target_url))
    with _opened(Path(source), target_url) as (src, dst):
        _check_histories(src, dst)
        _warn_blocked(src, say)
        try:
            _move(src, dst, report, replace, now or utcnow(), say)
        except _Differs:
            say("the target was rolled back: it holds what it held before")
    return report


@contextmanager
def _opened(source: Path, target_url: str) -> Iterator[tuple[Database, PgDatabase]]:
    src = connect(source)
    try:
        migrate(src)  # the file brought to the latest migration, as every opsdash process opens it
        dst = connect(target_url)
        try:
            migrate(dst)
            yield src, cast(PgDatabase, dst)
        finally:
            dst.close()
    finally:
        src.close()


def _move(src: Database, dst: PgDatabase, report: MoveReport, replace: bool, now: datetime, say: Say) -> None:
    tables = _tables(src, dst)
    src.conn.execute("BEGIN")  # one snapshot of the file for the copy and the comparison
    try:
        src.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        with transaction(cast(Database, dst)):
            cur = dst.conn.raw.cursor()
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_MOVE_LOCK])
            report.removed = _clear(cur, tables, replace, say)
            for table in tables:
                report.copied[table] = _copy(src, cur, table)
                say(f"copied {table}: {report.copied[table]} rows")
            _continue_identities(cur, tables)
            for table in tables:  # fresh statistics before the datasets' joins are planned (replaced rows mislead)
                cur.execute(f"ANALYZE {_quote(table)}")
            report.comparison = compare(src, cast(Database, dst), tables, now)
            if not report.comparison.ok:
                raise _Differs
    finally:
        src.conn.execute("ROLLBACK")


def _tables(src: Database, dst: PgDatabase) -> list[str]:
    """The source's tables to copy, in dependency order; refused when the target lacks one or its columns."""
    found = [t for t in src.table_names() if t not in SKIPPED and not t.startswith("sqlite_")]
    target = set(dst.table_names())
    for table in found:
        if table not in target:
            raise MoveRefused(f"the target has no table {table}: is it migrated by the same opsdash version?")
        ours, theirs = set(src[table].columns_dict), set(dst[table].columns_dict)
        if ours != theirs:
            raise MoveRefused(f"{table} has other columns on the target: only in the file {sorted(ours - theirs)}, "
                              f"only on the target {sorted(theirs - ours)}")
    return _dependency_order(found, _references(dst))


def _references(dst: PgDatabase) -> dict[str, set[str]]:
    rows = dst.conn.raw.execute(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c "
        "JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()"
    ).fetchall()
    found: dict[str, set[str]] = {}
    for child, parent in rows:
        found.setdefault(child.strip('"'), set()).add(parent.strip('"'))
    return found


def _dependency_order(tables: list[str], parents: dict[str, set[str]]) -> list[str]:
    """`tables` with each after the tables it references (the file's order otherwise)."""
    done: list[str] = []

    def visit(table: str, path: tuple[str, ...]) -> None:
        if table in done or table not in tables:
            return
        if table in path:
            raise MoveRefused(f"foreign keys form a cycle through {' -> '.join((*path, table))}")
        for parent in sorted(parents.get(table, ())):
            if parent != table:
                visit(parent, (*path, table))
        done.append(table)

    for table in tables:
        visit(table, ())
    return done


def _clear(cur: Any, tables: list[str], replace: bool, say: Say) -> dict[str, int]:
    """Refuse a target with data, or (`replace`) remove it, saying what goes; caches and seeded rows always go."""
    held = {t: n for t in tables if (n := _data_rows(cur, t))}
    if held and not replace:
        listed = ", ".join(f"{t} ({n})" for t, n in held.items())
        raise MoveRefused(f"the target already holds data: {listed}. Nothing was copied; move into an empty "
                          "database, or pass --replace to remove those rows first")
    for table, count in held.items():
        say(f"removing {count} rows from {table} on the target")
    for table in [*tables, *(t for t in CLEARED if t not in tables and _exists(cur, t))]:
        cur.execute(f"DELETE FROM {_quote(table)}")
    return held


def _data_rows(cur: Any, table: str) -> int:
    seeded = SEEDED.get(table)
    where = f" WHERE NOT ({seeded})" if seeded else ""
    return int(cur.execute(f"SELECT count(*) FROM {_quote(table)}{where}").fetchone()[0])


def _exists(cur: Any, table: str) -> bool:
    return cur.execute("SELECT to_regclass(%s) IS NOT NULL", [table]).fetchone()[0] is True


def _copy(src: Database, cur: Any, table: str) -> int:
    """COPY the table's rows into PostgreSQL as stored; a refused row names its table, key and reason."""
    columns = list(src[table].columns_dict)
    names = ", ".join(_quote(c) for c in columns)
    rows = src.conn.execute(f"SELECT {names} FROM {_quote(table)} ORDER BY {order_by(src, table)}")
    count = 0
    try:
        with cur.copy(f"COPY {_quote(table)} ({names}) FROM STDIN") as copy:
            while batch := rows.fetchmany(BATCH):
                for row in batch:
                    copy.write_row(row)  # a value psycopg cannot send (a NUL in text) fails here, on this row
                    count += 1
    except psycopg.Error as exc:
        found = _LINE.search(exc.diag.context or "")  # the server names the line (from 1) it refused
        line = int(found.group(1)) if found else count + 1
        raise MoveRefused(f"PostgreSQL refused {_which_row(src, table, line)}: {_reason(exc)}. Nothing was "
                          "kept on the target; fix that row in the file (or remove it) and run again") from exc
    return count


_LINE = re.compile(r"\bline (\d+)\b")


def _which_row(src: Database, table: str, line: int) -> str:
    """'qargo_orders row 3 (order_id = T3)': the `line`-th row sent, counted from 1 in primary-key order."""
    keys = [c.name for c in src[table].columns if c.is_pk]
    row = src.conn.execute(f"SELECT {', '.join(_quote(k) for k in keys) or 'rowid'} FROM {_quote(table)} "
                           f"ORDER BY {order_by(src, table)} LIMIT 1 OFFSET ?", [line - 1]).fetchone()
    key = ", ".join(f"{k} = {v}" for k, v in zip(keys or ["rowid"], row or (), strict=False))
    return f"{table} row {line} ({key})"


def _reason(exc: psycopg.Error) -> str:
    return exc.diag.message_primary or str(exc).splitlines()[0]


def _continue_identities(cur: Any, tables: list[str]) -> None:
    """Each identity column continues after its largest copied id (COPY with explicit ids does not move it)."""
    rows = cur.execute("SELECT table_name, column_name FROM information_schema.columns "
                       "WHERE table_schema = current_schema() AND is_identity = 'YES'").fetchall()
    for table, column in rows:
        if table in tables:
            cur.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), coalesce(max({_quote(column)}), 0) + 1, "
                        f"false) FROM {_quote(table)}", [_quote(table), column])


def _check_histories(src: Database, dst: PgDatabase) -> None:
    """Both sides must have applied the same migrations (the same opsdash version opened both)."""
    def names(db: Any) -> set[str]:
        return {n for (n,) in db.execute(f"SELECT name FROM {_MIGRATIONS_TABLE} WHERE migration_set = ?",
                                         [MIGRATIONS.name]).fetchall()}

    ours, theirs = names(src), names(dst)
    if ours != theirs:
        raise MoveRefused(f"the file and the target have applied different migrations (only in the file: "
                          f"{sorted(ours - theirs)}, only on the target: {sorted(theirs - ours)}): run the same "
                          "opsdash version against both")


def _warn_blocked(src: Database, say: Say) -> None:
    """A vendor's Retry-After still running in the file's rate limiter does not move: say until when."""
    if "rate_buckets" not in src.table_names():
        return
    now = utcnow().timestamp()
    for key, until in src.execute("SELECT key, blocked_until FROM rate_buckets WHERE blocked_until > ?", [now]):
        say(f"note: {key} asked us to wait until {datetime.fromtimestamp(until).astimezone().isoformat('T', 'seconds')}"
            " (Retry-After); its wait does not move: start syncing on PostgreSQL after that")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def redact(url: str) -> str:
    """The URL with its password hidden (`postgresql://user:***@host/db`): it is printed."""
    return re.sub(r"^(\w+://[^:@/]*):[^@/]*@", r"\1:***@", url)
