"""What `opsdash migrate-store` prints (actions/move_store.py does the move): the progress, what was not moved
and why, a table of row counts on both sides, and the datasets compared. Exit 0: moved and equal; 1: a
difference (the target rolled back); 2: refused or failed before anything was kept."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from actions.move_store import SKIPPED, MoveRefused, MoveReport, move_store, redact
from actions.store_check import Comparison
from store.db import DATABASE_ERRORS


def main(source: str, target: str, replace: bool, out: TextIO, err: TextIO) -> int:
    print(f"moving {source} into {redact(target)}", file=out)

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    try:
        report = move_store(Path(source), target, replace=replace, say=say)
    except MoveRefused as exc:
        print(f"migrate-store: {exc}", file=err)
        return 2
    except DATABASE_ERRORS as exc:
        print(f"migrate-store: the move failed and was rolled back: {exc}", file=err)
        return 2
    for line in summary(report):
        print(line, file=out)
    if not report.ok:
        print(f"migrate-store: not moved; these differ: {', '.join(_differing(report.comparison))}", file=err)
        return 1
    return 0


def summary(report: MoveReport) -> list[str]:
    """The lines printed after the copy: what was left behind, the counts, the verdicts."""
    lines = [f"not moved: {table}: {why}" for table, why in SKIPPED.items()]
    comparison = report.comparison
    if comparison is None:
        return lines
    width = max([len("table"), *(len(t.table) for t in comparison.tables)])
    lines.append(f"{'table':<{width}}  {'file':>9}  {'target':>9}  rows")
    for check in comparison.tables:
        verdict = "equal" if check.ok else "DIFFER"
        lines.append(f"{check.table:<{width}}  {check.source_rows:>9}  {check.target_rows:>9}  {verdict}")
    equal_tables = len(comparison.tables) - len(comparison.tables_differ)
    lines.append(f"{equal_tables} of {len(comparison.tables)} tables equal, row by row")
    lines.append(f"{comparison.datasets_equal} datasets equal ({len(comparison.datasets_identical)} byte for byte, "
                 f"{len(comparison.datasets_canonical)} as canonical JSON)")
    lines += [f"dataset {name} differs: {what}" for name, what in comparison.datasets_differ.items()]
    return lines


def _differing(comparison: Comparison | None) -> list[str]:
    if comparison is None:
        return []
    return [*comparison.tables_differ, *comparison.datasets_differ]
