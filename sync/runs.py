"""The `sync_runs` life of one run: started with a holder and a lease, renewed per page, ended or interrupted.

A run row says who runs it (`holder`, "host:pid"), until when the holder promised to report again
(`lease_until`, renewed with every page) and when it last did (`heartbeat_at`), with the pages and
rows done so far. A process killed mid-run leaves its row `running`; the next start of the same
resource marks it `interrupted` (when it was noticed, and what was done) when its holder is a dead
process on this host or its lease has run out, so the freshness badge never shows a run that
nobody runs. Resuming from the checkpoint is the engine's part (sync/engine.py).
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlite_utils import Database

from store.db import iso, transaction

RUN_LEASE = timedelta(minutes=5)  # well above the slowest page we have seen (Quaderno under latency)


def this_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def start(db: Database, vendor: str, resource: str, now: datetime, lease: timedelta = RUN_LEASE) -> int:
    """Mark dead runs of this resource interrupted, then open a run held by this process."""
    with transaction(db):
        interrupt_abandoned(db, vendor, resource, now)
        run_id = db.conn.execute(
            "INSERT INTO sync_runs (vendor, resource, started_at, status, holder, lease_until, heartbeat_at) "
            "VALUES (?, ?, ?, 'running', ?, ?, ?)",
            [vendor, resource, iso(now), this_holder(), iso(now + lease), iso(now)]).lastrowid
    assert run_id is not None
    return run_id


def renew(db: Database, run_id: int, pages: int, inserted: int, updated: int, now: datetime,
          lease: timedelta = RUN_LEASE) -> None:
    """Record what is done so far and extend the lease (called per page, inside its write)."""
    db.conn.execute(
        "UPDATE sync_runs SET pages = ?, inserted = ?, updated = ?, lease_until = ?, heartbeat_at = ? "
        "WHERE run_id = ? AND status = 'running'", [pages, inserted, updated, iso(now + lease), iso(now), run_id])


def interrupt(db: Database, run_id: int, reason: str, now: datetime) -> None:
    """End a run that could not finish (its process is stopping, or its job was taken over)."""
    with transaction(db):
        db.conn.execute(
            "UPDATE sync_runs SET status = 'interrupted', finished_at = ?, lease_until = NULL, "
            "error = ? || ': stopped after ' || pages || ' pages (+' || inserted || ' new, ' || updated || "
            "' updated, all kept); the next run resumes from the last complete page' "
            "WHERE run_id = ? AND status = 'running'", [iso(now), reason, run_id])


def interrupt_abandoned(db: Database, vendor: str | None, resource: str | None, now: datetime) -> int:
    """Mark `running` rows (of one resource, or all with None) whose holder is gone as interrupted."""
    rows = db.conn.execute(
        "SELECT run_id, holder, lease_until FROM sync_runs WHERE status = 'running' "
        "AND (? IS NULL OR vendor = ?) AND (? IS NULL OR resource = ?)",
        [vendor, vendor, resource, resource]).fetchall()
    dead = [run_id for run_id, holder, lease_until in rows if _abandoned(holder, lease_until, now)]
    for run_id in dead:
        db.conn.execute(
            "UPDATE sync_runs SET status = 'interrupted', finished_at = ?, lease_until = NULL, "
            "error = 'interrupted: the process running it (' || coalesce(holder, 'unknown') || ') stopped after ' "
            "|| pages || ' pages (+' || inserted || ' new, ' || updated || ' updated, all kept), last seen ' || "
            "coalesce(heartbeat_at, started_at) || '; noticed at the next start, which resumed from the last "
            "complete page' WHERE run_id = ?", [iso(now), run_id])
    return len(dead)


def sweep(db: Database, now: datetime) -> int:
    """Mark every abandoned run interrupted (the worker's scheduler calls this, so the freshness badge says
    so soon after a crash, not only when that resource runs again)."""
    with transaction(db):
        return interrupt_abandoned(db, None, None, now)


def _abandoned(holder: str | None, lease_until: str | None, now: datetime) -> bool:
    if lease_until is None or lease_until < iso(now):
        return True
    return gone_here(holder)


def gone_here(holder: str | None) -> bool:
    """True when `holder` ("host:pid", or "host:pid:more" like a job's worker id) names a process on this
    host that no longer exists. Another machine's holder (or our own process) is never called gone: only
    its lease can tell. The one rule for sync runs and jobs (jobs/jobs.py `recover_stale`)."""
    host, _, rest = (holder or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    return not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
