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

The rest of `.streamlit/config.toml` (theme, upload limit) is read by Streamlit only from the working
directory, so an installed copy run elsewhere would lose it: the package carries it as
`ui/streamlit-config.toml` (in the repository a symlink to `.streamlit/config.toml`, one file) and
`streamlit_env` passes it as `STREAMLIT_*` variables, unless the working directory has a
`.streamlit/config.toml` of its own (a team's file wins, as in Streamlit). Everything is found relative
to this module, never the working directory, which stays the caller's (opsdash.toml, secrets.toml).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlparse

from services.core.postgres import is_url
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
    # A page's exception reaches the browser as a generic message, never a stack trace with our paths,
    # SQL or a vendor's reply (issue 22); the server log keeps the traceback.
    "--client.showErrorDetails", "none",
)


STREAMLIT_CONFIG = ROOT / "ui" / "streamlit-config.toml"
# Streamlit options that take several values: as a variable, separated by spaces (click's `multiple`)
_MULTIPLE = frozenset({"server.folderWatchBlacklist"})


class UnusableConfiguration(Exception):
    """The settings cannot run a team's dashboard; `problems` says what to set."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def problems(settings: Settings) -> list[str]:
    """Every reason the configuration is unusable, each naming the setting to fix (empty: usable)."""
    found = [*_vendor_problems(settings), *_webhook_problems(settings)]
    if is_url(settings.opsdash_db):  # PostgreSQL: no folder of ours (reached or not at start, store/db.py)
        return found
    parent = Path(settings.opsdash_db).expanduser().resolve().parent
    if not _creatable(parent):
        found.append(f"OPSDASH_DB: cannot create or write the folder {parent}")
    return found


def database_target(settings: Settings) -> str:
    """OPSDASH_DB as the server gets it: a `postgresql://` URL unchanged, a file as an absolute path (the
    working directory may differ). A URL taken as a path became an empty SQLite file under the working directory,
    so every page of a PostgreSQL team's dashboard showed zeros (bench_cluster figure 7)."""
    if is_url(settings.opsdash_db):
        return str(settings.opsdash_db)
    return str(Path(settings.opsdash_db).expanduser().resolve())


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


def streamlit_env(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Our Streamlit config as `STREAMLIT_*` variables, for a working directory without its own
    `.streamlit/config.toml`; a variable already set is left alone."""
    cwd = Path.cwd() if cwd is None else cwd
    environ = os.environ if environ is None else environ
    if (cwd / ".streamlit" / "config.toml").is_file():
        return {}
    options = dict(_options(tomllib.loads(STREAMLIT_CONFIG.read_text(encoding="utf-8"))))
    variables = {streamlit_variable(key): _option_text(key, value) for key, value in options.items()}
    return {name: value for name, value in variables.items() if name not in environ}


def streamlit_variable(key: str) -> str:
    """`theme.light.primaryColor` -> `STREAMLIT_THEME_LIGHT_PRIMARY_COLOR` (Streamlit's ConfigOption.env_var)."""
    name = key.replace(".", "_")
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return "STREAMLIT_" + re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).upper()


def _options(table: Mapping[str, object], prefix: str = "") -> Iterator[tuple[str, object]]:
    for name, value in table.items():
        if isinstance(value, dict):
            yield from _options(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value


def _option_text(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):  # a list option (e.g. chart colours) is read as JSON by Streamlit
        return " ".join(map(str, value)) if key in _MULTIPLE else json.dumps(value)
    return str(value)


def serve(settings: Settings, host: str, port: int) -> None:
    """Check the configuration, then replace this process with Streamlit (signals from a service
    manager reach the server directly). Raises `UnusableConfiguration` without starting anything."""
    found = problems(settings)
    if found:
        raise UnusableConfiguration(found)
    env = {**os.environ, **streamlit_env(), "OPSDASH_DB": database_target(settings)}
    if not is_url(env["OPSDASH_DB"]):
        Path(env["OPSDASH_DB"]).parent.mkdir(parents=True, exist_ok=True)
    command = streamlit_command(host, port)
    os.execve(command[0], command, env)
