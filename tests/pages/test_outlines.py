"""Pages are outlines (issue 19, STYLE.md "Pages are outlines"): none over 100 lines; logic lives in ui/."""

from __future__ import annotations

from pathlib import Path

import pytest

PAGES = sorted((Path(__file__).resolve().parents[2] / "pages").glob("*.py"))


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_a_page_is_under_100_lines(page: Path) -> None:
    assert len(page.read_text(encoding="utf-8").splitlines()) < 100
