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


# services -> cache -> actions -> ui/pages: no arrow points back up.
_ABOVE = {"services": {"cache", "actions", "ui", "pages", "streamlit"},
          "cache": {"actions", "ui", "pages", "streamlit"},
          "actions": {"ui", "pages", "streamlit"}}


@pytest.mark.parametrize("path", _files("services", "cache", "actions"), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_layer_imports_one_above_it(path: Path) -> None:
    layer = path.relative_to(ROOT).parts[0]
    assert not (_imports(path) & _ABOVE[layer])


def _module_graph(package: str) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in _files(package):
        mod = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                deps.add(node.module)
                deps |= {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
        graph[mod] = deps
    return {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}


def test_cache_modules_import_each_other_in_one_direction() -> None:
    graph = _module_graph("cache")
    cycles = sorted((a, b) for a, deps in graph.items() for b in deps if a < b and a in graph.get(b, set()))
    assert cycles == []
