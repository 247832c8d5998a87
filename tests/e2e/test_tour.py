"""A browser tour of every page, as a manager would see it: desktop 1440×900 and phone 390×844, light and dark.

Against `opsdash demo` (tests/e2e/conftest.py) once its first syncs have landed. Each page's visible text
(including the data grids' accessible cells) must not show "None", "nan", "NaT", a snake_case column header,
a Python repr, or a number of 5+ digits without grouping. Screenshots go to tests/e2e/artifacts/ (ignored by
git) for a person to look at. One browser context per viewport and theme; every wait is a poll with a deadline.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import psycopg
import pytest

from tests.e2e.conftest import Demo, rows

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).parent / "artifacts"
PAGES = ("", "orders", "invoices", "tax", "stock", "sync", "vendors", "upload", "audit", "alerts")  # "" = Overview
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
THEMES = ("light", "dark")
SETTLE_S = 30

FORBIDDEN = {
    "None": re.compile(r"\bNone\b"),
    "nan": re.compile(r"\bnan\b", re.IGNORECASE),
    "NaT": re.compile(r"\bNaT\b"),
    "Python repr": re.compile(r"<\w[\w.]* object at 0x|\b(?:Decimal|datetime|Timestamp)\(|\{'\w+': |\[\{'"
                              r"|\b[a-z]+(?:_[a-z]+)+\(\w+="),  # a call-like repr: receivable_overdue(days=30)
    # 5+ digits in a row that are not part of an identifier (SO-10023, DE811907980, #12345) or a date/time
    "ungrouped number": re.compile(r"(?<![\w#/:.,\-–])\d{5,}(?![\w\-/:])"),
}
SNAKE = re.compile(r"^[a-z]+(?:_[a-z0-9]+)+$")
# Raw ids where staff read (issue 21): the tour lists every one it finds, and the list must be empty.
RAW_IDS = {
    "UUID": re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
    "API path": re.compile(r"(?<![\w.])/(?:v1|api)/[\w/{}.-]+"),
    "vendor setting name": re.compile(r"(?<![\w./@-])(?:qargo|quaderno|qasida|cargobase|upwell)(?![\w.@/-])"),
    "warehouse number": re.compile(r"\bWH\d{3}\b"),
    "code name": re.compile(r"(?<![\w./@-])[a-z]+(?:_[a-z0-9]+)+(?![\w.@/-])"),
    # a setting's name (OPSDASH_TIMEZONE, QARGO_CLIENT_ID) is what staff type, so it may show
    "raw status": re.compile(r"\b(?!(?:OPSDASH|QARGO|QUADERNO|QASIDA|CARGOBASE|UPWELL)_)"
                             r"(?:REQUESTED|APPROVED|REJECTED|[A-Z]{2,}(?:_[A-Z]+)+)\b"),
    "wrong plural": re.compile(r"(?<![\d.,])1 (?:orders|invoices|items|rules|alerts|rows|levels|products)\b"),
}


def data_arrived(db: str) -> bool:
    tables = ("qargo_orders", "quaderno_invoices", "qasida_stock_cards")
    try:
        return all(rows(db, f"SELECT count(*) FROM {t}")[0][0] for t in tables)
    except (sqlite3.Error, psycopg.Error):  # tables appear with the first migration (a new SQLite file)
        return False


def wait_until(check, deadline_s: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise TimeoutError(f"not done within {deadline_s} s")


def settled(page) -> str:  # type: ignore[no-untyped-def]
    """The page's text once the script run has finished and the text stopped changing."""
    page.locator("h1").first.wait_for(timeout=SETTLE_S * 1000)
    last, deadline = None, time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        running = page.locator("[data-testid='stStatusWidget']").count() > 0
        text = visible_text(page)
        if not running and text == last:
            return text
        last = text
        time.sleep(0.4)
    return last or ""


def visible_text(page) -> str:  # type: ignore[no-untyped-def]
    """The main area's text plus every data grid's accessible cells (grids are drawn on a canvas)."""
    main = page.locator("[data-testid='stMain']").first.inner_text()
    main += "\n" + page.locator("[data-testid='stSidebar']").first.inner_text()  # the Sources picker, the menu
    grids = page.evaluate("""() => Array.from(document.querySelectorAll(
        "[data-testid='stDataFrame'] [role='columnheader'], [data-testid='stDataFrame'] [role='gridcell']"))
        .map(e => e.textContent).join('\\n')""")
    return main + "\n" + grids


