"""The `opsdash` command: a thin skin over the library. `opsdash COMMAND --help` tells more; the README's
"Command line" section lists every command."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
Handler = Callable[[argparse.Namespace], int]
VENDOR_NAMES = ("qargo", "quaderno", "qasida", "cargobase", "upwell")


def _sandbox_config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from sandbox.context import Limits, SandboxConfig, WebhookTarget

    user, password = os.environ.get("OPSDASH_WEBHOOK_USER"), os.environ.get("OPSDASH_WEBHOOK_PASSWORD")
    return SandboxConfig(
        seed=args.seed, scale=args.scale, factor=args.factor, host=args.host, port=args.port,
        limits=Limits.relaxed() if args.relax_limits else Limits(),
        qargo_webhook=WebhookTarget(args.qargo_webhook_url, user, password),
        upwell_webhook=WebhookTarget(args.upwell_webhook_url, user, password),
        tick_seconds=args.tick_seconds, living=args.living, state_path=args.state,
    )


def cmd_sandbox(args: argparse.Namespace) -> int:
    from sandbox.server import client_env, serve

    config = _sandbox_config(args)
    if args.print_env:
        for name, value in client_env(config).items():
            print(f"{name}={value}")
        return 0
    print(f"opsdash sandbox: seed {config.seed}, scale {config.scale}, on {config.base_url}", flush=True)
    serve(config)
    return 0


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


def cmd_sync(args: argparse.Namespace) -> int:
    """One sync pass over the named vendors (all configured pull vendors by default)."""
    from figures import page_summaries, stored  # page_summaries registers the pages' figures
    from jobs.worker import declared_resources
    from services.clients import PULL_VENDORS, make_clients
    from services.core.retry import tell_waits
    from services.settings import get_settings
    from store.schema import open_store
    from sync.engine import run_all

    unknown = [v for v in args.vendors if v not in VENDOR_NAMES]
    if unknown:
        print(f"unknown vendor: {', '.join(unknown)} (known: {' '.join(VENDOR_NAMES)})", file=sys.stderr)
        return 2
    settings = get_settings()
    wanted = args.vendors or [v for v in PULL_VENDORS if settings.configured(v)]  # type: ignore[arg-type]
    if "upwell" in wanted:
        print("upwell: pushes carrier invoices to POST /webhooks/upwell; nothing to pull")
        wanted = [v for v in wanted if v != "upwell"]
    missing = [v for v in wanted if not settings.configured(v)]  # type: ignore[arg-type]
    if missing:
        print(f"not configured: {', '.join(missing)} (set {missing[0].upper()}_BASE_URL)", file=sys.stderr)
        return 2
    db = open_store(settings)
    clients = make_clients(settings, wanted)
    tell_waits(lambda text: print(text, file=sys.stderr, flush=True))  # a long Retry-After is said, not silent
    try:
        results = run_all(db, clients, declared_resources(db, wanted))
        # as the worker does, for every figure read within the day: the next viewer reads them stored
        stored.refresh(db, stored.business_today(), read_within=stored.READ_WITHIN)
        page_summaries.prime_default_views(db)  # nobody read a figure lately: the first view reads stored ones
    finally:
        for client in clients.values():
            client.close()
        db.close()
    for result in results:
        print(result.summary())
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} of {len(results)} resources synced" + (", some FAILED" if failed else ""))
    return 1 if failed else 0


def cmd_worker(args: argparse.Namespace) -> int:
    import threading

    import actions  # noqa: F401 - registers the action job handlers
    import figures.page_summaries  # noqa: F401 - registers the pages' figures (refreshed after writes), below ui/
    from jobs.worker import Worker
    from services.settings import get_settings

    if args.once:
        count = Worker(get_settings()).run_once()
        print(f"opsdash worker: one pass, {count} jobs run", flush=True)
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("opsdash worker: running scheduled syncs and queued jobs; Ctrl-C stops", flush=True)
    Worker(get_settings()).run(stop)
    return 0


def cmd_webhooks(args: argparse.Namespace) -> int:
    """The receiver alone, with read timeouts and connection caps (webhooks/webhook_server.py)."""
    from webhooks.webhook_server import serve as serve_webhooks
    from webhooks.webhooks import WebhookConfigError, webhook_app

    try:
        app = webhook_app()
    except WebhookConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"opsdash webhooks: POST /webhooks/upwell and /webhooks/qargo on http://{args.host}:{args.port}",
          flush=True)
    serve_webhooks(app, args.host, args.port)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """The dashboard, its webhook routes and the worker against the configured vendors (serve.py)."""
    from serve import UnusableConfiguration, serve
    from services.settings import get_settings

    print(f"opsdash serve: dashboard and webhook routes on http://{args.host}:{args.port}", flush=True)
    try:
        serve(get_settings(), args.host, args.port)  # replaces this process when the configuration is usable
    except UnusableConfiguration as exc:
        print("opsdash serve: the configuration cannot run the dashboard:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        print("Set these in the environment, opsdash.toml or .streamlit/secrets.toml (docs/deploy.md).",
              file=sys.stderr)
        return 2
    return 0


def cmd_upload_orders(args: argparse.Namespace) -> int:
    """Validate an order file, upload the valid rows to Qargo and wait for each (actions.commands)."""
    from actions.commands import upload_orders
    from services.settings import get_settings

    return upload_orders(Path(args.file), get_settings(), out=sys.stdout, err=sys.stderr)  # the streams of now


def cmd_validate_tax_ids(args: argparse.Namespace) -> int:
    """Validate a CSV of tax IDs (country,tax_id[,name]) and store the results (actions.commands)."""
    from actions.commands import validate_tax_ids
    from services.settings import get_settings

    return validate_tax_ids(Path(args.file), get_settings())


def cmd_reorder_levels(args: argparse.Namespace) -> int:
    """`import FILE` (all or nothing, every bad line reported) or `export` (CSV to stdout); figures/reorder.py."""
    from actions.reorder import export_levels, import_file
    from actions.roles import PermissionDenied, local_actor
    from figures.reorder import ReorderLevelError
    from services.settings import get_settings
    from store.schema import open_store

    db = open_store(get_settings())
    try:
        if args.verb == "export":
            sys.stdout.write(export_levels(db, local_actor()))
            return 0
        if not args.file:
            print("reorder-levels import needs a FILE (CSV: product_code,warehouse,reorder_level)", file=sys.stderr)
            return 2
        count = import_file(db, local_actor(), Path(args.file))  # size bounded before reading
    except (ReorderLevelError, PermissionDenied, OSError) as exc:
        print(f"reorder-levels {args.verb} failed: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    print(f"{count} reorder levels imported from {args.file}", file=sys.stderr)
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    """Alert rules: list, add, remove, test (parsed and run by actions.alerts_cli)."""
    from actions.alerts_cli import main as alerts_main
    from services.settings import get_settings

    return alerts_main(args.alerts_args, get_settings())


def cmd_migrate_store(args: argparse.Namespace) -> int:
    """Copy a SQLite cache into PostgreSQL and compare both (actions.move_store)."""
    from actions.move_store_cli import main as move_main

    return move_main(args.source, args.target, args.replace, sys.stdout, sys.stderr)


def cmd_export(args: argparse.Namespace) -> int:
    """Stream one dataset to a file or stdout (binary-safe); the row count goes to stderr."""
    from exports.export import export
    from services.settings import get_settings
    from store.datasets import DATASETS
    from store.schema import open_store

    if args.dataset not in DATASETS:
        print(f"unknown dataset: {args.dataset} (known: {' '.join(sorted(DATASETS))})", file=sys.stderr)
        return 2
    to_stdout = args.output == "-"
    if to_stdout and args.format in ("xlsx", "parquet") and sys.stdout.isatty():
        print(f"warning: writing binary {args.format} to a terminal; redirect it or use --output FILE",
              file=sys.stderr)
    db = open_store(get_settings())
    try:
        count = export(db, args.dataset, args.format, sys.stdout.buffer if to_stdout else args.output,
                       dict(args.filter), force=args.force)
        sys.stdout.buffer.flush()
    except BrokenPipeError:  # the reader stopped early (`| head`): its choice, not a failure of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except (ValueError, OSError) as exc:  # a bad filter, a path that is not a regular file, a full disk
        print(f"export failed: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    print(f"{count} rows of {args.dataset} exported as {args.format} to {args.output}", file=sys.stderr)
    return 0


def _export_filter(text: str) -> tuple[str, object]:
    """`--filter col=value` (or `col__op=value`).

    A canonical integer ("12", not "0012") binds as an int: computed columns such as `late` have no
    type affinity, so SQLite would never find 1 = '1'; text columns still match it as text."""
    column, sep, value = text.partition("=")
    if not sep or not column:
        raise argparse.ArgumentTypeError(f"expected COLUMN=VALUE, got {text!r}")
    is_int = value.lstrip("-").isdigit() and str(int(value)) == value
    return column, int(value) if is_int else value


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


def _factor(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.5 or 2, got {text!r}") from None
    if not 0.01 <= value <= 20:
        raise argparse.ArgumentTypeError(f"factor {text} is outside 0.01..20")
    return value


def _add_sandbox_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--scale", choices=("small", "large"), default="small")
    p.add_argument("--factor", type=_factor, default=1.0,
                   help="multiply the scale's record counts (e.g. 0.5 or 2) to measure how costs grow")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opsdash", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_servers(sub)
    _add_data_commands(sub)
    _add_actions(sub)
    return parser


Subparsers = argparse._SubParsersAction  # what add_subparsers returns (argparse names no public type)


def _add_servers(sub: Subparsers) -> None:
    """The long-running processes: demo, sandbox, worker, webhook receiver, dashboard."""
    p = sub.add_parser("demo", help="start the vendor sandbox and the dashboard against it")
    p.add_argument("--port", type=int, default=8501, help="dashboard port (default 8501)")
    p.add_argument("--sandbox-port", type=int, default=0, help="sandbox port (default: a free one)")
    p.add_argument("--fresh", action="store_true",
                   help="start a new world: remove the demo database and its saved sandbox world")
    _add_sandbox_options(p)
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("sandbox", help="serve the five vendor simulators on one local port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    _add_sandbox_options(p)
    p.add_argument("--print-env", action="store_true", help="print the client settings (NAME=value) and exit")
    p.add_argument("--tick-seconds", type=float, default=5.0,
                   help="advance order statuses and emit webhook events every N seconds (0: only on /_admin/tick)")
    p.add_argument("--qargo-webhook-url", default=None, help="where Qargo visibility events are POSTed")
    p.add_argument("--upwell-webhook-url", default=None, help="where Upwell carrier invoice events are POSTed")
    p.add_argument("--relax-limits", action="store_true", help="lift the vendors' rate limits (tests only)")
    p.add_argument("--living", action="store_true",
                   help="keep a steady state: new orders, invoices and stock arrive as others settle")
    p.add_argument("--state", default=None, metavar="FILE",
                   help="keep the world's seed, anchor and ticks in FILE and resume from it on restart")
    p.set_defaults(handler=cmd_sandbox)

    p = sub.add_parser("worker", help="run scheduled syncs and queued jobs (when the dashboard's is off)")
    p.add_argument("--once", action="store_true",
                   help="one pass: queue what is due, run every queued job, then exit (e.g. from cron)")
    p.set_defaults(handler=cmd_worker)

    p = sub.add_parser("webhooks", help="serve the webhook receiver alone")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8502)
    p.set_defaults(handler=cmd_webhooks)

    p = sub.add_parser("serve", help="the dashboard, webhook routes and worker against the configured vendors")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: behind a proxy)")
    p.add_argument("--port", type=int, default=8501)
    p.set_defaults(handler=cmd_serve)


def _add_data_commands(sub: Subparsers) -> None:
    """Reading and moving data: sync, export, migrate-store."""
    p = sub.add_parser("sync", help="one sync pass; non-zero exit if any resource failed")
    p.add_argument("vendors", nargs="*", metavar="VENDOR",
                   help=f"any of: {' '.join(VENDOR_NAMES)} (default: every configured one)")
    p.set_defaults(handler=cmd_sync)

    p = sub.add_parser("export", help="export a dataset as csv, xlsx, parquet or json")
    p.add_argument("dataset", metavar="DATASET", help="e.g. orders, invoices_outstanding, stock_levels")
    p.add_argument("--format", required=True, choices=("csv", "xlsx", "parquet", "json"))
    p.add_argument("--output", required=True, metavar="PATH", help="file to write, or - for stdout")
    p.add_argument("--force", action="store_true",
                   help="write into a symlink, named pipe or device given as --output (refused otherwise)")
    p.add_argument("--filter", action="append", default=[], type=_export_filter, metavar="COLUMN=VALUE",
                   help="keep rows where COLUMN equals VALUE (repeatable; COLUMN__gte=VALUE etc. also work)")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("migrate-store", help="copy a SQLite cache into an empty PostgreSQL database and compare "
                                             "both (counts, rows, every dataset's export); docs/deploy.md")
    p.add_argument("--from", dest="source", required=True, metavar="FILE", help="the SQLite cache file")
    p.add_argument("--to", dest="target", required=True, metavar="URL", help="postgresql://user@host/database")
    p.add_argument("--replace", action="store_true",
                   help="remove the target's data first (each table's rows are listed before they go)")
    p.set_defaults(handler=cmd_migrate_store)


def _add_actions(sub: Subparsers) -> None:
    """Acting on vendors' systems and our own settings (the role each needs: COMMAND_ROLES)."""
    p = sub.add_parser("upload-orders", help="validate an order file (csv, xlsx, json) and upload it to Qargo")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=cmd_upload_orders)

    p = sub.add_parser("validate-tax-ids", help="validate a CSV of tax IDs (country,tax_id[,name])")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=cmd_validate_tax_ids)

    p = sub.add_parser("reorder-levels", help="import or export our reorder levels (CSV product_code,warehouse,"
                                              "reorder_level[,lead_time_days])")
    p.add_argument("verb", choices=("import", "export"))
    p.add_argument("file", metavar="FILE", nargs="?", help="the CSV to import (import only)")
    p.set_defaults(handler=cmd_reorder_levels)

    p = sub.add_parser("alerts", add_help=False, prefix_chars="+",  # every option goes to actions.alerts_cli
                       help="alert rules: list | add NAME KIND --param N=V | remove RULE | test RULE")
    p.add_argument("alerts_args", nargs=argparse.REMAINDER, metavar="list|add|remove|test ...")
    p.set_defaults(handler=cmd_alerts)


