"""The issue 22 probe: every hostile input of the issue, at full size, with what it costs and what it gets back.

    python bench/bench_hostile.py [bodies|files|all] [TIMEOUT_S] [CHECKOUT]

Bodies: the hostile webhook set (tests/reliability/test_hostile_bodies.py `HOSTILE`) is posted over HTTP
to a receiver on 127.0.0.1 in this process, on one keep-alive connection, each followed by a good
delivery. Printed per body: status, the first words of the answer, the seconds to answer, whether the
next delivery reused the connection, and the longest stall of another Python thread while it was
handled (a thread that wakes every millisecond: what a dashboard session in the same process waits).

Files: each hostile file is written to a temporary directory and parsed in a fresh process (the CLI's
path: `read_order_file` / `parse_orders`, or `import_file` for reorder levels), stopped after TIMEOUT_S
(default 60). Printed per file: its size, the answer, the process's CPU seconds and peak memory (RSS)
minus the same process parsing the one-order template. CHECKOUT (a directory, e.g. `git archive` of the
commit before issue 22) is put first on the parsing processes' path, to probe the code as it was.
HOSTILE_ONLY=TEXT runs only the files whose name contains TEXT.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))  # after PYTHONPATH: `PYTHONPATH=CHECKOUT ... bodies` probes that checkout's receiver

from pydantic import SecretStr

from sandbox.server import free_port, serving
from services.settings import Settings
from tests.reliability.test_hostile_bodies import HOSTILE
from tests.webhooks.test_webhooks import AUTH, qargo_event, upwell_event
from webhooks.webhooks import webhook_app

HEADERS = {"content-type": "application/json",
           "authorization": "Basic " + base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode()).decode()}


class StallMeter:
    """A thread that sleeps 1 ms at a time and records the longest gap between its wake-ups."""

    def __init__(self) -> None:
        self.longest, self._stop = 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last = time.perf_counter()
        while not self._stop.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            self.longest, last = max(self.longest, now - last), now

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def post(conn: http.client.HTTPConnection, source: str, body: bytes) -> tuple[int, str]:
    conn.request("POST", f"/webhooks/{source}", body=body, headers=HEADERS)
    response = conn.getresponse()
    return response.status, response.read().decode(errors="replace")


def probe_bodies() -> None:
    print("| # | body | bytes | status | answer | seconds | same connection | longest stall of another thread |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(opsdash_db=Path(tmp) / "h.db", opsdash_webhook_user=AUTH[0],
                            opsdash_webhook_password=SecretStr(AUTH[1]))
        port = free_port()
        with serving(webhook_app(settings), "127.0.0.1", port):
            for number, (source, body, field, _) in enumerate(HOSTILE, start=1):
                _probe_one(port, number, source, json.dumps(body).encode(), field)


def _probe_one(port: int, number: int, source: str, raw: bytes, field: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    good = upwell_event(f"good-{number}") if source == "upwell" else qargo_event(
        f"good-{number}", "ACCEPTED", "2026-11-20T10:00:00Z", order_id=f"order-good-{number}")
    try:
        with StallMeter() as meter:
            started = time.perf_counter()
            try:
                status, answer = post(conn, source, raw)
            except (OSError, http.client.HTTPException) as exc:
                status, answer = 0, f"connection failed: {type(exc).__name__}"
            seconds = time.perf_counter() - started
        sock = conn.sock
        try:
            post(conn, source, json.dumps(good).encode())
            same = "yes" if sock is not None and conn.sock is sock else "no (reconnected)"
        except (OSError, http.client.HTTPException):
            same = "no (reset)"
    finally:
        conn.close()
    detail = json.loads(answer).get("detail", answer) if answer.startswith("{") else answer
    print(f"| {number} | {source} {field} | {len(raw):,} | {status} | {str(detail)[:70]} | {seconds:.3f} | {same} "
          f"| {meter.longest * 1000:.0f} ms |")


# --- files ------------------------------------------------------------------------------------------------

CHILD = """
import json, sys, time
from actions import order_file, reorder
from actions.roles import Actor
from store.schema import session
# before issue 22 there was no read_order_file / import_file: the CLI called path.read_bytes()
read = getattr(order_file, "read_order_file", lambda path: path.read_bytes())
import_file = getattr(reorder, "import_file", lambda db, actor, path: reorder.import_levels(db, actor, path.read_bytes()))
kind, path = sys.argv[1], Path(sys.argv[2])
with session(Path(sys.argv[3])) as db:
    started = time.process_time()
    try:
        if kind == "reorder":
            answer = f"imported {import_file(db, Actor('bench', 'operator'), path)}"
        else:
            batch = order_file.parse_orders(read(path), order_file.detect_format(path.name))
            answer = f"{len(batch.orders)} orders; " + "; ".join(str(e) for e in batch.errors[:1])
    except Exception as exc:
        answer = f"{type(exc).__name__}: {exc}"
    cpu = time.process_time() - started
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"answer": " ".join(answer.split())[:90], "cpu": cpu, "rss_mb": peak_kb / 1024}))
"""


def header_row() -> bytes:
    from tests.reliability.test_hostile_files import header_row as make

    return make()


def one_order_csv(**values: str) -> bytes:
    from tests.reliability.test_hostile_files import one_order_csv as make

    return make(**values)


def workbook(sheet_data: bytes, shared: bytes | None = None, dimension: str = "A1:V2") -> bytes:
    from tests.reliability.test_hostile_files import workbook as make

    return make(sheet_data, shared, dimension)


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _sparse(size: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with path.open("wb") as handle:
            handle.truncate(size)
    return make


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _shared_strings_bomb(count: int) -> bytes:
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    return workbook(header_row(), shared=f'<sst {ns} count="{count}">'.encode() + b"<si><t>a</t></si>" * count
                    + b"</sst>")


def _full_batch(fmt: str) -> bytes:
    """The largest batch accepted: 5,000 orders (MAX_ROWS), each a copy of the template's with its own number."""
    from actions.order_file import COLUMNS, _xlsx_bytes

    header, row = one_order_csv().decode().splitlines()
    values = row.split(",")
    number = header.split(",").index("erp_order_number")
    rows = [[*values[:number], f"SO-{i}", *values[number + 1:]] for i in range(5_000)]
    if fmt == "xlsx":
        return _xlsx_bytes([list(COLUMNS), *rows])
    return (header + "\n" + "\n".join(",".join(r) for r in rows) + "\n").encode()


