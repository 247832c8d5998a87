"""A throwaway PostgreSQL cluster for the tests (issue 20): Debian's postgresql binaries (the newest installed under
/usr/lib/postgresql, or OPSDASH_PG_BIN), a data directory under a
temp dir, TCP on 127.0.0.1 at a free port, trust authentication, byte-order collation (`--locale=C`, as SQLite
compares text). Durability is off (fsync, synchronous_commit): it is thrown away at the end.

`initdb` refuses to run as root: as root, the cluster is made and run as the `postgres` user (`runuser`), in a
directory that user owns. `python -m tests.pgcluster` starts one and prints its URL until interrupted.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _newest_bin() -> Path:
    """OPSDASH_PG_BIN, else the newest Debian PostgreSQL installed (15 or newer: issue 20)."""
    if os.environ.get("OPSDASH_PG_BIN"):
        return Path(os.environ["OPSDASH_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]) if
                   p.parts[-3].isdigit() else 0)
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


BIN = _newest_bin()
START_TIMEOUT_S = 30


def available() -> bool:
    return (BIN / "initdb").exists() and (BIN / "pg_ctl").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(root: Path) -> list[str]:
    """The command prefix that runs a PostgreSQL binary as a non-root user owning `root`."""
    if os.geteuid() != 0:
        return []
    shutil.chown(root, "postgres", "postgres")
    return ["runuser", "-u", "postgres", "--"]


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")


@contextmanager
def cluster() -> Iterator[str]:
    """A running cluster; yields the superuser URL of its `postgres` database. Stopped and removed on exit."""
    if not available():
        raise RuntimeError(f"PostgreSQL binaries not found in {BIN} (apt-get install postgresql, or set OPSDASH_PG_BIN)")
    root = Path(tempfile.mkdtemp(prefix="opsdash-pg-"))
    data, port, url = root / "data", _free_port(), ""
    prefix = _as_owner(root)
    try:
        _run([*prefix, str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--locale=C",
              "--encoding=UTF8", "--no-sync"])
        # log_connections: a test can tell from the log whether anyone connected to a database (tests/conftest.py)
        options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200 -c log_connections=on")
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        _LOGS[url] = root / "log"
        _RUNNING[url] = [*prefix, str(BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
                         "-w", "-t", str(START_TIMEOUT_S)]
        start(url)
        yield url
    finally:
        _RUNNING.pop(url, None)
        _LOGS.pop(url, None)
        if (data / "postmaster.pid").exists():
            subprocess.run([*prefix, str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                           check=False, capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


_RUNNING: dict[str, list[str]] = {}  # superuser URL -> the pg_ctl command line of its cluster, without the action
_LOGS: dict[str, Path] = {}  # superuser URL -> its server log


def log_path(url: str) -> Path:
    """The server log of the cluster `cluster()` made for `url` (connections are logged: `database=NAME`)."""
    return _LOGS[url]


def start(url: str) -> None:
    """Start (again) the cluster `cluster()` made for `url`, and wait until it answers."""
    _run([*_RUNNING[url], "start"])
    _wait_ready(url)


def stop(url: str) -> None:
    """Stop it as a restart does (`-m fast`: clients are cut off at once; committed work is kept, which an
    immediate stop would not promise here, with fsync and synchronous_commit off)."""
    _run([*_RUNNING[url], "-m", "fast", "stop"])


def _wait_ready(url: str) -> None:
    """Poll until a connection succeeds, for at most START_TIMEOUT_S (pg_ctl -w already waited)."""
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def admin_execute(url: str, sql: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE cannot run in one)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def database_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + name


def migrated_database(admin_url: str, name: str) -> str:
    """A new database `name` in the cluster, migrated to today's schema; its URL."""
    from store.db import connect
    from store.schema import migrate

    admin_execute(admin_url, f"CREATE DATABASE {name}")
    url = database_url(admin_url, name)
    db = connect(url)
    try:
        migrate(db)
    finally:
        db.close()
    return url


if __name__ == "__main__":
    with cluster() as found:
        print(found, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
