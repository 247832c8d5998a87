"""How fresh is each cached resource? Read from `sync_runs` (and, for Upwell, `webhook_events`).

States, in the order they are decided:
- `not configured`: the vendor has no base URL (or, for Upwell, no webhook credentials) — shown
  as such, never as an error (ARCHITECTURE.md, "Settings");
- `never synced`: no run has finished yet;
- `failing`: the latest finished run failed;
- `interrupted`: the latest run stopped before its end (its process was killed or lost its job);
- `stale`: the last successful run is older than the resource's threshold;
- `ok`.

`SOURCES` is also the list of (vendor, resource) names the sync engine records in `sync_runs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from services.settings import Settings, Vendor
from store.datasets import get_dataset


@dataclass(frozen=True)
class SourceSpec:
    vendor: Vendor
    resource: str
    label: str
    stale_after: timedelta | None  # None: pushed to us, so silence is not staleness
    pushed: bool = False


def _spec(vendor: Vendor, resource: str, label: str, minutes: int | None, pushed: bool = False) -> SourceSpec:
    return SourceSpec(vendor, resource, label, None if minutes is None else timedelta(minutes=minutes), pushed)


SOURCES: tuple[SourceSpec, ...] = (
    _spec("qargo", "orders", "Qargo orders", 15),
    _spec("qargo", "charges", "Qargo charges", 60),
    _spec("qargo", "documents", "Qargo documents", 60),
    _spec("qargo", "resources", "Qargo resources", 60),
    _spec("qargo", "unavailabilities", "Qargo unavailabilities", 60),
    _spec("qargo", "sync_tasks", "Qargo accounting sync tasks", 60),
    _spec("quaderno", "invoices", "Quaderno invoices", 60),
    _spec("quaderno", "open_invoices", "Quaderno open invoices (re-read by state)", 30),
    _spec("quaderno", "credits", "Quaderno credit notes", 60),
    _spec("quaderno", "contacts", "Quaderno contacts", 24 * 60),
    _spec("qasida", "stock_cards", "Qasida stock levels", 30),
    _spec("qasida", "warehouses", "Qasida warehouses", 24 * 60),
    _spec("qasida", "products", "Qasida products", 24 * 60),
    _spec("qasida", "customers", "Qasida customers", 24 * 60),
    _spec("qasida", "customer_orders", "Qasida customer orders", 30),
    _spec("qasida", "not_fulfilled_orders", "Qasida customer orders not fulfilled (ERP lateness)", 30),
    _spec("qasida", "claims", "Qasida claims", 6 * 60),
    _spec("qasida", "liabilities", "Qasida liabilities", 6 * 60),
    # Cargobase drops finished invoices after 24 h: a sync must run well within that window.
    _spec("cargobase", "invoices", "Cargobase invoices", 60),
    _spec("upwell", "carrier_invoices", "Upwell carrier invoices", None, pushed=True),
)
_BY_KEY: dict[tuple[str, str], SourceSpec] = {(s.vendor, s.resource): s for s in SOURCES}


@dataclass(frozen=True)
class Freshness:
    vendor: str
    resource: str
    label: str
    state: str
    last_success_at: str | None
    last_error: str | None
    age: timedelta | None
    sentence: str


def freshness(db: Database, now: datetime, settings: Settings | None = None) -> list[Freshness]:
    """Every known source; without `settings` nothing is reported as not configured."""
    return [source_freshness(db, spec, now, settings) for spec in SOURCES]


def dataset_freshness(
    db: Database, dataset: str, now: datetime, settings: Settings | None = None,
) -> list[Freshness]:
    """Freshness of the sources behind a dataset (empty for local datasets such as jobs)."""
    return [source_freshness(db, _BY_KEY[key], now, settings) for key in get_dataset(dataset).sources]


def source_freshness(db: Database, spec: SourceSpec, now: datetime, settings: Settings | None) -> Freshness:
    if settings is not None and not settings.configured(spec.vendor):
        hint = ("set OPSDASH_WEBHOOK_USER and OPSDASH_WEBHOOK_PASSWORD" if spec.pushed
                else f"set {spec.vendor.upper()}_BASE_URL")
        return _result(spec, "not configured", None, None, None, f"not configured ({hint})")
    if spec.pushed:
        return _pushed(db, spec, now)
    success, last_status, last_error = _runs(db, spec)
    age = None if success is None else now - _parse(success)
    if last_status is None:
        return _result(spec, "never synced", None, None, None, "never synced")
    if last_status == "error":
        since = f"{_human(age)} stale" if age is not None else "never synced successfully"
        return _result(spec, "failing", success, last_error, age, f"{since}, last error: {last_error}")
    if last_status == "interrupted":  # its process died or lost its job (sync/runs.py)
        since = f"{_human(age)} stale" if age is not None else "never synced successfully"
        return _result(spec, "interrupted", success, last_error, age, f"{since}, last run {last_error}")
    assert age is not None
    if spec.stale_after is not None and age > spec.stale_after:
        text = f"{_human(age)} stale (expected every {_human(spec.stale_after)})"
        return _result(spec, "stale", success, None, age, text)
    return _result(spec, "ok", success, None, age, f"up to date, synced {_human(age)} ago")


def _runs(db: Database, spec: SourceSpec) -> tuple[str | None, str | None, str | None]:
    """(last successful finish, status of the latest finished run, its error)."""
    key = [spec.vendor, spec.resource]
    success = db.conn.execute(
        "SELECT max(finished_at) FROM sync_runs WHERE vendor = ? AND resource = ? AND status = 'ok'",
        key).fetchone()[0]
    latest = db.conn.execute(
        "SELECT status, error FROM sync_runs WHERE vendor = ? AND resource = ? AND status != 'running' "
        "ORDER BY run_id DESC LIMIT 1", key).fetchone()
    return success, *(latest or (None, None))


def _pushed(db: Database, spec: SourceSpec, now: datetime) -> Freshness:
    last = db.conn.execute(
        "SELECT max(received_at) FROM webhook_events WHERE source = ? AND outcome = 'accepted'",
        [spec.vendor]).fetchone()[0]
    if last is None:
        return _result(spec, "never synced", None, None, None, "no events received yet")
    age = now - _parse(last)
    return _result(spec, "ok", last, None, age, f"last event received {_human(age)} ago")


def _result(spec: SourceSpec, state: str, success: str | None, error: str | None,
            age: timedelta | None, text: str) -> Freshness:
    return Freshness(spec.vendor, spec.resource, spec.label, state, success, error, age, f"{spec.label}: {text}")


def _parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)  # Python 3.11 reads a trailing "Z"


def _human(age: timedelta) -> str:
    """Coarse on purpose: "3 h", "12 min", "2 d", "<1 min"."""
    seconds = max(0, int(age.total_seconds()))
    if seconds < 60:
        return "<1 min"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


# --- per vendor, for the Overview's "Is the data fresh?" ----------------------------------------------------

# A vendor reads as its worst source; a source not synced yet (a new resource, the first minutes of a start)
# does not hide the ones that are: "never synced" only when none is.
_WORST_FIRST = ("failing", "interrupted", "stale", "ok", "never synced", "not configured")


@dataclass(frozen=True)
class VendorFreshness:
    """One vendor in a few words: its worst source's state and the moment that state is told from."""

    vendor: str
    state: str  # the worst of its sources' states (_WORST_FIRST); "not configured" only when all are
    since: str | None  # failing: its first failed run after its last success; stale/interrupted: the oldest
    # last success of the sources in that state; ok: the newest success (or accepted event); else None
    sources: tuple[str, ...]  # labels of the sources in that state (every source when ok)
    pushed: bool = False  # Upwell: events pushed to us, never synced by us


