"""Bad paths and files on the CLI: one line on stderr, exit 2, never a traceback (issue 11, points 5-6)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import cli
from services.settings import get_settings


@pytest.fixture
def env(tmp_path: Path, db_path: Path | str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The suite's migrated database (a file, or with --db=postgresql a PostgreSQL one) as OPSDASH_DB."""
    monkeypatch.setenv("OPSDASH_DB", str(db_path))
    monkeypatch.setenv("QARGO_BASE_URL", "http://127.0.0.1:9/qargo")  # never reached: the file is refused first
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str], expected: str) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert "Traceback" not in err[0]


@pytest.mark.parametrize(("target", "expected"), [
    ("missing/out.csv", "does not exist"),
    (".", "is a directory"),
])
def test_export_to_a_bad_path(env: Path, capsys, target: str, expected: str) -> None:
    one_line_exit_2(["export", "orders", "--format", "csv", "--output", str(env / target)], capsys, expected)


def test_export_to_a_fifo_or_symlink_needs_force(env: Path, capsys) -> None:
    fifo, link = env / "pipe", env / "link.csv"
    os.mkfifo(fifo)
    link.symlink_to(env / "real.csv")
    one_line_exit_2(["export", "orders", "--format", "csv", "--output", str(fifo)], capsys, "named pipe")
    one_line_exit_2(["export", "orders", "--format", "csv", "--output", str(link)], capsys, "--force")
    assert cli.main(["export", "orders", "--format", "csv", "--output", str(link), "--force"]) == 0
    assert (env / "real.csv").read_text().startswith("source,")
    assert fifo.is_fifo() and link.is_symlink()
    assert [p.name for p in env.iterdir() if p.name.endswith(".part")] == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_export_to_an_unwritable_directory(env: Path, capsys) -> None:
    locked = env / "locked"
    locked.mkdir(mode=0o500)
    one_line_exit_2(["export", "orders", "--format", "csv", "--output", str(locked / "x.csv")], capsys,
                    "cannot write")


def test_export_to_a_read_only_file_system(env: Path, capsys) -> None:
    if not Path("/proc/version").exists():
        pytest.skip("needs /proc")
    one_line_exit_2(["export", "orders", "--format", "csv", "--output", "/proc/version.csv"], capsys, "export failed")


@pytest.mark.parametrize(("body", "expected"), [
    (b"[" * 200_000 + b"]" * 200_000, "nested deeper than"),
    (b'[{"quantity": 1' + b"0" * 40 + b"}]", "out of range"),
    (b'[{"customer_code": "\\ud800"}]', "lone surrogate"),
    (b"\xff[]", "not valid UTF-8"),
])
def test_upload_orders_with_a_hostile_json_file(env: Path, capsys, body: bytes, expected: str) -> None:
    path = env / "orders.json"
    path.write_bytes(body)
    one_line_exit_2(["upload-orders", str(path)], capsys, expected)


@pytest.mark.parametrize("name", ["missing.json", "."])
def test_upload_orders_with_a_bad_path(env: Path, capsys, name: str) -> None:
    one_line_exit_2(["upload-orders", str(env / name)], capsys, str(env))


def test_export_to_a_pipe_closed_early_is_quiet(env: Path) -> None:
    import subprocess
    import sys

    from store.schema import session as open_session

    with open_session(os.environ["OPSDASH_DB"]) as db:
        db.conn.executemany("INSERT INTO qargo_orders (order_id, reference, status, synced_at) VALUES (?, ?, 'PLANNED', "
                            "'2025-01-01T00:00:00.000Z')", [(f"o{i}", f"R{i}") for i in range(30_000)])
    environ = dict(os.environ)
    export = subprocess.Popen([sys.executable, "-m", "cli", "export", "orders", "--format", "csv", "--output", "-"],
                              cwd=Path(__file__).resolve().parents[1], env=environ, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    assert export.stdout is not None and export.stdout.readline().startswith(b"source,")
    export.stdout.close()  # like `| head -1`
    assert export.wait(timeout=60) == 0
    assert export.stderr is not None and export.stderr.read() == b""
