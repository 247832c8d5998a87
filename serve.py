"""`opsdash serve`: the dashboard for a team, against the configured vendors (no sandbox).

One process: Streamlit serves the pages, the webhook routes (`app.py` mounts them) and, unless
OPSDASH_INPROCESS_WORKER is false, the sync/job worker. Before starting, `problems(settings)` checks
that the configuration can work, so a service manager shows one clear message instead of a
dashboard that silently never fills:

- at least one pull vendor configured (a base URL) with the credentials its client needs;
- webhook credentials set and non-empty: the webhook routes are always mounted, and Upwell can
  only reach us through them (an empty password would accept anyone's events);
- base URLs are http(s) URLs, and the database's folder can be created.

Production settings are passed on Streamlit's command line as well as kept in
`.streamlit/config.toml`, so they hold whatever the working directory: no file watcher (it walked
the repo's `.venv` and took half the CPU of a view), no rerun on save, no full garbage collection after
every script run, headless, no usage stats.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from services.settings import Settings

ROOT = Path(__file__).resolve().parent
PULL_VENDORS = ("qargo", "quaderno", "qasida", "cargobase")

PRODUCTION_FLAGS = (
    "--server.headless", "true",
    "--server.fileWatcherType", "none",
    "--server.runOnSave", "false",
    # A full garbage collection after every script run cost ~80 ms of CPU per view with the cached
    # summaries in memory (bench_concurrency); Python's own generational collector still runs.
    "--runner.postScriptGC", "false",
    "--browser.gatherUsageStats", "false",
)


class UnusableConfiguration(Exception):
    """The settings cannot run a team's dashboard; `problems` says what to set."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def problems(settings: Settings) -> list[str]:
    """Every reason the configuration is unusable, each naming the setting to fix (empty: usable)."""
    found = [*_vendor_problems(settings), *_webhook_problems(settings)]
    parent = Path(settings.opsdash_db).expanduser().resolve().parent
    if not _creatable(parent):
        found.append(f"OPSDASH_DB: cannot create or write the folder {parent}")
    return found


def _vendor_problems(settings: Settings) -> list[str]:
    from services.clients import make_client
    from services.configured import NotConfigured

    configured = [v for v in PULL_VENDORS if settings.configured(v)]  # type: ignore[arg-type]
    if not configured:
        return [("no vendor configured: set at least one of QARGO_BASE_URL, QUADERNO_BASE_URL, "
                 "QASIDA_BASE_URL, CARGOBASE_BASE_URL (with its credentials)")]
    found = []
    for vendor in configured:
        url = getattr(settings, f"{vendor}_base_url") or ""
        if urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
            found.append(f"{vendor.upper()}_BASE_URL is not an http(s) URL")
            continue
        try:
            make_client(settings, vendor).close()
        except NotConfigured as exc:
            found.append(f"{vendor} is configured (base URL set) but {exc.setting} is missing or empty")
    return found


def _webhook_problems(settings: Settings) -> list[str]:
    found = []
    if not (settings.opsdash_webhook_user or "").strip():
        found.append("OPSDASH_WEBHOOK_USER is missing or empty: the webhook routes need Basic auth")
    password = settings.opsdash_webhook_password
    if password is None or not password.get_secret_value().strip():
        found.append("OPSDASH_WEBHOOK_PASSWORD is missing or empty: the webhook routes need Basic auth")
    return found


def _creatable(folder: Path) -> bool:
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    return existing is not None and existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)


def streamlit_command(host: str, port: int) -> list[str]:
    """The Streamlit command line `opsdash serve` runs (production flags included)."""
    return [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
            "--server.address", host, "--server.port", str(port), *PRODUCTION_FLAGS]


def serve(settings: Settings, host: str, port: int) -> None:
    """Check the configuration, then replace this process with Streamlit (signals from a service
    manager reach the server directly). Raises `UnusableConfiguration` without starting anything."""
    found = problems(settings)
    if found:
        raise UnusableConfiguration(found)
    env = {**os.environ, "OPSDASH_DB": str(Path(settings.opsdash_db).expanduser().resolve())}
    Path(env["OPSDASH_DB"]).parent.mkdir(parents=True, exist_ok=True)
    command = streamlit_command(host, port)
    os.execve(command[0], command, env)
