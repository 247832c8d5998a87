"""One direction (STYLE.md, README "Layout"): the rooms stand on floors, pages -> ui -> actions -> jobs ->
(alerts, exports, sync, webhooks) -> figures -> store -> services, and no room imports one above it; nothing below
ui/ (nor sandbox/) imports streamlit, ui/ or pages/; the UI never imports httpx (vendor calls happen in the worker,
through services/); no top-level folder holds more than 30 % of the product's lines."""

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


@pytest.mark.parametrize("path", _files("services", "store", "figures", "sync", "webhooks", "jobs", "alerts", "exports",
                                        "actions", "sandbox"), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_backend_does_not_import_streamlit(path: Path) -> None:
    assert "streamlit" not in _imports(path)


@pytest.mark.parametrize("path", _files("pages", "ui", "app.py", "dashboard.py"),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_ui_does_not_import_httpx(path: Path) -> None:
    assert "httpx" not in _imports(path)


# The floors (issue 19, README "Layout"), top to bottom; a room imports only rooms on its own floor or below.
FLOORS: list[set[str]] = [{"pages"}, {"ui"}, {"actions"}, {"jobs"}, {"alerts", "exports", "sync", "webhooks"},
                          {"figures"}, {"store"}, {"services"}]
ROOMS = sorted(set().union(*FLOORS))
FLOOR = {room: level for level, rooms in enumerate(FLOORS) for room in rooms}
ABOVE = {room: {r for r in ROOMS if FLOOR[r] < FLOOR[room]} for room in ROOMS}
BELOW_UI = [r for r in ROOMS if FLOOR[r] > FLOOR["ui"]]


NOT_PRODUCT = {"tests", "bench", "docs", "build", ".venv", ".git"}


def _product_folders() -> set[str]:
    return {p.parent.name for p in ROOT.glob("*/*.py")} - NOT_PRODUCT


def test_every_top_level_product_folder_is_a_room_or_the_sandbox() -> None:
    assert _product_folders() - {"sandbox"} == set(ROOMS)


@pytest.mark.parametrize("path", _files(*ROOMS), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_room_imports_one_above_it(path: Path) -> None:
    """Function-level imports count too (ast.walk sees them)."""
    room = path.relative_to(ROOT).parts[0]
    assert not (_imports(path) & ABOVE[room])


@pytest.mark.parametrize("path", _files(*BELOW_UI, "sandbox"), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_below_the_ui_nothing_imports_the_ui(path: Path) -> None:
    assert not _imports(path) & {"ui", "pages", "streamlit", "app", "dashboard"}


def _room_graph() -> dict[str, set[str]]:
    return {room: {name for path in _files(room) for name in _imports(path) if name in ROOMS} - {room}
            for room in ROOMS}


def test_the_rooms_import_each_other_without_a_cycle() -> None:
    """Rooms on one floor may import each other, one way only: no cycle through any rooms."""
    graph, seen, done = _room_graph(), set[str](), set[str]()

    def visit(room: str, trail: tuple[str, ...]) -> None:
        assert room not in trail, f"cycle: {' -> '.join((*trail, room))}"
        if room in done:
            return
        for dep in sorted(graph[room]):
            visit(dep, (*trail, room))
        done.add(room)

    for room in ROOMS:
        visit(room, ())
    seen |= done
    assert seen == set(ROOMS)


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_no_top_level_folder_holds_more_than_30_percent_of_the_product() -> None:
    """Product: every .py outside tests/, bench/, docs/ (and the build and virtualenv folders)."""
    files = [p for p in ROOT.glob("*.py")] + [p for folder in _product_folders() for p in (ROOT / folder).rglob("*.py")]
    total = sum(_lines(p) for p in files)
    per_folder: dict[str, int] = {}
    for p in files:
        if len(p.relative_to(ROOT).parts) > 1:
            folder = p.relative_to(ROOT).parts[0]
            per_folder[folder] = per_folder.get(folder, 0) + _lines(p)
    assert total > 10_000  # the count found the product
    assert {f: round(100 * n / total) for f, n in per_folder.items() if n > 0.30 * total} == {}


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


@pytest.mark.parametrize("room", ROOMS)
def test_modules_of_a_room_import_each_other_in_one_direction(room: str) -> None:
    graph = _module_graph(room)
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
    """The pages' summaries are registered by figures/page_summaries.py, which the worker imports: every builder
    ui/data.py and ui/details.py cache is one of them, under the same name."""
    from figures import page_summaries, stored

    below = {name for name, fn in stored.BUILDERS.items() if fn.__module__ == page_summaries.__name__}
    import ui.data
    import ui.details

    cached = {page_summaries.name_of(obj.__wrapped__) for module in (ui.data, ui.details)
              for obj in vars(module).values() if callable(getattr(obj, "__wrapped__", None))}
    assert {"figures.page_summaries.order_kpis", "figures.page_summaries.explained_page"} <= cached
    # every builder below is cached for a page, but the passes the stock and invoice figures are folded from
    # (stored.nested)
    folded_from = {"figures.page_summaries.stock_groups", "figures.page_summaries.outstanding_groups"}
    assert len(below) == 21 and below - folded_from <= cached and not folded_from & cached
    # a summary builder defined in the UI would be one the standalone worker cannot rebuild
    assert [name for name, fn in stored.BUILDERS.items() if fn.__module__.split(".")[0] in ("ui", "pages")] == []
