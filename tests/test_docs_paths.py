"""The docs cite only what exists (issue 19: `opsdash --help` cited a missing ARCHITECTURE.md, and
docs/qasida-paths.md a missing file).

In README.md and docs/*.md:
- every relative link `[text](path)` names a file or folder of the repository;
- every `code` span, and every path in the prose, that looks like a repository path (its first part is a top-level file or folder of the
  repository, e.g. `figures/stored.py`, `bench/`, `.streamlit/config.toml`) exists; `path.py:42` and
  `path.py::name` cite the file; a glob (`large_x{F}.db`, `*.py`) or a placeholder is not a path;
- every `opsdash COMMAND` in code (spans and blocks) is a command of cli.py, and each `--option` written right
  after it is one of that command's options.
And the CLI's own help cites no file the repository lacks.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
TOP = {p.name for p in ROOT.iterdir() if p.name not in (".git", ".venv")}
# files a user creates (opsdash.toml, .streamlit/secrets.toml, data/): cited by the docs, ignored by git
USER_FILES = {line.strip().strip("/") for line in (ROOT / ".gitignore").read_text().splitlines()
              if line.strip() and not line.startswith("#") and "*" not in line}

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
PROSE_PATH = re.compile(r"(?<![\w/.:-])(\.?[A-Za-z_][\w-]*(?:/[\w.-]+)+/?)")
MD_NAME = re.compile(r"(?<![\w/.-])([\w.-]+\.md)\b")  # a bare document name: beside the doc or at the top
PATHLIKE = re.compile(r"^\.?[A-Za-z0-9_][\w.-]*(/[\w.-]+)*/?$")
COMMAND = re.compile(r"(?:^|[\s/`(])opsdash ([a-z][a-z-]*)((?:[ \t]+[^\s|;&)`]+)*)")


def _ids(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _code(text: str) -> list[str]:
    """Inline code spans and fenced blocks (fenced blocks first taken out, so their backticks are not spans)."""
    blocks = FENCE.findall(text)
    return [*blocks, *SPAN.findall(FENCE.sub("", text))]


def _repo_path(span: str) -> str | None:
    """The repository path a code span cites, or None when it does not look like one."""
    span = re.split(r"::|:(?=\d)", span.strip())[0]
    if not PATHLIKE.match(span) or "/" not in span and not span.endswith((".py", ".md", ".toml")):
        return None
    return span if span.split("/")[0] in TOP else None


@pytest.mark.parametrize("doc", DOCS, ids=_ids)
def test_relative_links_exist(doc: Path) -> None:
    missing = []
    for target in LINK.findall(doc.read_text()):
        if re.match(r"^[a-z]+:|^#", target):
            continue
        path = target.split("#")[0]
        if path and not (doc.parent / path).exists():
            missing.append(target)
    assert missing == []


def _prose(text: str) -> str:
    """The text without fenced blocks, code spans and link targets."""
    return LINK.sub("", SPAN.sub(" ", FENCE.sub("", text)))


def _cited_paths(text: str) -> set[str]:
    spans = SPAN.findall(FENCE.sub("", text))
    words = [w.rstrip(".") for w in PROSE_PATH.findall(_prose(text))]
    return {p for candidate in (*spans, *words) if (p := _repo_path(candidate)) and p.strip("/") not in USER_FILES}


@pytest.mark.parametrize("doc", DOCS, ids=_ids)
def test_code_and_prose_paths_exist(doc: Path) -> None:
    assert sorted(p for p in _cited_paths(doc.read_text()) if not (ROOT / p).exists()) == []


@pytest.mark.parametrize("doc", DOCS, ids=_ids)
def test_named_documents_exist(doc: Path) -> None:
    """`ARCHITECTURE.md` alone (docs/deploy.md cited it twice; it is not in the repository)."""
    names = set(MD_NAME.findall(FENCE.sub("", doc.read_text())))
    assert sorted(n for n in names if not (doc.parent / n).exists() and not (ROOT / n).exists()) == []


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("doc", DOCS, ids=_ids)
def test_opsdash_commands_and_options_exist(doc: Path) -> None:
    commands, wrong = _commands(), []
    for code in _code(doc.read_text()):
        for name, rest in COMMAND.findall(code):
            if name not in commands:
                wrong.append(f"opsdash {name}")
                continue
            options = {o for a in commands[name]._actions for o in a.option_strings}
            if name == "alerts":  # its options belong to actions/alerts_cli.py (checked there)
                continue
            wrong += [f"opsdash {name} {opt}" for opt in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest)
                      if opt not in options]
    assert wrong == []


def test_the_cli_help_cites_only_existing_files() -> None:
    texts = [cli.build_parser().format_help(), *(p.format_help() for p in _commands().values())]
    cited = {m for text in texts for m in re.findall(r"[\w./-]+\.(?:md|py|toml)\b", text)}
    assert sorted(c for c in cited if not (ROOT / c).exists()) == []


def test_the_checks_find_what_they_look_for() -> None:
    """The patterns on a made-up doc: a missing path, command and option are found, real ones pass."""
    text = ("See [gone](docs/nowhere.md), `store/nothing.py:12`, `figures/summaries.py::read`, `quaderno/open`,\n"
            "and (services/qasida/paging.py), seeds/003 line 5, `.streamlit/secrets.toml`, `/webhooks/upwell`.\n"
            "```bash\nopsdash demo --port 1 && opsdash nosuch\n```\n`opsdash worker --twice`\n")
    assert [t for t in LINK.findall(text) if not (ROOT / t).exists()] == ["docs/nowhere.md"]
    assert sorted(_cited_paths(text)) == ["figures/summaries.py", "services/qasida/paging.py", "store/nothing.py"]
    found = [(n, r.strip()) for code in _code(text) for n, r in COMMAND.findall(code)]
    assert found == [("demo", "--port 1"), ("nosuch", ""), ("worker", "--twice")]
