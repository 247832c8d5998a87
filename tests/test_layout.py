"""One direction (STYLE.md): services/, cache/ and sandbox/ never import streamlit; the UI never
imports httpx (vendor calls happen in the worker, through services/)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _files(*areas: str) -> list[Path]:
    return sorted(f for area in areas for f in
                  ([ROOT / area] if area.endswith(".py") else (ROOT / area).rglob("*.py")))


@pytest.mark.parametrize("path", _files("services", "cache", "sandbox"), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_backend_does_not_import_streamlit(path: Path) -> None:
    assert "streamlit" not in _imports(path)


@pytest.mark.parametrize("path", _files("pages", "ui", "app.py", "dashboard.py"),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_ui_does_not_import_httpx(path: Path) -> None:
    assert "httpx" not in _imports(path)
