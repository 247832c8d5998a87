"""Actions in a real browser against `opsdash demo`: upload a batch, validate a tax ID, download an XLSX,
and a viewer sees no action buttons. Each wait is a poll with a deadline (<= 60 s)."""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from actions.order_file import template
from sandbox.world import World
from tests.e2e.conftest import Demo, rows, start_demo, stop_demo

pytestmark = pytest.mark.e2e
DEADLINE_S = 60


def poll(check: Callable[[], bool], deadline_s: float = DEADLINE_S, nudge: Callable[[], None] | None = None) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if check():
            return
        if nudge:
            nudge()
        time.sleep(0.5)
    raise TimeoutError(f"not done within {deadline_s} s")


def advance(demo: Demo) -> Callable[[], None]:
    def nudge() -> None:  # move the sandbox's business time on, so Qargo finishes processing uploads
        httpx.post(f"{demo.sandbox_url}/_admin/clock", json={"advance_seconds": 10}, timeout=10)
        httpx.post(f"{demo.sandbox_url}/_admin/tick", timeout=10)
    return nudge


def batch_csv(tmp: Path) -> Path:
    header, example = template("csv").decode().splitlines()[:2]
    code = World(seed=1).customers[0].code
    stamp = str(int(time.time()))
    rows = [example.replace("C00001", code).replace("SO-1001", f"SO-E2E-{stamp}-{i}") for i in range(2)]
    path = tmp / "orders.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def statuses(db: str) -> list[str]:
    return [r[0] for r in rows(db, "SELECT status FROM order_uploads")]


def count_invoices(db: str) -> int:
    return int(rows(db, "SELECT count(*) FROM quaderno_invoices")[0][0])


def test_operator_uploads_a_batch_and_sees_the_orders_complete(demo: Demo, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{demo.url}/upload")
    page.get_by_text("Download the template").wait_for()
    page.locator("input[type='file']").first.set_input_files(str(batch_csv(tmp_path)))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name="Confirm: upload 2 orders to Qargo").click()
    poll(lambda: len(statuses(demo.db)) == 2 and all(s == "COMPLETED" for s in statuses(demo.db)),
         nudge=advance(demo))
    # the fragment re-reads the job every 2 s: its outcome appears without a reload
    page.get_by_text("2 of 2 orders uploaded").wait_for(timeout=DEADLINE_S * 1000)
    assert page.get_by_text("Nothing has been sent yet").count() == 0  # the page moved on after confirming
    assert page.get_by_role("button", name=re.compile("^Confirm")).count() == 0
    # the same file again: Qargo answers DUPLICATE, and the page says so instead of "uploaded"
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name="Confirm: upload 2 orders to Qargo").click()
    poll(lambda: statuses(demo.db).count("DUPLICATE") == 2, nudge=advance(demo))
    page.get_by_text("0 of 2 orders uploaded, 2 duplicates").wait_for(timeout=DEADLINE_S * 1000)


def test_operator_validates_a_tax_id_and_sees_the_result(demo: Demo, page) -> None:  # type: ignore[no-untyped-def]
    customer = World(seed=1).customers[0]
    page.goto(f"{demo.url}/tax")
    page.get_by_role("tab", name="Validate tax IDs").click()
    page.get_by_label("Country", exact=True).fill(customer.vat_number[:2])
    page.get_by_label("Tax ID", exact=True).fill(customer.vat_number)
    page.get_by_role("button", name="Validate", exact=True).click()
    result = page.get_by_text(f"{customer.vat_number[2:]}:", exact=False).first
    result.wait_for(timeout=DEADLINE_S * 1000)
    said = result.inner_text().lower()
    # "valid" alone: "invalid", "malformed" or "unavailable" must fail this test.
    assert "valid" in said and not any(word in said for word in ("invalid", "malformed", "unavailable")), said


