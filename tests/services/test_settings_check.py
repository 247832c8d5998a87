"""Every setting with a bad value: `opsdash` exits 2 before any command runs, one line per problem naming the
setting, never a traceback (issue 22: 8 of 22 bad configurations tracebacked; services/settings_check.py)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import cli
from services.settings import Settings, get_settings
from services.settings_check import BadConfiguration, load
from tests.conftest import suite_database

ROOT = Path(__file__).resolve().parents[2]
CLEARED = (*(name.upper() for name in Settings.model_fields), "OPSDASH_LOCAL_ROLE", "OPSDASH_ROLES",
           "OPSDASH_LOCAL_USER")

# (environment, the setting the one line must name, a word of the explanation). "{dir}" is a temporary folder,
# "{file}" a text file in it that is not a database.
BAD = [
    ({"OPSDASH_DB": "{dir}"}, "OPSDASH_DB", "is a directory"),
    ({"OPSDASH_DB": "{file}"}, "OPSDASH_DB", "not an SQLite database"),
    ({"OPSDASH_DB": "{file}/sub/opsdash.db"}, "OPSDASH_DB", "cannot be created"),
    ({"OPSDASH_INPROCESS_WORKER": "maybe"}, "OPSDASH_INPROCESS_WORKER", "valid boolean"),
    ({"OPSDASH_PG_POOL_SIZE": "0"}, "OPSDASH_PG_POOL_SIZE", "greater than or equal to 1"),
    ({"OPSDASH_PG_POOL_SIZE": "ten"}, "OPSDASH_PG_POOL_SIZE", "valid integer"),
    ({"QARGO_BASE_URL": "ftp://qargo.example"}, "QARGO_BASE_URL", "http(s) URL"),
    ({"QARGO_POLL_SHARE": "abc"}, "QARGO_POLL_SHARE", "valid number"),
    ({"QARGO_POLL_SHARE": "0"}, "QARGO_POLL_SHARE", "greater than 0"),
    ({"QARGO_POLL_SHARE": "2"}, "QARGO_POLL_SHARE", "less than or equal to 1"),
    ({"QUADERNO_BASE_URL": "not a url"}, "QUADERNO_BASE_URL", "http(s) URL"),
    ({"QASIDA_BASE_URL": "localhost:8000"}, "QASIDA_BASE_URL", "http(s) URL"),
    ({"QASIDA_PATHS": "{bad"}, "QASIDA_PATHS", "not a JSON object"),
    ({"QASIDA_PATHS": '{"stock": "/api/x"}'}, "QASIDA_PATHS", "unknown resources ['stock']"),
    ({"QASIDA_PATHS": "[1, 2]"}, "QASIDA_PATHS", "not a JSON object"),
    ({"QASIDA_PATHS": '{"stock_cards": 5}'}, "QASIDA_PATHS", "valid string"),
    ({"QASIDA_MANDANT_IN": "body"}, "QASIDA_MANDANT_IN", "'query' or 'header'"),
    ({"QASIDA_OPEN_ITEMS_BUDGET": "0"}, "QASIDA_OPEN_ITEMS_BUDGET", "greater than or equal to 1"),
    ({"QASIDA_OPEN_ITEMS_BUDGET": "many"}, "QASIDA_OPEN_ITEMS_BUDGET", "valid integer"),
    ({"CARGOBASE_BASE_URL": "http://"}, "CARGOBASE_BASE_URL", "http(s) URL"),
    ({"OPSDASH_SMTP_PORT": "smtp"}, "OPSDASH_SMTP_PORT", "valid integer"),
    ({"OPSDASH_SMTP_PORT": "70000"}, "OPSDASH_SMTP_PORT", "less than or equal to 65535"),
    ({"OPSDASH_SMTP_STARTTLS": "maybe"}, "OPSDASH_SMTP_STARTTLS", "valid boolean"),
    ({"OPSDASH_SMTP_FROM": "opsdash"}, "OPSDASH_SMTP_FROM", "e-mail addresses"),
    ({"OPSDASH_SMTP_TO": "a@example.com\r\nBcc: b@example.com"}, "OPSDASH_SMTP_TO", "line break"),
    ({"OPSDASH_SMTP_QUIET_HOURS": "22:00"}, "OPSDASH_SMTP_QUIET_HOURS", "START-END"),
    ({"OPSDASH_SMTP_DIGEST_AT": "25:00"}, "OPSDASH_SMTP_DIGEST_AT", "HH:MM"),
    ({"OPSDASH_ALERT_WEBHOOK_URL": "hooks.slack.com/services/T0/SECRET"}, "OPSDASH_ALERT_WEBHOOK_URL", "http(s)"),
    ({"OPSDASH_ALERT_WEBHOOK_QUIET_HOURS": "late-early"}, "OPSDASH_ALERT_WEBHOOK_QUIET_HOURS", "START-END"),
    ({"OPSDASH_ALERT_WEBHOOK_DIGEST_AT": "8am"}, "OPSDASH_ALERT_WEBHOOK_DIGEST_AT", "HH:MM"),
    ({"OPSDASH_TIMEZONE": "Mars/Olympus_Mons"}, "OPSDASH_TIMEZONE", "IANA time zone"),
    ({"OPSDASH_LOCALE": "xx_QQ"}, "OPSDASH_LOCALE", "not a locale"),
    ({"OPSDASH_WEBHOOK_USER": "hooks", "OPSDASH_WEBHOOK_PASSWORD": "   "}, "OPSDASH_WEBHOOK_PASSWORD", "blank"),
    ({"OPSDASH_WEBHOOK_PASSWORD": "pw-without-user"}, "OPSDASH_WEBHOOK_USER", "unset"),
    ({"OPSDASH_LOCAL_ROLE": "boss"}, "OPSDASH_LOCAL_ROLE", "not a role"),
    ({"OPSDASH_ROLES": "{bad"}, "OPSDASH_ROLES", "not valid JSON"),
    ({"OPSDASH_ROLES": '{"a@example.com": "king"}'}, "OPSDASH_ROLES", "unknown roles ['king']"),
]


@pytest.fixture
def clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no opsdash.toml or secrets of the checkout
    monkeypatch.setenv("OPSDASH_DB", suite_database(tmp_path / "ok.db"))  # a usable database, either kind
    (tmp_path / "notes.txt").write_text("not a database\n")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def apply(env: dict[str, str], folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace("{dir}", str(folder)).replace("{file}", str(folder / "notes.txt")))


def ran(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every command's handler replaced by a recorder: a check that let a command through shows here."""
    started: list[str] = []

    def handler(args: argparse.Namespace) -> int:
        started.append(args.command)
        return 0

    for name in dir(cli):
        if name.startswith("cmd_"):
            monkeypatch.setattr(cli, name, handler)
    return started


