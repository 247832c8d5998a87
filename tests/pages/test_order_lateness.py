"""Late per side and expected late on the Overview and the Orders page (issue 18 points 1 and 11).

On the pages' seeded data (tests/pages/conftest.py) two rows are changed by hand: transport order Q2 (SO-1,
IN_TRANSIT, planned in 2 days) gets an ETA 4 days out, so it is expected late; ERP order S2 (SO-2, no
transport) gets a promised date 5 days ago while Qasida lists it as not fulfilled, so it is late on the ERP side.
"""

from __future__ import annotations

from pathlib import Path

from store.db import connect
from tests.pages.conftest import LATE_ORDERS, day, run_page
from ui import format as fmt


def _expected_late_and_erp_late(path: Path) -> None:
    db = connect(path)
    db.execute("UPDATE qargo_orders SET eta_date = ? WHERE order_id = 'Q2'", [day(4)])
    db.execute("UPDATE qasida_customer_orders SET delivery_date = ?, not_fulfilled = 1 WHERE order_id = 'S2'",
               [day(-5)])  # autocommit (store.db.connect), on either database
    db.close()


def test_the_overview_shows_expected_late_beside_late_and_counts_the_erp_side(seeded_db: Path) -> None:
    _expected_late_and_erp_late(seeded_db)
    at = run_page("pages/overview.py")
    assert not at.exception
    [late] = [m for m in at.metric if m.label == "Late orders"]
    assert late.value == str(LATE_ORDERS + 1)  # R-1 (transport) and SO-2 (ERP)
    assert late.delta == "1 expected late"  # SO-1: ETA in 4 days, plan in 2


def test_the_orders_page_filters_late_per_side_and_expected_late(seeded_db: Path) -> None:
    _expected_late_and_erp_late(seeded_db)
    at = run_page("pages/orders.py")
    assert not at.exception
    columns = list(at.dataframe[0].value.columns)
    assert columns.index("eta_date") == columns.index("delivery_date") + 1  # the plan beside the ETA
    at.selectbox(key="orders.lateness").set_value("Late on the ERP side").run()
    table = at.dataframe[0].value
    assert (list(table["order_number"]), list(table["late_side"])) == (["SO-2"], ["ERP"])
    at.selectbox(key="orders.lateness").set_value("Late on the transport side").run()
    assert list(at.dataframe[0].value["order_number"]) == ["R-1"]
    at.selectbox(key="orders.lateness").set_value("Expected late (ETA after the plan)").run()
    table = at.dataframe[0].value
    assert list(table["order_number"]) == ["SO-1"]
    assert (table["delivery_date"].iloc[0], table["eta_date"].iloc[0]) == (fmt.day(day(2)), fmt.day(day(4)))