def test_a_tax_calculation_shows_at_once_in_the_history(demo: Demo, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{demo.url}/tax")
    page.get_by_label("To country", exact=True).fill("DE")
    page.get_by_label("Amount", exact=True).fill("1234.50")
    page.get_by_role("button", name="Calculate", exact=True).click()
    page.get_by_text("Why:").wait_for(timeout=DEADLINE_S * 1000)
    # the history's newest row is the one just made, its amount grouped and exact
    poll(lambda: "1,234.50 EUR" in " ".join(grid_column(page, "Amount")[:1]))


def test_outstanding_invoices_download_as_xlsx(demo: Demo, page) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    from jobs import jobs
    from store.schema import session

    with session(demo.db) as db:  # what "Refresh now" does: the demo's worker syncs the invoices
        for vendor in ("quaderno", "qasida"):
            jobs.enqueue(db, "sync", {"vendor": vendor}, "e2e", dedupe_key=f"refresh:{vendor}")
    poll(lambda: count_invoices(demo.db) > 0)
    page.goto(f"{demo.url}/invoices")
    page.get_by_text("Rows 1–").first.wait_for(timeout=DEADLINE_S * 1000)
    table = page.get_by_test_id("stDataFrame").first
    table.wait_for()
    picker = page.get_by_role("combobox", name="Format").first
    picker.click()
    page.keyboard.type("XLSX")
    page.keyboard.press("Enter")
    with page.expect_download() as info:
        page.get_by_test_id("stDownloadButton").filter(has_text="XLSX").first.click()
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert book.active.max_row > 1  # a header plus at least one invoice


def _orders_landed(demo: Demo) -> bool:
    """Both sides' first order syncs finished: a row alone may be a webhook's before the Qargo sync (then the sync's
    pages regroup the business orders under the grid on every rerun: seen on PostgreSQL, where it runs longer)."""
    done = rows(demo.db, "SELECT count(DISTINCT vendor) FROM sync_runs WHERE status = 'ok' AND ((vendor = 'qargo' "
                         "AND resource = 'orders') OR (vendor = 'qasida' AND resource = 'customer_orders'))")
    return bool(done[0][0] == 2)


@pytest.fixture(scope="module")
def synced_orders(demo: Demo) -> Demo:
    """The demo once its first order syncs have landed (business orders need both sides)."""
    poll(lambda: _orders_landed(demo), 120)
    return demo


@pytest.fixture(scope="module")
def own_orders_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A demo of its own, once its order syncs have landed. Its own: after the session demo's uploads and
    cancels (test_acting, the upload test) the first row's selection box was not hit at the grid position the
    selection test clicks (seen only in the full e2e sequence, not yet explained)."""
    demo = start_demo(tmp_path_factory.mktemp("orders-demo"))
    try:
        poll(lambda: _orders_landed(demo), 120)
        yield demo
    finally:
        stop_demo(demo)


def test_a_viewer_sees_no_action_buttons(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    viewer = start_demo(tmp_path, env={"OPSDASH_LOCAL_ROLE": "viewer"})
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{viewer.url}/upload")
        page.get_by_text("needs the operator role").wait_for(timeout=DEADLINE_S * 1000)
        assert page.locator("input[type='file']").count() == 0
        assert page.get_by_role("button", name="Confirm").count() == 0
        page.goto(f"{viewer.url}/tax")
        page.get_by_text("needs the operator role").wait_for(timeout=DEADLINE_S * 1000)
        assert page.get_by_role("button", name="Calculate").count() == 0
    finally:
        context.close()
        stop_demo(viewer)


def grid_column(page, column: int | str = 1) -> list[str]:  # type: ignore[no-untyped-def]
    """The texts of one column of the first data grid (its accessible cells; the grid draws on a canvas).

    `column` is the column's position or its header as shown ("Amount"): tables put their three most
    useful columns first (figures/words.py FIRST_COLUMNS), so a test names the column it reads."""
    if isinstance(column, str):
        column = page.evaluate("""(name) => { const h = Array.from(document.querySelectorAll(
            "[data-testid='stDataFrame'] [role='columnheader']")).find(e => e.textContent.trim() === name);
            return h ? h.getAttribute('aria-colindex') : '0'; }""", column)
    return page.evaluate(f"""() => Array.from(document.querySelectorAll(
        "[data-testid='stDataFrame'] [role='gridcell'][aria-colindex='{column}']")).map(e => e.textContent)""")


def details_text(page) -> str:  # type: ignore[no-untyped-def]
    """What the page shows below the "Order details" heading (empty when no order is selected)."""
    text = page.get_by_test_id("stMain").inner_text()
    return text.split("Order details", 1)[1] if "Order details" in text else ""


def settled_box(locator) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The locator's bounding box once it has stopped moving (the same box half a second apart): a caption or
    banner drawn above a grid late (freshness, "as of"), or a rerun redrawing it, moves it, and a click measured
    before that lands on another row or none (the selection test failed so in full parallel runs only)."""
    boxes = [locator.bounding_box()]
    time.sleep(0.5)  # the first comparison is half a second apart too

    def settled() -> bool:
        boxes.append(locator.bounding_box())
        return boxes[-1] == boxes[-2]

    poll(settled)
    return boxes[-1]


def select_row(page, row: int) -> None:  # type: ignore[no-untyped-def]
    """Tick the row's selection box (the grid's first, narrow column), once the grid has stopped moving."""
    box = settled_box(page.get_by_test_id("stDataFrame").first)
    page.mouse.click(box["x"] + 15, box["y"] + 35 * (row + 1) + 17)


def test_filtering_or_paging_never_rebinds_the_selected_order(own_orders_demo: Demo, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{own_orders_demo.url}/orders")
    page.get_by_test_id("stDataFrame").first.wait_for()
    poll(lambda: len(grid_column(page)) > 2)
    first, second = grid_column(page)[:2]
    select_row(page, 0)
    details = page.get_by_role("heading", name="Order details")
    with contextlib.suppress(PlaywrightTimeout):
        details.wait_for(timeout=20_000)
    if not details.is_visible():
        # Known, not yet explained: in full parallel runs a first click on the living demo's grid is
        # sometimes lost (no selection, no details); a user clicks again. What this test guards (filtering
        # or paging never binds the details to another order) is checked strictly below.
        select_row(page, 0)
    details.wait_for()
    poll(lambda: first in details_text(page))
    number = page.get_by_label(re.compile("order number", re.IGNORECASE)).first
    number.fill(second)  # now another order is the table's first row
    number.press("Enter")
    page.get_by_text("is not in this view").wait_for()
    poll(lambda: grid_column(page)[:1] == [second])
    assert page.get_by_role("heading", name="Order details").count() == 0  # no details or form for the other order
    number.fill("")
    number.press("Enter")
    page.get_by_role("heading", name="Order details").wait_for()  # the same order again, selected by its id
    poll(lambda: first in details_text(page))
    assert second not in details_text(page)
    page.get_by_role("button", name="Next").click()
    page.get_by_text("is not in this view").wait_for()
    assert page.get_by_role("heading", name="Order details").count() == 0
