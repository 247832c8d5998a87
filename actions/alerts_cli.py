"""`opsdash alerts list|add|remove|test`: a thin skin over actions.alerts.

The acting user is `OPSDASH_LOCAL_USER` with the role `OPSDASH_LOCAL_ROLE`, admin when unset: the
person at the shell owns the database file anyway, so the CLI is where an admin manages rules
without an identity provider. Exit codes: 0 done; 1 the test found a failing channel; 2 bad input
(unknown rule, kind or parameter) or not allowed.

    opsdash alerts add "Overdue 60" receivable_overdue --param days=60 --param min_amount=1000 \
        --channel email --channel webhook
    opsdash alerts test "Overdue 60" [--no-send]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from sqlite_utils import Database

from actions import alerts
from actions.roles import Actor, PermissionDenied, local_actor
from alerts.rules import KINDS
from services.settings import Settings
from store.schema import open_store


def cli_actor() -> Actor:
    return local_actor(default_role="admin")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opsdash alerts", description="alert rules (docs/alerts.md)")
    sub = parser.add_subparsers(dest="alerts_command", required=True)
    sub.add_parser("list", help="the rules, their channels and last evaluation")
    p = sub.add_parser("add", help="add a rule (admin)")
    p.add_argument("name")
    p.add_argument("kind", choices=sorted(KINDS), metavar="KIND", help=f"one of: {', '.join(KINDS)}")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="rule parameter (repeatable)")
    p.add_argument("--channel", action="append", default=[], choices=("email", "webhook"),
                   help="extra channel besides the in-app inbox (repeatable)")
    p.add_argument("--no-resolved", action="store_true", help="do not send a message when the condition clears")
    p = sub.add_parser("remove", help="remove a rule and its alerts (admin)")
    p.add_argument("rule", metavar="RULE", help="name or id")
    p = sub.add_parser("test", help="show what a rule matches now and send a test message on its channels")
    p.add_argument("rule", metavar="RULE", help="name or id")
    p.add_argument("--no-send", action="store_true", help="only show the matches")
    return parser


def main(argv: Sequence[str], settings: Settings, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    return run(build_parser().parse_args(list(argv)), settings, out, err)


def run(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    db = open_store(settings)
    try:
        return _COMMANDS[args.alerts_command](db, args, settings, out)
    except (ValueError, PermissionDenied) as exc:
        print(f"opsdash alerts {args.alerts_command}: {exc}", file=err)
        return 2
    finally:
        db.close()


def _list(db: Database, args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    rules = alerts.list_rules(db)
    if not rules:
        print("no alert rules; add one with `opsdash alerts add NAME KIND --param ...`", file=out)
    for rule in rules:
        state = "" if rule.enabled else " [disabled]"
        print(f"{rule.rule_id}  {rule.name}{state}: {rule.describe()}  channels: inbox"
              f"{''.join(', ' + c for c in rule.channels)}; last evaluated {rule.last_evaluated_at or 'never'}"
              + (f"; {rule.last_error}" if rule.last_error else ""), file=out)
    return 0


def _params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--param expects NAME=VALUE, got {pair!r}")
        params[name.strip()] = value.strip()
    return params


def _add(db: Database, args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    rule = alerts.add_rule(db, cli_actor(), args.name, args.kind, _params(args.param), args.channel,
                           not args.no_resolved)
    print(f"added rule {rule.rule_id} {rule.name!r}: {rule.describe()}", file=out)
    return 0


def _remove(db: Database, args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    rule = alerts.remove_rule(db, cli_actor(), args.rule)
    print(f"removed rule {rule.rule_id} {rule.name!r}", file=out)
    return 0


def _test(db: Database, args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    result = alerts.test_rule(db, cli_actor(), args.rule, settings, send=not args.no_send)
    if result.error:
        print(f"cannot evaluate yet: {result.error}", file=out)
    print(f"{result.rule.name}: {len(result.findings)} matching now", file=out)
    for finding in result.findings:
        print(f"  {finding.key}  {finding.title}", file=out)
    for channel, outcome in result.sent.items():
        print(f"{channel}: {outcome}", file=out)
    return 1 if any(o.startswith("failed") for o in result.sent.values()) else 0


_COMMANDS = {"list": _list, "add": _add, "remove": _remove, "test": _test}
