"""The Overview's five answers (issue 21) on the seeded database, as a manager reads them, and the links that
open the Orders and Stock lists filtered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from figures.freshness import VendorFreshness
from tests.pages.conftest import run_page
from ui.answers import freshness_words


def _markdown(at) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(m.value for m in at.markdown)


def test_the_five_answers_in_words(seeded_db: Path) -> None:
    at = run_page("pages/overview.py")
    assert not at.exception
    text = _markdown(at)
    # Others owe us: I1 1,000.50 + I2 200.00 + claim C1 50.005 EUR; I3 123.45 USD. More than 60 days overdue:
    # only C1 (due 100 days ago); I2 is 45 days overdue.
    assert "| EUR | 1,250.505 | 50.005 |" in text and "| USD | 123.45 | none |" in text
    # We owe carriers Upwell U1 70.00 USD (and Cargobase CB-1, no amount), suppliers Qasida L1 300.10 EUR.
    assert "| EUR | — | 300.10 |" in text and "| USD | 70.00 | — |" in text
    notes = " ".join(c.value for c in at.caption)
    assert "Plus 1 Cargobase invoice with no amount (Cargobase sends none)." in notes
    # R-1 is late (planned delivery passed, in transit); no ETA after a plan
    assert "**1** order is late, **0** expected late." in text
    # K1 Pallet wrap: 5 left, 1 a day, lead time 7 days
    assert "**1** of 3 stock items runs out before the next delivery." in text
    fresh = next(m.value for m in at.markdown if m.value.startswith("**Data:**"))
    # Qargo orders synced 5 min ago; Quaderno's last run failed 3 min ago; Qasida's stock 2 h ago (stale after
    # 30 min); Cargobase never synced; Upwell's last accepted event 9 min ago.
    for words in ("Qargo 5 min ago", "Quaderno failing since", "Qasida out of date, last synced 2 hr ago",
                  "Cargobase not synced yet", "Upwell last event 9 min ago"):
        assert words in fresh.replace("\\", ""), fresh


def test_links_open_the_lists_filtered(seeded_db: Path) -> None:
    at = run_page("pages/overview.py")
    links = {link.proto.label: link.proto.page for link in at.get("page_link")}
    assert set(links) >= {"Open the late orders", "Open those items"}
    assert "Open the expected-late orders" not in links  # none is expected late
    orders = run_page_with_query("pages/orders.py", "late")
    assert orders.selectbox(key="orders.lateness").value == "Late (either side)"
    expected = run_page_with_query("pages/orders.py", "expected-late")
    assert expected.selectbox(key="orders.lateness").value == "Expected late (ETA after the plan)"
    stock = run_page_with_query("pages/stock.py", "runs-out")
    assert stock.selectbox(key="stock.show").value == "Runs out before next delivery"
    assert list(stock.dataframe[0].value["product"]) == ["Pallet wrap"]  # K1, the one running out


def run_page_with_query(page: str, show: str):  # type: ignore[no-untyped-def]
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30)
    at.query_params["show"] = show
    at.switch_page(page)
    return at.run()


def test_freshness_words_for_each_state() -> None:
    now = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)

    def words(state: str, minutes: int | None, pushed: bool = False) -> str:
        since = None if minutes is None else (now - timedelta(minutes=minutes)).isoformat()
        return freshness_words(VendorFreshness("qasida", state, since, (), pushed), now)

    assert words("ok", 2) == "Qasida 2 min ago"
    assert words("never synced", None) == "Qasida not synced yet"
    assert words("not configured", None) == "Qasida not configured"
    assert words("stale", 180) == "Qasida out of date, last synced 3 hr ago"
    assert words("failing", 200).startswith("Qasida failing since ")
    assert words("ok", 1, pushed=True) == "Qasida last event 1 min ago"
