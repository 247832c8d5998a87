"""`opsdash demo`: the sandbox and the dashboard started together, one Ctrl-C stops both. It sets up the demo's
world before they start (the database's place, the sandbox's saved world beside it, the example alert rules and
reorder levels), then supervises both processes until either ends or a signal comes. cli.py parses the command
line and calls `cmd_demo`."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _install_example_alerts(path: str) -> None:
    """The demo's example alert rules (alerts/rules.py EXAMPLES), unless the database has rules already."""
    from alerts.rules import install_examples
    from store.schema import session

    with session(path) as db:
        install_examples(db)


def _install_demo_reorder_levels(path: str, args: argparse.Namespace) -> None:
    """The demo's planning sheet: each sandbox product's reorder level for every warehouse, imported the way
    `opsdash reorder-levels import` does (audited, actor "demo"), unless the database has levels already (a
    resumed demo keeps what staff edited). Qasida keeps no reorder level (seeds/003 has none): a real team
    imports its own sheet, so these are opsdash's own data, like the example alert rules."""
    from actions.reorder import import_levels
    from actions.roles import Actor
    from sandbox.world import World
    from store.schema import session

    with session(path) as db:
        if db.execute("SELECT 1 FROM reorder_levels LIMIT 1").fetchone():
            return
        world = World(seed=args.seed, scale=args.scale, factor=args.factor)
        sheet = "product_code,warehouse,reorder_level\n" + "".join(
            f"{p.sku},,{p.reorder_threshold}\n" for p in world.products)
        import_levels(db, Actor("demo", "operator"), sheet.encode(), source="the demo's planning sheet")


def demo_database() -> Path:
    """The demo's database when OPSDASH_DB is unset: a per-user data folder, never inside the installed
    package ($XDG_DATA_HOME/opsdash/demo.db, by default ~/.local/share/opsdash/demo.db)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "opsdash" / "demo.db"


class DemoRefused(Exception):
    """`opsdash demo` cannot do what was asked (the message says what to do instead)."""


def _demo_world_on_postgres(url: str, fresh: bool) -> Path:
    """A PostgreSQL demo database has no folder: its saved world is in the per-user data folder, named after the
    server and database. `--fresh` is refused: opsdash never empties a PostgreSQL database (it may be shared)."""
    from psycopg.conninfo import conninfo_to_dict

    if fresh:
        raise DemoRefused("opsdash demo: --fresh: OPSDASH_DB is a PostgreSQL database, which opsdash does not empty; "
                          "drop and create it (dropdb, createdb), then start the demo without --fresh")
    parts = conninfo_to_dict(url)
    name = "-".join(str(parts.get(k) or "") for k in ("host", "port", "dbname"))
    return demo_database().parent / f"postgresql-{name.replace('/', '_')}.sandbox.json"


def _demo_world(db: Path, fresh: bool) -> Path:
    """The sandbox's saved world beside the demo database (sandbox/living.py). `--fresh` removes both, so the
    demo starts a new world; otherwise the sandbox resumes the saved one and the database stays true to it."""
    state = db.with_name(db.name + ".sandbox.json")
    if fresh:
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), state):
            path.unlink(missing_ok=True)
        print(f"opsdash demo: --fresh: removed {db} and its saved sandbox world", flush=True)
    elif db.exists() and not state.exists():  # a database from before worlds were saved: it cannot be resumed
        print(f"opsdash demo: {db} has no saved sandbox world beside it; its figures may not match the new "
              "world (start with --fresh for a clean demo)", file=sys.stderr, flush=True)
    return state


def _demo_target(value: str) -> str:
    """OPSDASH_DB as the demo's processes get it: a PostgreSQL URL as it is, a file path absolute."""
    from services.core.postgres import is_url

    return value if is_url(value) else str(Path(value).expanduser().resolve())


def _demo_state(target: str, fresh: bool) -> Path:
    """Where the sandbox's world is saved (and, for a file, its folder made)."""
    from services.core.postgres import is_url

    if is_url(target):
        state = _demo_world_on_postgres(target, fresh)
        state.parent.mkdir(parents=True, exist_ok=True)
        return state
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    return _demo_world(Path(target), fresh)


def cmd_demo(args: argparse.Namespace) -> int:
    """Sandbox + dashboard (with its webhook receiver and worker), one Ctrl-C stops both."""
    from sandbox.server import free_port
    from serve import streamlit_command, streamlit_env

    sandbox_port = args.sandbox_port or free_port()
    dashboard = f"http://127.0.0.1:{args.port}"
    env = {
        **os.environ,
        # fresh webhook credentials for this run, shared by sender and receiver through the environment only
        "OPSDASH_WEBHOOK_USER": "demo",
        "OPSDASH_WEBHOOK_PASSWORD": secrets.token_urlsafe(24),
        "OPSDASH_DB": _demo_target(os.environ.get("OPSDASH_DB") or str(demo_database())),
    }
    try:
        state = _demo_state(env["OPSDASH_DB"], args.fresh)
    except DemoRefused as refused:
        print(refused, file=sys.stderr, flush=True)
        return 2
    _install_example_alerts(env["OPSDASH_DB"])  # two rules that fire on the demo data; channels stay off
    _install_demo_reorder_levels(env["OPSDASH_DB"], args)
    sandbox_cmd = [sys.executable, "-m", "cli", "sandbox", "--port", str(sandbox_port), "--seed", str(args.seed),
                   "--scale", args.scale, "--factor", str(args.factor), "--tick-seconds", "5",
                   "--living", "--state", str(state),
                   "--qargo-webhook-url", f"{dashboard}/webhooks/qargo",
                   "--upwell-webhook-url", f"{dashboard}/webhooks/upwell"]
    env_lines = subprocess.run([*sandbox_cmd, "--print-env"], env=env, cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout
    env.update(line.partition("=")[::2] for line in env_lines.splitlines() if "=" in line)
    # the sandbox runs from beside this module (`-m cli`, also installed); the dashboard from the caller's
    # folder (its opsdash.toml, .streamlit/), finding app.py beside this module (serve.streamlit_command)
    procs = [subprocess.Popen(sandbox_cmd, env=env, cwd=ROOT, start_new_session=True),
             subprocess.Popen(streamlit_command("127.0.0.1", args.port), env={**env, **streamlit_env()},
                              start_new_session=True)]
    from actions.move_store import redact  # a PostgreSQL URL's password is not printed

    print(f"opsdash demo: dashboard on {dashboard} (sandbox on 127.0.0.1:{sandbox_port}, database "
          f"{redact(env['OPSDASH_DB'])}); Ctrl-C stops both", flush=True)
    return _supervise(procs)


def _supervise(procs: list[subprocess.Popen[bytes]]) -> int:
    stop = {"now": False}

    def on_signal(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    while not stop["now"]:
        ended = [p for p in procs if p.poll() is not None]
        if ended:
            code = ended[0].returncode or 1
            name = ended[0].args[3] if isinstance(ended[0].args, list) else ended[0].args
            print(f"opsdash demo: a process exited ({name!s}, code {ended[0].returncode}); stopping",
                  file=sys.stderr)
            break
        time.sleep(0.2)
    _terminate(procs)
    return code


def _terminate(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
