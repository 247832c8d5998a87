"""Every page file, through the router: runs cleanly on the seeded and on an empty database.

New pages are picked up from pages/*.py automatically."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pages.conftest import ROOT, run_page

PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
# Pages that probe the vendors live (Vendors) have no cached data to explain when empty.
NO_EMPTY_STATE = {"pages/vendors.py"}


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_seeded_data(seeded_db: Path, page: str) -> None:
    at = run_page(page)
    assert not at.exception, at.exception
    assert at.title, f"{page} shows no title"


@pytest.mark.parametrize("page", PAGES)
def test_page_explains_an_empty_database(empty_db: Path, page: str) -> None:
    at = run_page(page)
    assert not at.exception, at.exception
    if page not in NO_EMPTY_STATE:
        explained = " ".join(e.value for e in [*at.info, *at.warning, *at.error])
        assert "configure" in explained.lower() or "synced" in explained.lower(), explained


def test_every_page_is_routed() -> None:
    router = (ROOT / "dashboard.py").read_text()
    assert all(f'"{page}"' in router for page in PAGES)