def _reorder(line: str) -> bytes:
    return f"product_code,warehouse,reorder_level,lead_time_days\n{line}\n".encode()


def files() -> list[tuple[str, str, str, Callable[[Path], None]]]:
    """(kind, name, file name, how to make it): built on demand, with the file helpers of the tests."""
    return [
        ("orders", "baseline: the one-order template", "orders.csv", _bytes(one_order_csv())),
        ("orders", "5,000 orders (the row limit), CSV", "orders.csv", _bytes(_full_batch("csv"))),
        ("orders", "5,000 orders (the row limit), XLSX", "orders.xlsx", _bytes(_full_batch("xlsx"))),
        ("orders", "XLSX declared A1:XFD1048576", "orders.xlsx", _bytes(workbook(
            header_row() + b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
            dimension="A1:XFD1048576"))),
        ("orders", "XLSX 1M empty rows in a 16,384-wide sheet", "orders.xlsx", _bytes(workbook(
            header_row() + b"".join(b'<row r="%d"/>' % n for n in range(2, 1_048_577)), dimension="A1:XFD1048576"))),
        ("orders", "XLSX shared-strings bomb (40M strings)", "orders.xlsx", _bytes(_shared_strings_bomb(40_000_000))),
        ("orders", "3 GB file (sparse)", "orders.csv", _sparse(3 * 1024**3)),
        ("orders", "/dev/zero", "orders.csv", _dev_zero),
        ("orders", "goods_quantity 1e999999", "orders.csv", _bytes(one_order_csv(goods_quantity="1e999999"))),
        ("orders", "131,073-character field (CSV)", "orders.csv",
         _bytes(one_order_csv(planning_instructions="x" * 131_073))),
        ("orders", "NUL byte in pickup_city", "orders.csv", _bytes(one_order_csv(pickup_city="Gh\x00ent"))),
        ("orders", "header only", "orders.csv", _bytes(one_order_csv().splitlines()[0] + b"\n")),
        ("reorder", "reorder_level 1e999999", "levels.csv", _bytes(_reorder("NUT,,1e999999"))),
        ("reorder", "131,073-character lead_time_days", "levels.csv", _bytes(_reorder("NUT,,5," + "9" * 131_073))),
        ("reorder", "NUL byte in product_code", "levels.csv", _bytes(_reorder("NU\x00T,,5"))),
    ]


UNBOUNDED_BEFORE = ("3 GB file (sparse)", "/dev/zero")


def probe_files(timeout: float, checkout: str | None) -> None:
    print("| file | bytes | answer | CPU s | peak memory (above the template's) |")
    print("|---|---|---|---|---|")
    baseline = None
    with tempfile.TemporaryDirectory() as tmp:
        for number, (kind, name, filename, make) in enumerate(files()):
            if os.environ.get("HOSTILE_ONLY", "") not in name:
                continue
            if checkout and name in UNBOUNDED_BEFORE:
                print(f"| {name} | | not run against CHECKOUT: code that reads it whole takes the machine's memory |||")
                continue
            path = Path(tmp) / f"{number}-{filename}"
            make(path)
            size = "device" if path.is_symlink() else f"{path.stat().st_size:,}"
            result = _child(kind, path, Path(tmp) / f"{number}.db", timeout, checkout)
            if baseline is None:
                baseline = result.get("rss_mb", 0.0)
            extra = (f"{result['rss_mb']:,.0f} MB ({result['rss_mb'] - baseline:+,.0f})" if "rss_mb" in result
                     else "-")
            cpu = f"{result['cpu']:.2f}" if "cpu" in result else f"> {timeout:.0f} (stopped)"
            print(f"| {name} | {size} | {result['answer']} | {cpu} | {extra} |", flush=True)
            path.unlink()


def _child(kind: str, path: Path, db: Path, timeout: float, checkout: str | None) -> dict[str, Any]:
    first = [checkout] if checkout else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*first, str(ROOT)])}
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, kind, str(path), str(db)], capture_output=True,
                              text=True, timeout=timeout, env=env, check=False, cwd=checkout or ROOT)
    except subprocess.TimeoutExpired:
        return {"answer": f"still parsing after {timeout:.0f} s"}
    if done.returncode != 0 or not done.stdout.strip():
        return {"answer": f"process ended {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="The issue 22 probe: hostile webhook bodies and files, "
                                                 "what each costs and what it gets back.")
    parser.add_argument("what", nargs="?", choices=("bodies", "files", "all"), default="all")
    parser.add_argument("timeout", nargs="?", type=float, default=60.0,
                        help="seconds a file's parsing process may take (default 60)")
    parser.add_argument("checkout", nargs="?", default=None,
                        help="a directory put first on the parsing processes' path (probe older code)")
    args = parser.parse_args()
    if args.what in ("bodies", "all"):
        probe_bodies()
    if args.what in ("files", "all"):
        probe_files(args.timeout, args.checkout)


if __name__ == "__main__":
    main()