def by_vendor(db: Database, now: datetime, settings: Settings | None = None) -> list[VendorFreshness]:
    """Each vendor once, in the order of `SOURCES`: "Quaderno 2 min ago", "Qasida failing since 06:10"."""
    found = freshness(db, now, settings)
    return [_vendor(db, vendor, [f for f in found if f.vendor == vendor])
            for vendor in dict.fromkeys(s.vendor for s in SOURCES)]


def _vendor(db: Database, vendor: str, sources: list[Freshness]) -> VendorFreshness:
    state = next(s for s in _WORST_FIRST if any(f.state == s for f in sources))
    worst = [f for f in sources if f.state == state]
    pushed = all(_BY_KEY[(f.vendor, f.resource)].pushed for f in sources)
    successes = [f.last_success_at for f in worst if f.last_success_at]
    if state == "failing":
        since = min((t for t in (_failing_since(db, f) for f in worst) if t), default=None)
    elif state == "ok":
        since = max(successes, default=None)
    else:
        since = min(successes, default=None)
    return VendorFreshness(vendor, state, since, tuple(f.label for f in worst), pushed)


def _failing_since(db: Database, source: Freshness) -> str | None:
    """When the source's failed runs after its last success began (its first run, when it never succeeded)."""
    first = db.conn.execute(
        "SELECT min(finished_at) FROM sync_runs WHERE vendor = ? AND resource = ? AND status = 'error' "
        "AND finished_at > ?", [source.vendor, source.resource, source.last_success_at or ""]).fetchone()[0]
    return None if first is None else str(first)
