"""Run a parser in a separate process with a time and memory limit (issue 22).

Every page session and the webhook receiver share one interpreter under `opsdash serve`, so CPU-heavy
parsing in a page's script thread holds the others back. `run_apart(parse, *args)` runs `parse` in a fresh
Python process instead (`python -m actions.isolated`, fed a pickle on stdin): the page waits, nobody else
does. The child may use at most `MEMORY_BYTES` of address space and `SECONDS` of wall time; past either the
parent gets `TooCostly` and the child is gone. The parsers are bounded themselves (actions/order_file.py,
exports/xlsx_reader.py): this is the second fence.

A plain subprocess, not multiprocessing: a spawned multiprocessing child re-runs the parent's main script,
which under Streamlit, pytest or a script without a `__main__` guard is not ours to re-run.

`parse` must be a module-level function; its arguments and result must pickle. An exception raised by
`parse` is raised again in the parent when it pickles, else as `RuntimeError` with its text.
"""

from __future__ import annotations

import importlib
import os
import pickle
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
SECONDS = 30.0  # the largest accepted batch parses in under 2 s
MEMORY_BYTES = 2 * 1024**3  # address space: the interpreter and its imports take a few hundred MB of it
_ROOT = Path(__file__).resolve().parents[1]


class TooCostly(ValueError):
    """The parse needed more time or memory than allowed; the message says which."""


def run_apart(parse: Callable[..., T], *args: Any, seconds: float = SECONDS,
              memory_bytes: int = MEMORY_BYTES) -> T:
    """`parse(*args)` computed in a separate process (see the module docstring)."""
    job = pickle.dumps((parse.__module__, parse.__qualname__, args, memory_bytes))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_ROOT), os.environ.get("PYTHONPATH", "")])}
    try:
        done = subprocess.run([sys.executable, "-m", "actions.isolated"], input=job, capture_output=True,
                              timeout=seconds, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise TooCostly(f"reading it took longer than {seconds:.0f} s") from None
    if done.returncode != 0 or not done.stdout:
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise TooCostly(f"the reader stopped (exit code {done.returncode}{': ' + last[0] if last else ''})")
    kind, value = pickle.loads(done.stdout)
    if kind == "error":
        raise value
    return value  # type: ignore[no-any-return]


def _main() -> None:
    """The child: read the job from stdin, answer ("ok", result) or ("error", exception) on stdout."""
    answer = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # nothing a parser prints can corrupt the answer
    module, name, args, memory_bytes = pickle.loads(sys.stdin.buffer.read())
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        outcome: tuple[str, Any] = ("ok", getattr(importlib.import_module(module), name)(*args))
    except MemoryError:  # the class as the parent knows it, not this process's `__main__.TooCostly`
        costly = importlib.import_module("actions.isolated").TooCostly
        outcome = ("error", costly(f"reading it needs more than {memory_bytes // 1024**2:,} MB of memory"))
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it again
        outcome = ("error", exc)
    try:
        data = pickle.dumps(outcome)
    except Exception:  # noqa: BLE001 - an unpicklable result or exception: its text still gets through
        data = pickle.dumps(("error", RuntimeError(str(outcome[1]))))
    answer.write(data)
    answer.close()


if __name__ == "__main__":
    _main()
