"""An expired cursor in Quaderno's open-set read (issue 22): the listing restarts from its first page, as the
invoice listing does, instead of failing the run as bad input ("Fix the input"); twice in a row fails the run
naming Quaderno's cursor, not the user."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlite_utils import Database

from tests.sync.test_quaderno_open import Server, invoice, run, state_of, store

# seeds/001 lines 107-108: 422 Unprocessable Entity, "cannot process for the record in question"
EXPIRED = httpx.Response(422, json={"error": "created_before 4 does not reference a record that can be paged from"})


class Expiring(Server):
    """Answers the first `times` requests that carry created_before with the 422 of an expired cursor."""

    def __init__(self, *args: object, times: int) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.times = times

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.times and "created_before" in request.url.params:
            self.times -= 1
            self.requests.append(request)
            return EXPIRED
        return super().__call__(request)


def test_an_expired_cursor_restarts_the_open_listing_from_its_first_page(db: Database, db_path: Path | str) -> None:
    store(db, invoice(1, "outstanding", 6000), invoice(3, "late", 3600))
    server = Expiring([invoice(1, "paid", 6000, [6000]), invoice(3, "late", 3600)], times=1)
    result = run(db, db_path, server)
    assert result.ok, result.error
    assert state_of(db) == {"1": ("paid", 0), "3": ("late", 3600)}
    restarted = [r for r in server.requests if "created_before" not in r.url.params and "state" in r.url.params]
    assert len(restarted) == 1  # the one listing that met the expired cursor, read again from its first page


def test_a_cursor_expired_twice_fails_the_run_naming_quaderno_not_the_input(db: Database, db_path: Path | str) -> None:
    store(db, invoice(1, "outstanding", 6000))
    server = Expiring([invoice(1, "paid", 6000, [6000])], times=5)
    # 150 newer late invoices: the restarted listing needs a second page, asked with created_before
    server.docs.update({i: invoice(i, "late", 100) for i in range(2, 152)})
    result = run(db, db_path, server)
    assert not result.ok
    assert "Fix the input" not in (result.error or "")
    assert "expired the page cursor of the open" in (result.error or "")
