"""The figures behind the Overview's five answers (issue 21), each against values computed by hand: what we owe
carriers and suppliers, lead times (product, else warehouse, else the default) deciding "runs out before the next
delivery", and freshness per vendor."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlite_utils import Database

from actions.lead_times import save_lead_times
from actions.roles import Actor, PermissionDenied
from figures import kpis, lead_times
from figures.freshness import by_vendor
from services.settings import Settings
from store.db import iso
from store.queries import query_dataset
from tests.conftest import NOW
from tests.figures.stock_world import stock_world
from tests.pages.conftest import NOW as PAGES_NOW
from tests.pages.conftest import seed

OPERATOR, VIEWER = Actor("ops", "operator"), Actor("eve", "viewer")
S = iso(NOW)


# --- "How much do we owe carriers?" ------------------------------------------------------------------------

def test_carriers_and_suppliers_are_owed_apart(db: Database) -> None:
    seed(db)  # Upwell U1 70.00 USD open (U2 deleted, U3 paid), Cargobase CB-1 without amount, Qasida L1 300.10 EUR
    carriers = kpis.owed_to(db, PAGES_NOW, "carriers")
    suppliers = kpis.owed_to(db, PAGES_NOW, "suppliers")
    assert (carriers.outstanding, carriers.invoices, carriers.without_amount) == ({"USD": Decimal("70.00")}, 2, 1)
    assert (suppliers.outstanding, suppliers.invoices, suppliers.without_amount) == ({"EUR": Decimal("300.10")}, 1, 0)
    # the two add up to the payables figure, currency by currency
    assert kpis.payables(db, PAGES_NOW).outstanding == {**carriers.outstanding, **suppliers.outstanding}


def test_a_source_filter_narrows_each_payee() -> None:
    assert kpis.payee_filters({"source__in": ["qasida", "quaderno"]}, "carriers") == {"source__in": []}
    assert kpis.payee_filters({"source__in": ["cargobase"]}, "carriers") == {"source__in": ["cargobase"]}
    assert kpis.payee_filters(None, "suppliers") == {"source__in": ["qasida"]}


# --- "What stock runs out before its next delivery?" -------------------------------------------------------

def _stock(db: Database) -> None:
    """Bolt in warehouses 1 and 2, Nut in 1 and 2; 30 days of demand: Bolt 3 a day in each, Nut 1 a day in 1."""
    stock_world(db, order_day="2025-03-05", synced_at=S)


def _runs_out(db: Database) -> dict[tuple[str, str], tuple[float | None, float | None, int | None]]:
    rows = query_dataset(db, "stock_levels", now=NOW).rows
    return {(r["warehouse"], r["product"]): (r["days_of_cover"], r["lead_time_days"],
                                             r["runs_out_before_next_delivery"]) for r in rows}


def test_the_default_lead_time_is_seven_days(db: Database) -> None:
    _stock(db)
    assert lead_times.rows(db)[0]["warehouse"] == "" and lead_times.rows(db)[0]["lead_time_days"] == 7.0
    assert _runs_out(db) == {
        ("Brno", "Bolt"): (4.0, 7.0, 1),    # 12 / 3 a day = 4 days < 7
        ("Praha", "Bolt"): (8.0, 7.0, 0),   # 24 / 3 = 8 days: lasts until the delivery
        ("Brno", "Nut"): (6.0, 7.0, 1),     # 6 / 1 = 6 days < 7
        ("Praha", "Nut"): (None, 7.0, 0),   # no demand in Praha: nothing is used up
    }
    assert kpis.stock_summary(db, NOW).runs_out_before_next_delivery == 2


def test_a_product_lead_time_wins_over_the_warehouse_which_wins_over_the_default(db: Database) -> None:
    _stock(db)
    # Praha: 10 days for everything; the default: 5 days; Bolt's own lead time: 3 days everywhere.
    assert save_lead_times(db, OPERATOR, [{"warehouse": "", "lead_time_days": 5},
                                          {"warehouse": "Praha", "lead_time_days": 10}], now=NOW) == 2
    db.execute("INSERT INTO reorder_levels VALUES ('BOLT', '', 10, 3, ?, 'test')", [S])
    assert _runs_out(db) == {
        ("Brno", "Bolt"): (4.0, 3.0, 0),    # 4 days of cover, its own 3 days: arrives in time
        ("Praha", "Bolt"): (8.0, 3.0, 0),
        ("Brno", "Nut"): (6.0, 5.0, 0),     # the default, now 5 days: 6 days of cover last
        ("Praha", "Nut"): (None, 10.0, 0),  # Praha's 10 days
    }
    assert [(r["warehouse"], r["lead_time_days"], r["updated_by"]) for r in lead_times.rows(db)] == [
        ("", 5.0, "ops"), ("02", 10.0, "ops")]


def test_bad_lead_times_are_named_and_nothing_is_saved(db: Database) -> None:
    _stock(db)
    with pytest.raises(lead_times.LeadTimeError) as caught:
        save_lead_times(db, OPERATOR, [{"warehouse": "Praha", "lead_time_days": -1},
                                       {"warehouse": "Wien", "lead_time_days": 3},
                                       {"warehouse": "Praha", "lead_time_days": None}], now=NOW)
    assert caught.value.problems == [
        "row 1: lead_time_days '-1' must be zero or more",
        "row 2: warehouse 'Wien' is not a known warehouse number or name",
        "row 3: lead_time_days is missing",
        "the row for every warehouse (warehouse blank) is the default: keep it"]
    assert lead_times.rows(db)[0]["lead_time_days"] == 7.0  # unchanged
    with pytest.raises(PermissionDenied):
        save_lead_times(db, VIEWER, [{"warehouse": "", "lead_time_days": 1}], now=NOW)


# --- "Is the data fresh?" -------------------------------------------------------------------------------------

def _run(db: Database, vendor: str, resource: str, status: str, minutes: int, error: str | None = None) -> None:
    db["sync_runs"].insert({"vendor": vendor, "resource": resource, "status": status, "error": error,
                            "started_at": iso(NOW - timedelta(minutes=minutes + 1)),
                            "finished_at": iso(NOW - timedelta(minutes=minutes))})


def test_each_vendor_in_one_state_with_the_moment_it_is_told_from(db: Database) -> None:
    _run(db, "quaderno", "invoices", "ok", 2)
    _run(db, "quaderno", "contacts", "ok", 50)
    # Qasida: claims ok 3 h ago, then failing from 70 min ago on (two failed runs); stock fine 1 min ago.
    _run(db, "qasida", "claims", "ok", 180)
    _run(db, "qasida", "claims", "error", 70, "Qasida is unavailable")
    _run(db, "qasida", "claims", "error", 10, "Qasida is unavailable")
    _run(db, "qasida", "stock_cards", "ok", 1)
    _run(db, "cargobase", "invoices", "ok", 90)  # expected every 60 min: stale
    db["webhook_events"].insert({"source": "upwell", "event_id": "e1", "received_at": iso(NOW - timedelta(minutes=4)),
                                 "outcome": "accepted"})
    settings = Settings(qargo_base_url=None, quaderno_base_url="http://q", qasida_base_url="http://a",
                        cargobase_base_url="http://c", opsdash_webhook_user="u", opsdash_webhook_password="p")
    found = {v.vendor: (v.state, v.since, v.pushed) for v in by_vendor(db, NOW, settings)}
    assert found == {
        "qargo": ("not configured", None, False),
        "quaderno": ("ok", iso(NOW - timedelta(minutes=2)), False),  # the newest sync (contacts are not stale)
        "qasida": ("failing", iso(NOW - timedelta(minutes=70)), False),  # the first failure after the last success
        "cargobase": ("stale", iso(NOW - timedelta(minutes=90)), False),
        "upwell": ("ok", iso(NOW - timedelta(minutes=4)), True),
    }
