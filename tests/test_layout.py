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


# Issue 19: `opsdash worker` ran `import ui.data` and crashed on an installed copy (ui was not installed);
# below the UI, it must not import the UI at all.
def _function_imports(path: Path, function: str) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
    names: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_worker_command_does_not_import_the_ui_in_its_source() -> None:
    assert not _function_imports(ROOT / "cli.py", "cmd_worker") & {"ui", "pages", "streamlit", "app", "dashboard"}
    assert not _imports(ROOT / "serve.py") & {"ui", "pages", "streamlit", "app", "dashboard"}


def test_the_worker_command_runs_without_loading_the_ui(tmp_path: Path) -> None:
    """A real `opsdash worker --once` pass; afterwards no module of ui/, pages/ or streamlit is loaded."""
    import os
    import subprocess
    import sys

    probe = ("import sys, cli; code = cli.main(['worker', '--once']); "
             "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('ui', 'pages', 'streamlit')); "
             "print('LOADED', loaded); sys.exit(code)")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_BASE_URL")}
    env |= {"PYTHONPATH": str(ROOT), "OPSDASH_DB": str(tmp_path / "ops.db")}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout
    assert "opsdash worker: one pass, 0 jobs run" in done.stdout


def test_the_worker_registers_every_summary_the_pages_read() -> None:
    """The pages' summaries are registered by cache/page_summaries.py, which the worker imports: every builder
    ui/data.py and ui/details.py cache is one of them, under the same name."""
    from cache import page_summaries, summaries

    below = {name for name, fn in summaries.BUILDERS.items() if fn.__module__ == page_summaries.__name__}
    import ui.data
    import ui.details

    cached = {page_summaries.name_of(obj.__wrapped__) for module in (ui.data, ui.details)
              for obj in vars(module).values() if callable(getattr(obj, "__wrapped__", None))}
    assert {"cache.page_summaries.order_kpis", "cache.page_summaries.explained_page"} <= cached
    assert len(below) == 17 and below <= cached  # every builder below is cached for a page
    # a summary builder defined in the UI would be one the standalone worker cannot rebuild
    assert [name for name, fn in summaries.BUILDERS.items() if fn.__module__.split(".")[0] in ("ui", "pages")] == []
