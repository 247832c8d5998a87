"""Shared fixtures: sandboxes on 127.0.0.1 served from a background thread; a migrated temporary database per
test and the sandbox data set synced once (the store, figures, sync, webhooks, jobs, alerts and exports tests).

`--db=postgresql` (or OPSDASH_TEST_DB=postgresql) runs the database fixtures on PostgreSQL (issue 20): one
throwaway cluster per session (tests/pgcluster.py), a migrated template database, and a fresh database per test
copied from it (`CREATE DATABASE ... TEMPLATE ... STRATEGY FILE_COPY`). `db_path` is then a `postgresql://` URL,
and so is what the processes a test starts read from OPSDASH_DB: the default per test
(`no_database_in_the_working_directory`) and what `new_opsdash_db` gives (the CLI, `opsdash demo`/`serve`)."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlite_utils import Database

from sandbox.context import Limits, SandboxConfig
from sandbox.server import running
from services.settings import get_settings
from store.db import connect
from store.schema import migrate
from tests import pgcluster
from tests.synced_data import SyncedTemplate, build, sync_into


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=("sqlite", "postgresql"), default=os.environ.get("OPSDASH_TEST_DB", "sqlite"),
                     help="the database the database fixtures use (default: OPSDASH_TEST_DB, else sqlite)")


# Test files that open no database of the suite's (no `db`/`db_path` fixture, no default OPSDASH_DB, no process
# reading it): with --db=postgresql they would run exactly as in the SQLite run, so they run once, there.
DATABASE_FREE = {
    "tests/sandbox/": "the vendor sandbox is no client of our database (test_living and test_upwell fill a SQLite "
                      "file of their own to read the world through our code)",
    "tests/test_benches.py": "each bench makes its own sandbox and SQLite file (bench_cluster its own PostgreSQL)",
    "tests/test_layout.py": "reads the source",
    "tests/test_docs_paths.py": "reads the docs",
}


def _skip_sqlite_only(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`@pytest.mark.sqlite_only("why")`: a test of SQLite's own machinery (rowid, STRICT, file locks) is skipped
    on PostgreSQL, saying why; so is a test of a DATABASE_FREE file (it ran the same in the SQLite run)."""
    if config.getoption("--db") != "postgresql":
        return
    for item in items:
        if (mark := item.get_closest_marker("sqlite_only")) is not None:
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {mark.args[0] if mark.args else ''}"))
        elif (why := next((w for p, w in DATABASE_FREE.items() if item.nodeid.startswith(p)), None)) is not None:
            item.add_marker(pytest.mark.skip(reason=f"no database of the suite's, run in the SQLite run: {why}"))


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def on_postgres(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--db") == "postgresql")


@pytest.fixture(scope="session")
def pg_cluster(on_postgres: bool) -> Iterator[str]:
    """The session's PostgreSQL cluster (superuser URL); skips when the binaries are missing."""
    if not pgcluster.available():
        pytest.skip(f"PostgreSQL binaries not found in {pgcluster.BIN}")
    with pgcluster.cluster() as url:
        yield url


_TEMPLATE = "opsdash_template"
_NUMBERS = itertools.count(1)


@pytest.fixture(scope="session")
def pg_template(pg_cluster: str) -> str:
    """A migrated database every test's database is copied from; returns the cluster's superuser URL."""
    pgcluster.admin_execute(pg_cluster, f"CREATE DATABASE {_TEMPLATE}")
    db = connect(pgcluster.database_url(pg_cluster, _TEMPLATE))
    migrate(db)
    db.close()
    return pg_cluster


def copy_of_template(admin_url: str, prefix: str = "test", template: str = _TEMPLATE) -> str:
    """A new migrated database, a copy of the template; its URL. FILE_COPY copies the files (~0.1 s here), where
    PostgreSQL 15's default WAL_LOG writes every page through the WAL (~0.25 s)."""
    name = f"{prefix}_{os.getpid()}_{next(_NUMBERS)}"
    pgcluster.admin_execute(admin_url, f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
    return pgcluster.database_url(admin_url, name)


def drop(url: str) -> None:
    """Drop the database at `url`, ending its connections."""
    admin_url, name = url.rsplit("/", 1)
    pgcluster.admin_execute(admin_url + "/postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def fresh_pg_database(admin_url: str) -> Iterator[str]:
    """A new migrated database (a copy of the template); dropped afterwards, its connections ended."""
    url = copy_of_template(admin_url)
    try:
        yield url
    finally:
        drop(url)


NewOpsdashDb = Callable[[Path], str]


@pytest.fixture(scope="session")
def new_opsdash_db(on_postgres: bool, request: pytest.FixtureRequest) -> NewOpsdashDb:
    """What a test gives OPSDASH_DB (a process it starts: the CLI, `opsdash demo`/`serve`, a worker): the SQLite
    file `path`, or with --db=postgresql a new migrated PostgreSQL database's URL (`path` unused; the database
    goes with the session's cluster). Read it back with `store.db.connect`, which takes either."""
    if not on_postgres:
        return str
    admin_url = request.getfixturevalue("pg_template")
    return lambda _path: copy_of_template(admin_url, "cli")


_NEW_DB: list[NewOpsdashDb] = [str]  # the session's `new_opsdash_db`, for helpers that are not fixtures


def suite_database(path: Path) -> str:
    """What `new_opsdash_db` gives (a file at `path`, or a new PostgreSQL database), for a helper function."""
    return _NEW_DB[0](path)


@pytest.fixture(scope="session", autouse=True)
def suite_databases(new_opsdash_db: NewOpsdashDb) -> None:
    _NEW_DB[0] = new_opsdash_db


class _UnusedDefault:
    """With --db=postgresql, every test's default OPSDASH_DB: a fresh migrated database, handed to the next test
    again while nobody connected to it (the server logs every connection, `database=NAME`): most tests never
    open it, and a copy per test would add ~0.1 s to each of them."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url, self.url, self.read = admin_url, "", 0

    def take(self) -> str:
        if not self.url or self._connected_since():
            if self.url:
                drop(self.url)
            self.url = copy_of_template(self.admin_url, "default")
            self._connected_since()  # the log up to now holds no connection to the new database
        return self.url

    def _connected_since(self) -> bool:
        """Whether the log written since the last look names a connection to `url` (whole lines only)."""
        with pgcluster.log_path(self.admin_url).open("rb") as log:
            log.seek(self.read)
            text = log.read()
        text = text[:text.rfind(b"\n") + 1]
        self.read += len(text)
        name = self.url.rsplit("/", 1)[1].encode()
        return re.search(rb"database=" + re.escape(name) + rb"(?![\w])", text) is not None


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh migrated PostgreSQL database for this test, whatever --db says (the PostgreSQL-only tests)."""
    with fresh_pg_database(pg_template) as url:
        yield url

StartSandbox = Callable[..., SandboxConfig]
_DEFAULT_DBS = itertools.count()


# Browser test files that start a demo of their own (a module fixture `demo`): a unit each. The other browser
# tests share the session's demo, in file order (the tour reads what the action tests left): one unit.
OWN_DEMO = ("tests/e2e/test_five_questions.py",)
# Files that take the longest, started first under pytest-xdist (the README's suite command; see
# pytest_collection_modifyitems), measured with --durations on 2 cores: the browser tests (file order kept: the
# shared demo's unit ~6 min, then the five questions' ~5 min); each worker starts with two units.
LONGEST_FIRST = ("tests/e2e/", "tests/sandbox/test_living.py", "tests/test_benches.py", "tests/test_install.py",
                 "tests/reliability/test_crashes.py", "tests/reliability/test_upload_crashes.py",
                 "tests/sync/test_sync_sandbox.py")


def _unit(nodeid: str) -> str:
    """A file's tests run in one worker (its module fixtures are built once); the browser tests on the session's
    demo all in one."""
    path = nodeid.split("::", 1)[0]
    return "tests/e2e/" if path.startswith("tests/e2e/") and path not in OWN_DEMO else path


def _rank(nodeid: str) -> int:
    return next((i for i, prefix in enumerate(LONGEST_FIRST) if nodeid.startswith(prefix)), len(LONGEST_FIRST))


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With `-n` and `--dist loadfile` (pyproject.toml's addopts): xdist's file scheduler, the e2e folder one unit.
    (Not `--dist loadgroup` with marks: xdist 3.8 renames test ids for it in a way pytest 9.2 ignores.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FilesAndTheBrowserTests(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    return FilesAndTheBrowserTests(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker (every one sorts the same way) the longest files first, each file's own order kept;
    with --no-loadscope-reorder the scheduler hands the units out in this order. A run without `-n` keeps its
    order. With --db=postgresql, the tests marked sqlite_only are skipped (`_skip_sqlite_only`)."""
    _skip_sqlite_only(config, items)
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: _rank(item.nodeid))


class DefaultDb:
    """The session's default OPSDASH_DB, and each test's own (a file, or with --db=postgresql a database)."""

    def __init__(self, folder: Path, unused: _UnusedDefault | None) -> None:
        self.folder, self.unused = folder, unused
        self.session = unused.take() if unused else str(folder / "session.db")
        if unused:
            unused.url = ""  # the session's database is not handed out again

    def for_a_test(self) -> str:
        return self.unused.take() if self.unused else str(self.folder / f"test-{next(_DEFAULT_DBS)}.db")


@pytest.fixture(scope="session", autouse=True)
def default_db(tmp_path_factory: pytest.TempPathFactory, on_postgres: bool,
               request: pytest.FixtureRequest) -> Iterator[DefaultDb]:
    """Settings made without OPSDASH_DB fall back to `opsdash.db` in the working directory (the checkout, where
    the CLI's subprocesses run). For the session's and the modules' fixtures, which start before any test's:
    a file in the session's temporary folder instead, or with --db=postgresql a database of the session's
    cluster (each test gets its own below)."""
    unused = _UnusedDefault(request.getfixturevalue("pg_template")) if on_postgres else None
    default = DefaultDb(tmp_path_factory.mktemp("default-db"), unused)
    with pytest.MonkeyPatch.context() as patch:
        if "OPSDASH_DB" not in os.environ:
            patch.setenv("OPSDASH_DB", default.session)
        yield default


@pytest.fixture(autouse=True)
def no_database_in_the_working_directory(default_db: DefaultDb, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test that sets no OPSDASH_DB of its own gets a database of its own (a file with its Qargo token
    lock beside it, or a PostgreSQL database), so tests neither share a cache, a token or a rate-limit bucket
    through the checkout nor collide when run in parallel. Tests that set OPSDASH_DB (or pass `opsdash_db`)
    are unaffected."""
    if os.environ.get("OPSDASH_DB") == default_db.session:
        monkeypatch.setenv("OPSDASH_DB", default_db.for_a_test())


@pytest.fixture
def start_sandbox() -> Iterator[StartSandbox]:
    """Start sandboxes with any SandboxConfig fields; all stop at teardown.

    `start_sandbox()` has the vendors' documented limits; pass `limits=Limits.relaxed()` for
    tests of other behaviour."""
    with contextlib.ExitStack() as stack:

        def start(**kwargs: Any) -> SandboxConfig:
            return stack.enter_context(running(SandboxConfig(**kwargs)))

        yield start


@pytest.fixture(scope="module")
def relaxed_sandbox() -> Iterator[SandboxConfig]:
    """One sandbox per test module with the rate limits lifted (seed 1, small)."""
    with running(SandboxConfig(limits=Limits.relaxed())) as config:
        yield config


@pytest.fixture
def admin(relaxed_sandbox: SandboxConfig) -> Iterator[httpx.Client]:
    """A client on the relaxed sandbox's admin routes; clears faults and stats after the test."""
    with httpx.Client(base_url=relaxed_sandbox.base_url, timeout=10) as client:
        yield client
        client.delete("/_admin/faults")
        client.post("/_admin/stats/reset")


NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def db_path(tmp_path: Path, request: pytest.FixtureRequest, on_postgres: bool) -> Iterator[Path | str]:
    """A migrated database: a SQLite file, or with --db=postgresql a fresh PostgreSQL database's URL."""
    if on_postgres:
        with fresh_pg_database(request.getfixturevalue("pg_template")) as url:
            yield url
        return
    path = tmp_path / "cache.db"
    db = connect(path)
    migrate(db)
    db.close()
    yield path


@pytest.fixture
def db(db_path: Path | str) -> Iterator[Database]:
    conn = connect(db_path)
    yield conn
    conn.close()


_SYNCED = "opsdash_synced"


@pytest.fixture(scope="session")
def synced_template(tmp_path_factory: pytest.TempPathFactory, on_postgres: bool,
                    request: pytest.FixtureRequest) -> Iterator[SyncedTemplate]:
    """The sandbox's data synced once per session into a file tests copy (tests/synced_data.py); with
    --db=postgresql also into a PostgreSQL database, from the same sandbox at the same clock, that
    `SyncedTemplate.suite_copy` copies (`CREATE DATABASE ... TEMPLATE`)."""
    path = tmp_path_factory.mktemp("synced") / "template.db"
    admin_url = request.getfixturevalue("pg_template") if on_postgres else ""
    with pytest.MonkeyPatch.context() as patch, running(SandboxConfig(limits=Limits.relaxed())) as sandbox:
        patch.setenv("OPSDASH_TIMEZONE", "UTC")
        get_settings.cache_clear()
        try:
            template = build(path, sandbox, datetime.now(UTC))
            if on_postgres:
                pgcluster.admin_execute(admin_url, f"CREATE DATABASE {_SYNCED} TEMPLATE {_TEMPLATE} STRATEGY FILE_COPY")
                sync_into(pgcluster.database_url(admin_url, _SYNCED), sandbox, template.now)
        finally:
            get_settings.cache_clear()
    if on_postgres:
        # a connection a client kept (rate limits, the token) would stop the copies: the template is done with
        pgcluster.admin_execute(admin_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                           f"WHERE datname = '{_SYNCED}'")
        template = dataclasses.replace(template, pg_copy=lambda: copy_of_template(admin_url, "synced", _SYNCED))
    yield template