# The role a command needs, asked before it reads its file (the action checks again: actions/roles.py).
COMMAND_ROLES = {("upload-orders", None): ("operator", "uploading orders to Qargo"),
                 ("validate-tax-ids", None): ("operator", "validating tax IDs"),
                 ("reorder-levels", "import"): ("operator", "setting reorder levels")}


def startup_problems(args: argparse.Namespace) -> list[str]:
    """Every setting checked before any command runs (services/settings_check.py), then the command's role."""
    from actions.roles import PermissionDenied, local_actor, problems, require
    from services.settings_check import BadConfiguration, load

    found = problems()
    try:
        load()
    except BadConfiguration as exc:
        found = [*exc.problems, *found]
    if args.command == "serve":
        found += _serve_problems(found)
    needed = COMMAND_ROLES.get((args.command, getattr(args, "verb", None)))
    if needed and not found:
        try:
            require(local_actor(), *needed)
        except PermissionDenied as exc:
            found.append(f"{exc} (OPSDASH_LOCAL_ROLE)")
    return found


def _serve_problems(found: list[str]) -> list[str]:
    """What `opsdash serve` needs besides sound settings (serve.problems), for settings not named already."""
    from serve import problems as serve_problems
    from services.settings import get_settings

    try:
        settings = get_settings()
    except Exception:  # noqa: BLE001 - the settings model refused them: those problems are listed already
        return []
    named = {line.split()[0].split("=")[0].rstrip(":") for line in found if line.strip()}
    return [p for p in serve_problems(settings) if p.split()[0].split("=")[0].rstrip(":") not in named]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "sandbox":  # the sandbox reads no setting of ours
        found = startup_problems(args)
        if found:
            print(f"opsdash {args.command}: not started; fix {'this' if len(found) == 1 else 'these'} first "
                  "(environment, opsdash.toml or .streamlit/secrets.toml):", file=sys.stderr)
            for problem in found:
                print(f"  - {problem}", file=sys.stderr)
            return 2
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
