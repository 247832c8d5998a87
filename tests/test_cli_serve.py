"""`opsdash serve`: refuses an unusable configuration with a clear message; runs Streamlit for production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import serve
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
WEBHOOKS = {"opsdash_webhook_user": "ops", "opsdash_webhook_password": "s3cret-webhook-pass"}
QARGO = {"qargo_base_url": "https://api.qargo.example", "qargo_client_id": "id", "qargo_client_secret": "sec"}
SETTING_NAMES = ("QARGO_", "QUADERNO_", "QASIDA_", "CARGOBASE_", "OPSDASH_WEBHOOK_")


def settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, opsdash_db=tmp_path / "data" / "ops.db", **values)  # type: ignore[call-arg]


def test_a_usable_configuration_has_no_problems(tmp_path: Path) -> None:
    assert serve.problems(settings(tmp_path, **QARGO, **WEBHOOKS)) == []


def test_no_vendor_configured(tmp_path: Path) -> None:
    found = serve.problems(settings(tmp_path, **WEBHOOKS))
    assert len(found) == 1 and found[0].startswith("no vendor configured")


@pytest.mark.parametrize("values, expected", [
    ({}, ["OPSDASH_WEBHOOK_USER is missing", "OPSDASH_WEBHOOK_PASSWORD is missing"]),
    ({"opsdash_webhook_user": "ops", "opsdash_webhook_password": ""}, ["OPSDASH_WEBHOOK_PASSWORD is missing"]),
    ({"opsdash_webhook_user": "  ", "opsdash_webhook_password": "x"}, ["OPSDASH_WEBHOOK_USER is missing"]),
])
def test_webhook_credentials_missing_or_empty(tmp_path: Path, values: dict[str, str], expected: list[str]) -> None:
    found = serve.problems(settings(tmp_path, **QARGO, **values))
    assert [f[: len(e)] for f, e in zip(found, expected, strict=True)] == expected


def test_a_vendor_with_a_base_url_but_no_credentials(tmp_path: Path) -> None:
    found = serve.problems(settings(tmp_path, qargo_base_url="https://api.qargo.example",
                                    cargobase_base_url="ftp://cargobase.example", **WEBHOOKS))
    assert found == ["qargo is configured (base URL set) but QARGO_CLIENT_ID is missing or empty",
                     "CARGOBASE_BASE_URL is not an http(s) URL"]


def test_an_unwritable_database_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    found = serve.problems(Settings(opsdash_db=blocker / "ops.db", **QARGO, **WEBHOOKS))  # type: ignore[arg-type]
    assert found == [f"OPSDASH_DB: cannot create or write the folder {blocker}"]


def test_serve_runs_streamlit_with_production_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, list[str], dict[str, str]]] = []
    monkeypatch.setattr(os, "execve", lambda path, argv, env: calls.append((path, argv, env)))
    serve.serve(settings(tmp_path, **QARGO, **WEBHOOKS), "127.0.0.1", 8600)
    (path, argv, env), = calls
    assert path == sys.executable
    assert argv[:5] == [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")]
    flags = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert flags == {"--server.address": "127.0.0.1", "--server.port": "8600", "--server.headless": "true",
                     "--server.fileWatcherType": "none", "--server.runOnSave": "false",
                     "--runner.postScriptGC": "false", "--browser.gatherUsageStats": "false",
                     "--client.showErrorDetails": "none"}  # issue 22: no stack traces to browsers
    assert env["OPSDASH_DB"] == str(tmp_path / "data" / "ops.db")


def test_config_toml_keeps_production_settings() -> None:
    import tomllib

    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert (server["fileWatcherType"], server["runOnSave"], server["headless"]) == ("none", False, True)
    assert ".venv" in server["folderWatchBlacklist"]
    assert tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["runner"]["postScriptGC"] is False
    assert tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["client"]["showErrorDetails"] == "none"


def test_cli_refuses_with_every_problem_and_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_NAMES)}
    env |= {"PYTHONPATH": str(ROOT), "OPSDASH_DB": str(tmp_path / "ops.db"), "OPSDASH_WEBHOOK_USER": "ops",
            "OPSDASH_WEBHOOK_PASSWORD": ""}
    done = subprocess.run([sys.executable, "-m", "cli", "serve", "--port", "8999"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "no vendor configured" in done.stderr
    assert "\n  - OPSDASH_WEBHOOK_PASSWORD is empty, blank or unset" in done.stderr  # the start-up check's line
    assert "Traceback" not in done.stderr


def test_the_packaged_streamlit_config_is_the_checkouts() -> None:
    """ui/streamlit-config.toml (what the wheel carries) is .streamlit/config.toml, one file."""
    assert serve.STREAMLIT_CONFIG.read_bytes() == (ROOT / ".streamlit" / "config.toml").read_bytes()


def test_streamlit_env_carries_the_config_to_another_folder(tmp_path: Path) -> None:
    import tomllib

    from streamlit import config as st_config

    env = serve.streamlit_env(tmp_path, {"STREAMLIT_THEME_BASE_RADIUS": "0"})
    assert env["STREAMLIT_SERVER_MAX_UPLOAD_SIZE"] == "5"
    assert env["STREAMLIT_RUNNER_POST_SCRIPT_GC"] == "false"
    assert env["STREAMLIT_THEME_LIGHT_PRIMARY_COLOR"] == "#1d5fbf"
    assert env["STREAMLIT_THEME_DARK_CHART_CATEGORICAL_COLORS"].startswith('["#6ea8fe", "#ffb454"')
    assert env["STREAMLIT_SERVER_FOLDER_WATCH_BLACKLIST"] == ".venv data tests bench"
    assert "STREAMLIT_THEME_BASE_RADIUS" not in env  # set already: left alone
    options, ours = st_config._config_options_template, dict(serve._options(tomllib.loads(
        serve.STREAMLIT_CONFIG.read_text())))
    assert {options[key].env_var for key in ours} == {*env, "STREAMLIT_THEME_BASE_RADIUS"}  # Streamlit's own names
    assert {key for key in ours if options[key].multiple} == set(serve._MULTIPLE)


def test_a_folder_with_its_own_streamlit_config_keeps_it(tmp_path: Path) -> None:
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "config.toml").write_text("[theme]\nbase = 'dark'\n")
    assert serve.streamlit_env(tmp_path, {}) == {}
