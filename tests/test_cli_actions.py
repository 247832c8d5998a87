"""`opsdash upload-orders` and `opsdash validate-tax-ids` as subprocesses against the sandbox: output, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from actions.order_file import template
from sandbox.context import SandboxConfig
from sandbox.server import client_env
from tests.actions.test_orders import batch_csv

ROOT = Path(__file__).resolve().parents[1]


def opsdash(config: SandboxConfig, *args: str) -> subprocess.CompletedProcess[str]:
    """The command against the test's own default database (tests/conftest.py: a file, or on PostgreSQL a database)."""
    env = {**os.environ, **client_env(config), "OPSDASH_LOCAL_USER": "cli-tester"}
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_upload_orders_completes_and_exits_zero(relaxed_sandbox: SandboxConfig, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(batch_csv({"customer_code": "C00008", "erp_order_number": "CLI-1"},
                               {"customer_code": "C00009", "erp_order_number": "CLI-2"}))
    done = opsdash(relaxed_sandbox, "upload-orders", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(" COMPLETED ") == 2
    assert "2 of 2 orders uploaded" in done.stdout


def test_upload_orders_prints_row_errors_uploads_the_rest_and_fails(
        relaxed_sandbox: SandboxConfig, tmp_path: Path, admin: httpx.Client) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(batch_csv({"customer_code": "C00010", "erp_order_number": "CLI-3"},
                               {"customer_code": "C00010", "erp_order_number": "CLI-4", "pickup_country": "QQ"}))
    done = opsdash(relaxed_sandbox, "upload-orders", str(path))
    assert done.returncode == 1
    assert "row 3, pickup_country: 'QQ' is not an ISO 3166 country code" in done.stderr
    assert done.stdout.count(" COMPLETED ") == 1


def test_upload_orders_oversized_file_sends_nothing(
        relaxed_sandbox: SandboxConfig, tmp_path: Path, admin: httpx.Client) -> None:
    admin.post("/_admin/stats/reset")
    path = tmp_path / "big.csv"
    path.write_bytes(template("csv") + b"x" * (5 * 1024 * 1024))
    done = opsdash(relaxed_sandbox, "upload-orders", str(path))
    assert done.returncode == 2 and "the limit is 5 MB" in done.stderr
    assert admin.get("/_admin/stats/qargo").json()["requests"] == 0


def test_validate_tax_ids_prints_summary_and_stores(relaxed_sandbox: SandboxConfig, tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    from sandbox.world import World

    # A customer whose well-formed number the sandbox's authority has struck off (sandbox/quaderno/__init__.py).
    gone = next(c.vat_number for c in World(seed=relaxed_sandbox.seed).customers
                if c.vat_number and c.id % 20 == 7 and c.vat_number[:2] != "IT")
    path.write_text("country,tax_id,name\nDE,DE856138800,Falcon\nDE,DE123,Typo\nIT,IT00743110157,Down\n"
                    f"{gone[:2]},{gone},Struck off\n")
    done = opsdash(relaxed_sandbox, "validate-tax-ids", str(path))
    assert done.returncode == 0, done.stderr
    # malformed (our offline check) and invalid (the authority's answer) are counted apart
    assert "4 total, 1 valid, 1 invalid, 1 unavailable, 1 malformed, 0 refused, 3 vendor_calls" in done.stdout
    export = opsdash(relaxed_sandbox, "validate-tax-ids", str(tmp_path / "missing.csv"))
    assert export.returncode == 2 and "missing.csv" in export.stderr