def headers(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        "[data-testid='stDataFrame'] [role='columnheader'], [data-testid='stTable'] th"))
        .map(e => e.textContent.trim()).filter(t => t)""")


def content_height(page) -> int:  # type: ignore[no-untyped-def]
    """The page's full height: Streamlit scrolls inside its main block, not the document."""
    return int(page.evaluate("""() => Math.max(...Array.from(document.querySelectorAll(
        "[data-testid='stMain'], [data-testid='stAppViewContainer'], section.main")).map(e => e.scrollHeight),
        document.body.scrollHeight)"""))


def shoot(page, path: Path, viewport: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    """The whole page in one picture: the viewport grown to the content's height, then put back."""
    height = min(content_height(page), 12_000)
    page.set_viewport_size({"width": viewport["width"], "height": max(height, viewport["height"])})
    time.sleep(0.3)  # let the grids lay out their newly visible rows (a screenshot, not an assertion)
    page.screenshot(path=str(path))
    page.set_viewport_size(viewport)


def raw_ids(text: str) -> list[str]:
    """Every raw id in `text`, with its surroundings (what the tour reports)."""
    return [f"raw id ({what}): {m.group(0)!r} in …{text[max(0, m.start() - 40):m.end() + 40]!r}…"
            for what, pattern in RAW_IDS.items() for m in pattern.finditer(text)]


def problems(text: str, names: list[str]) -> list[str]:
    found = [f"{what}: {m.group(0)!r} in …{text[max(0, m.start() - 40):m.end() + 40]!r}…"
             for what, pattern in FORBIDDEN.items() for m in pattern.finditer(text)]
    found += raw_ids(text)
    found += [f"snake_case column header {h!r}" for h in names if SNAKE.match(h)]
    return found


@pytest.fixture(scope="module")
def synced(demo: Demo) -> Demo:
    wait_until(lambda: data_arrived(demo.db), 120)
    return demo


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_page_reads_as_a_product(synced: Demo, browser, viewport: str, theme: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme=theme)
    found: dict[str, list[str]] = {}
    try:
        page = context.new_page()
        page.set_default_timeout(SETTLE_S * 1000)
        for name in PAGES:
            page.goto(f"{synced.url}/{name}")
            text = settled(page)
            shoot(page, ARTIFACTS / f"{name or 'overview'}_{viewport}_{theme}.png", VIEWPORTS[viewport])
            issues = problems(text, headers(page))
            if "Traceback" in text or page.locator("[data-testid='stException']").count():
                issues.append("an exception is shown")
            if name == "" and viewport == "phone" and (tall := content_height(page)) > 3 * VIEWPORTS["phone"]["height"]:
                issues.append(f"the Overview is {tall / VIEWPORTS['phone']['height']:.1f} screens tall on a phone (at most 3)")
            if issues:
                found[name or "overview"] = issues
    finally:
        context.close()
    assert not found, "\n".join(f"{p}: {'; '.join(i[:5])}" for p, i in found.items())


def test_a_fresh_servers_first_visitor_on_a_deep_link_gets_the_dashboard(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    """Streamlit treats a `pages/` folder as a v1 multipage app until a session has run st.navigation:
    the first visitor of a new server, arriving by a link to /tax, must still get the router's chrome."""
    from tests.e2e.conftest import start_demo, stop_demo

    fresh = start_demo(tmp_path)
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    try:
        page = context.new_page()
        page.goto(f"{fresh.url}/tax")
        page.get_by_role("heading", name="Tax", exact=True).wait_for(timeout=SETTLE_S * 1000)
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("Sync & health").wait_for(timeout=SETTLE_S * 1000)  # the router's page titles
        assert sidebar.get_by_text("Filters").count() == 1  # and the shared sidebar filters
        assert sidebar.get_by_text("vendors", exact=True).count() == 0  # not the file names of pages/
    finally:
        context.close()
        stop_demo(fresh)
