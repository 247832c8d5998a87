"""The `opsdash` command: a thin skin over the library. `opsdash COMMAND --help` tells more; the README's
"Command line" section lists every command."""

# This module holds the parser (build_parser and its groups), the checks before any command (startup_problems,
# COMMAND_ROLES), main, and the long-running servers' commands (sandbox, worker, webhooks, serve); the demo is in
# cli_demo.py, the data and action commands in cli_commands.py. The docstring above is `opsdash --help`'s text.

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence

# re-exported: the parser below names each handler from this module's namespace (where tests replace them)
from cli_commands import (
    VENDOR_NAMES,
    cmd_alerts,
    cmd_export,
    cmd_migrate_store,
    cmd_reorder_levels,
    cmd_sync,
    cmd_upload_orders,
    cmd_validate_tax_ids,
)
from cli_demo import cmd_demo

Handler = Callable[[argparse.Namespace], int]


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


def _export_filter(text: str) -> tuple[str, object]:
    """`--filter col=value` (or `col__op=value`).

    A canonical integer ("12", not "0012") binds as an int: computed columns such as `late` have no
    type affinity, so SQLite would never find 1 = '1'; text columns still match it as text."""
    column, sep, value = text.partition("=")
    if not sep or not column:
        raise argparse.ArgumentTypeError(f"expected COLUMN=VALUE, got {text!r}")
    is_int = value.lstrip("-").isdigit() and str(int(value)) == value
    return column, int(value) if is_int else value


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