@pytest.mark.parametrize(("env", "setting", "words"), BAD, ids=[f"{s}={list(e.values())[-1][:20]}" for e, s, _ in BAD])
def test_each_bad_setting_is_one_line_naming_it_and_exit_2(clean: Path, monkeypatch, capsys, env, setting,
                                                            words) -> None:
    apply(env, clean, monkeypatch)
    started = ran(monkeypatch)
    assert cli.main(["sync"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert started == [] and len(err) == 2, err
    assert err[1].startswith(f"  - {setting}") and words in err[1], err[1]
    assert "SECRET" not in err[1] and "pw-without-user" not in err[1]  # secrets are named, never shown


def test_every_problem_is_listed_at_once(clean: Path, monkeypatch, capsys) -> None:
    apply({"OPSDASH_DB": "{dir}", "OPSDASH_TIMEZONE": "Nowhere", "QARGO_BASE_URL": "qargo", "OPSDASH_LOCAL_ROLE": "x"},
          clean, monkeypatch)
    assert cli.main(["sync"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()[1:]
    assert [line.split()[1].split("=")[0] for line in lines] == ["OPSDASH_DB", "QARGO_BASE_URL", "OPSDASH_TIMEZONE",
                                                                 "OPSDASH_LOCAL_ROLE"]


def test_a_setting_that_is_not_json_does_not_hide_the_others(clean: Path, monkeypatch, capsys) -> None:
    apply({"QASIDA_PATHS": "{bad", "QARGO_POLL_SHARE": "abc", "OPSDASH_TIMEZONE": "Mars"}, clean, monkeypatch)
    assert cli.main(["sync"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()[1:]
    assert [line.split()[1].split("=")[0].rstrip(":") for line in lines] == ["QASIDA_PATHS", "QARGO_POLL_SHARE",
                                                                             "OPSDASH_TIMEZONE"]
    assert os.environ["QASIDA_PATHS"] == "{bad"  # read around, put back


def test_a_broken_toml_file_is_named(clean: Path, monkeypatch, capsys) -> None:
    (clean / "opsdash.toml").write_text("qargo_base_url = \n")
    started = ran(monkeypatch)
    assert cli.main(["export", "orders", "--format", "csv", "--output", "-"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert started == [] and err[1].startswith("  - opsdash.toml: cannot be read as TOML")


COMMANDS = [["demo"], ["sync"], ["worker"], ["webhooks"], ["serve"], ["export", "orders", "--format", "csv",
            "--output", "-"], ["upload-orders", "f.csv"], ["validate-tax-ids", "f.csv"], ["reorder-levels", "export"],
            ["alerts", "list"]]


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_every_command_checks_the_settings_first(clean: Path, monkeypatch, capsys, argv: list[str]) -> None:
    apply({"QARGO_POLL_SHARE": "abc"}, clean, monkeypatch)
    started = ran(monkeypatch)
    assert cli.main(argv) == 2 and started == []
    assert "QARGO_POLL_SHARE" in capsys.readouterr().err


def test_good_settings_pass_and_the_sandbox_reads_none(clean: Path, monkeypatch) -> None:
    apply({"QARGO_BASE_URL": "https://api.qargo.example", "OPSDASH_SMTP_QUIET_HOURS": "22:00-07:00",
           "OPSDASH_TIMEZONE": "Europe/Berlin", "OPSDASH_LOCALE": "de_DE", "OPSDASH_SMTP_TO": "a@x.com, b@y.com",
           "QASIDA_PATHS": '{"stock_cards": "/api/stock/v2/StockCard/GetAll"}'}, clean, monkeypatch)
    assert load().qargo_base_url == "https://api.qargo.example"
    started = ran(monkeypatch)
    assert cli.main(["sync"]) == 0 and cli.main(["sandbox", "--print-env"]) == 0
    assert started == ["sync", "sandbox"]
    monkeypatch.setenv("QARGO_POLL_SHARE", "abc")
    get_settings.cache_clear()
    assert cli.main(["sandbox", "--print-env"]) == 0  # the sandbox reads no setting of ours
    with pytest.raises(BadConfiguration):
        load()


def test_serve_with_a_bad_setting_exits_2_without_a_traceback(tmp_path: Path) -> None:
    """The real process, as a service manager starts it (issue 22: `opsdash serve` tracebacked)."""
    env = {"PATH": "/usr/bin:/bin", "OPSDASH_DB": str(tmp_path), "OPSDASH_TIMEZONE": "Mars/Base", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "serve", "--port", "1"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()[1:]
    assert [line.split()[1].split("=")[0] for line in lines[:2]] == ["OPSDASH_DB", "OPSDASH_TIMEZONE"]
    assert lines[2].startswith("  - no vendor configured")  # and what serve needs besides, in the same list
