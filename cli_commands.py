"""The data and action commands of `opsdash` (sync, export, migrate-store, upload-orders, validate-tax-ids,
reorder-levels, alerts): each a thin skin over the library that reads its settings, calls one function and turns
the outcome into printed lines and an exit code. cli.py parses the command line, checks settings and roles
(startup_problems) and calls these."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

VENDOR_NAMES = ("qargo", "quaderno", "qasida", "cargobase", "upwell")


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
