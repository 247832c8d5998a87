"""The webhook receiver over real HTTP: auth, size limit, validation, idempotency, ordering."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from sandbox.server import free_port, serving
from services.settings import Settings
from store.queries import query_dataset
from store.schema import session
from tests.conftest import suite_database
from webhooks.webhooks import MAX_BODY_BYTES, AuthFailures, WebhookConfigError, webhook_app, webhook_routes

AUTH = ("hooks", "s3cret-hook-password")
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def upwell_event(event_id: str, op: str = "INSERT", updated: str = "2026-11-20T10:00:00", **new: Any) -> dict:
    image = {"id": "ci-1", "invoice_number": "CI-1001", "currency": "EUR", "total_amount": 250741,
             "total_tax_amount": "0", "balance": 250741, "carrier_id": "carrier-9", "status": "open",
             "due_date": "2026-12-01", "updated_at": updated, **new}
    payload = {"new": image, "old": None} if op != "DELETE" else {"new": None, "old": image}
    return {"id": event_id, "createdAt": updated, "updatedAt": updated, "status": "PENDING",
            "operation": op, "table": "carrier_invoices", "payload": payload}


def qargo_event(event_id: str, status: str, ts: str, order_id: str = "11111111-1111-1111-1111-111111111111") -> dict:
    return {"events": [{"timestamp": ts, "update": {"type": "Order", "id": event_id, "status": status}}],
            "order": {"id": order_id, "customer_reference_number": "SO-0000001",
                      "customer": {"name": "Falcon Chemicals Inc."}, "status": status, "stops": []}}


@pytest.fixture
def receiver(db_path: Path | str) -> Iterator[tuple[str, Path | str]]:
    """The receiver over the test's database (a SQLite file, or PostgreSQL with --db=postgresql)."""
    db = db_path
    settings = Settings(opsdash_db=db, opsdash_webhook_user=AUTH[0], opsdash_webhook_password=SecretStr(AUTH[1]))
    with serving(webhook_app(settings), "127.0.0.1", free_port()) as url:
        yield url, db


def rows(db: Path | str, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    with session(db) as conn:
        return [dict(r) for r in conn.query(sql, params or [])]


def outstanding_upwell(db: Path | str) -> list[str]:
    with session(db) as conn:
        page = query_dataset(conn, "invoices_outstanding", {"source": "upwell"}, now=NOW)
    return [row["invoice_number"] for row in page.rows]


def post(url: str, source: str, body: Any, auth: tuple[str, str] | None = AUTH) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{url}/webhooks/{source}", content=content, auth=auth,
                      headers={"content-type": "application/json"})


@pytest.mark.parametrize("auth", [None, ("hooks", "wrong"), ("other", AUTH[1])])
def test_forged_or_unauthenticated_delivery_is_refused_and_nothing_stored(receiver, auth) -> None:
    url, db = receiver
    response = post(url, "upwell", upwell_event("e1"), auth=auth)
    assert response.status_code == 401 and "Basic" in response.headers["www-authenticate"]
    assert rows(db, "SELECT count(*) AS n FROM carrier_invoices") == [{"n": 0}]
    assert rows(db, "SELECT count(*) AS n FROM webhook_events") == [{"n": 0}]  # a flood costs no storage


def test_oversized_body_is_413(receiver) -> None:
    url, db = receiver
    response = post(url, "upwell", b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}")
    assert response.status_code == 413
    assert rows(db, "SELECT count(*) AS n FROM carrier_invoices") == [{"n": 0}]


def test_bad_event_is_400_naming_the_field_and_stores_nothing(receiver) -> None:
    url, db = receiver
    response = post(url, "upwell", upwell_event("e1", total_amount="twelve"))
    assert response.status_code == 400
    assert "payload.new.total_amount" in response.json()["detail"]
    assert rows(db, "SELECT count(*) AS n FROM carrier_invoices") == [{"n": 0}]
    assert post(url, "upwell", b"not json").status_code == 400


def test_insert_stores_exact_amounts_and_raw_event(receiver) -> None:
    url, db = receiver
    assert post(url, "upwell", upwell_event("e1")).json() == {"outcome": "accepted"}
    [invoice] = rows(db, "SELECT invoice_number, currency, total_amount, total_tax_amount, balance FROM carrier_invoices")
    assert invoice == {"invoice_number": "CI-1001", "currency": "EUR", "total_amount": 250741,
                       "total_tax_amount": 0, "balance": 250741}
    [event] = rows(db, "SELECT event_id, outcome, body FROM webhook_events")
    assert event["event_id"] == "e1" and event["outcome"] == "accepted"
    assert json.loads(event["body"])["payload"]["new"]["total_amount"] == 250741


def test_duplicates_and_retries_are_applied_once(receiver) -> None:
    url, db = receiver
    first = upwell_event("e1")
    assert post(url, "upwell", first).json()["outcome"] == "accepted"
    assert post(url, "upwell", first).json()["outcome"] == "duplicate"
    retry = {**copy.deepcopy(first), "id": "e1-retry", "retryOfId": "e1"}
    assert post(url, "upwell", retry).json()["outcome"] == "duplicate"
    assert rows(db, "SELECT deliveries FROM webhook_events WHERE event_id = 'e1'") == [{"deliveries": 2}]
    assert rows(db, "SELECT count(*) AS n FROM carrier_invoices") == [{"n": 1}]


def test_out_of_order_update_does_not_overwrite_newer_state(receiver) -> None:
    url, db = receiver
    post(url, "upwell", upwell_event("e1", updated="2026-11-20T10:00:00"))
    newer = upwell_event("e3", op="UPDATE", updated="2026-11-20T12:00:00", balance=0, status="paid")
    older = upwell_event("e2", op="UPDATE", updated="2026-11-20T11:00:00", balance=100000)
    assert post(url, "upwell", newer).json()["outcome"] == "accepted"
    assert post(url, "upwell", older).json()["outcome"] == "stale"
    assert rows(db, "SELECT balance, status, last_event_id FROM carrier_invoices") == [
        {"balance": 0, "status": "paid", "last_event_id": "e3"}]


def test_delete_keeps_history_and_leaves_the_outstanding_view(receiver) -> None:
    url, db = receiver
    post(url, "upwell", upwell_event("e1", updated="2026-11-20T10:00:00"))
    assert outstanding_upwell(db) == ["CI-1001"]
    assert post(url, "upwell", upwell_event("e2", op="DELETE", updated="2026-11-20T13:00:00")).json()["outcome"] == "accepted"
    assert outstanding_upwell(db) == []
    [kept] = rows(db, "SELECT invoice_number, deleted_at FROM carrier_invoices")
    assert kept["invoice_number"] == "CI-1001" and kept["deleted_at"].startswith("2026-11-20T13:00")
    assert len(rows(db, "SELECT * FROM webhook_events WHERE outcome = 'accepted'")) == 2


def test_qargo_visibility_events_update_orders_in_order(receiver) -> None:
    url, db = receiver
    assert post(url, "qargo", qargo_event("q1", "PLANNED", "2026-11-20T10:00:00Z")).json()["outcome"] == "accepted"
    assert post(url, "qargo", qargo_event("q3", "IN_TRANSIT", "2026-11-20T12:00:00Z")).json()["outcome"] == "accepted"
    assert post(url, "qargo", qargo_event("q2", "DEPARTED", "2026-11-20T11:00:00Z")).json()["outcome"] == "stale"
    assert post(url, "qargo", qargo_event("q3", "IN_TRANSIT", "2026-11-20T12:00:00Z")).json()["outcome"] == "duplicate"
    [order] = rows(db, "SELECT reference, customer, status FROM qargo_orders")
    assert order == {"reference": "SO-0000001", "customer": "Falcon Chemicals Inc.", "status": "IN_TRANSIT"}
    timeline = rows(db, "SELECT event_type FROM qargo_order_events ORDER BY occurred_at")
    assert [t["event_type"] for t in timeline] == ["Order:PLANNED", "Order:DEPARTED", "Order:IN_TRANSIT"]
    assert post(url, "qargo", {"events": []}).status_code == 400
    assert "events" in post(url, "qargo", {"order": {}}).json()["detail"]


def test_secret_never_stored(receiver) -> None:
    url, db = receiver
    post(url, "upwell", upwell_event("e1"), auth=("hooks", "wrong"))
    post(url, "upwell", upwell_event("e2"))
    dump = "\n".join(str(r) for r in rows(db, "SELECT * FROM webhook_events"))
    assert AUTH[1] not in dump and "wrong" not in dump


def test_a_locked_out_address_is_refused_even_with_the_right_password(db_path: Path | str) -> None:
    """Issue 22: the lockout answered the right password while "locked out", so guessing went on."""
    db = db_path
    settings = Settings(opsdash_db=db, opsdash_webhook_user=AUTH[0], opsdash_webhook_password=SecretStr(AUTH[1]))
    limiter = AuthFailures(budget=3, window=60.0, pause=0.01)
    with serving(webhook_app(settings, limiter=limiter), "127.0.0.1", free_port()) as url:
        statuses = [post(url, "upwell", upwell_event(f"x{i}"), auth=("hooks", "guess")).status_code for i in range(5)]
        last = post(url, "upwell", upwell_event("x9"), auth=None)
        right = post(url, "upwell", upwell_event("e1"))  # the right password, from the locked-out address
    assert statuses == [401, 401, 401, 429, 429]
    assert last.status_code == 429 and 1 <= int(last.headers["retry-after"]) <= 60
    assert right.status_code == 429  # the guesser learns nothing while locked out
    assert rows(db, "SELECT count(*) AS n FROM webhook_events") == [{"n": 0}]
    assert limiter.refused == 7


def test_limiter_forgets_failures_after_its_window_and_logs_once_per_minute(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    limiter = AuthFailures(budget=2, window=10.0, clock=lambda: now[0])
    assert limiter.locked("a") is None
    limiter.fail("a"), limiter.fail("a")
    assert limiter.locked("a") == 10.0 and limiter.locked("b") is None
    now[0] = 5.0
    assert limiter.locked("a") == 5.0  # the oldest failure (t=0) leaves the window at t=10
    now[0] = 10.5
    assert limiter.locked("a") is None  # one failure (t=0) left the window: one more guess allowed
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == ["webhooks: refused 1 request (wrong credentials) in the last 60 s; latest: a",
                        "webhooks: refused 1 request (address locked out) in the last 60 s; latest: a"]


def test_failures_in_total_lock_out_every_untrusted_address_but_not_the_real_sender() -> None:
    """Guesses spread over many addresses: at most `total_budget` per window, whatever the addresses."""
    now = [0.0]
    limiter = AuthFailures(budget=10, total_budget=5, window=60.0, clock=lambda: now[0])
    limiter.succeed("10.0.0.1")  # the real sender delivered earlier
    for n in range(5):
        assert limiter.locked(f"192.0.2.{n}") is None
        limiter.fail(f"192.0.2.{n}")
    assert limiter.locked("192.0.2.99") == 60.0  # a fresh address: refused unchecked
    assert limiter.locked("192.0.2.0") == 60.0
    assert limiter.locked("10.0.0.1") is None  # trusted: its credentials are still checked
    now[0] = 60.5
    assert limiter.locked("192.0.2.99") is None


@pytest.mark.parametrize(("user", "password", "names"), [
    ("hooks", "", "OPSDASH_WEBHOOK_PASSWORD"), ("", "pw", "OPSDASH_WEBHOOK_USER"),
    ("  ", "pw", "OPSDASH_WEBHOOK_USER"), (None, "pw", "OPSDASH_WEBHOOK_USER"),
    ("hooks", None, "OPSDASH_WEBHOOK_PASSWORD"),
])
def test_empty_or_half_credentials_are_a_configuration_error_at_start(tmp_path, user, password, names) -> None:
    settings = Settings(opsdash_db=suite_database(tmp_path / "h.db"), opsdash_webhook_user=user,
                        opsdash_webhook_password=None if password is None else SecretStr(password))
    with pytest.raises(WebhookConfigError, match=names):
        webhook_app(settings)


def test_no_credentials_at_all_mounts_no_routes_in_the_dashboard_but_the_receiver_refuses(tmp_path) -> None:
    settings = Settings(opsdash_db=suite_database(tmp_path / "h.db"), opsdash_webhook_user=None,
                        opsdash_webhook_password=None)
    assert webhook_routes(settings) == []
    with pytest.raises(WebhookConfigError, match="OPSDASH_WEBHOOK_USER and OPSDASH_WEBHOOK_PASSWORD"):
        webhook_app(settings)


@pytest.mark.parametrize("password", ["", "   ", "\t"])  # issue 22: `opsdash webhooks` took a blank one
def test_cli_receiver_refuses_to_start_with_an_empty_or_blank_password(tmp_path, monkeypatch, capsys,
                                                                       password) -> None:
    import cli
    from services.settings import get_settings

    monkeypatch.setenv("OPSDASH_DB", str(suite_database(tmp_path / "h.db")))
    monkeypatch.setenv("OPSDASH_WEBHOOK_USER", "hooks")
    monkeypatch.setenv("OPSDASH_WEBHOOK_PASSWORD", password)
    get_settings.cache_clear()
    try:
        assert cli.main(["webhooks", "--port", "1"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[1].startswith("  - OPSDASH_WEBHOOK_PASSWORD is empty, blank or unset")
    settings = Settings(opsdash_db=suite_database(tmp_path / "h.db"), opsdash_webhook_user="hooks",
                        opsdash_webhook_password=SecretStr(password))
    with pytest.raises(WebhookConfigError, match="OPSDASH_WEBHOOK_PASSWORD is empty, blank or unset"):
        webhook_app(settings)  # the receiver refuses it by itself too


DEEP = b'{"a":' * 30_000 + b"1" + b"}" * 30_000  # RecursionError in json.loads before the guard


@pytest.mark.parametrize(("body", "detail"), [
    (DEEP, "nested deeper than"),
    (b"[" * 50_000 + b"]" * 50_000, "nested deeper than"),
    (json.dumps(upwell_event("big", total_amount=2**63)).encode(), "out of range"),
    (json.dumps(upwell_event("big", total_amount=1)).replace('"total_amount": 1', '"total_amount": 1' + "0" * 5000).encode(), "out of range"),
    (json.dumps(upwell_event("f", total_amount=1)).replace('"total_amount": 1', '"total_amount": 1e400').encode(), "out of range"),
    (json.dumps(upwell_event("s", invoice_number="\ud800")).encode(), "lone surrogate"),
    (json.dumps(upwell_event("s", invoice_number="ok")).encode().replace(b"ok", b"\xed\xa0\x80"), "not valid UTF-8"),
    (b"\xff\xfe{}", "not valid UTF-8"),
])
@pytest.mark.parametrize("source", ["upwell", "qargo"])
def test_hostile_bodies_are_a_clear_400_never_a_500(receiver, body, detail, source) -> None:
    url, db = receiver
    response = post(url, source, body)
    assert response.status_code == 400, response.text
    assert detail in response.json()["detail"]
    assert rows(db, "SELECT count(*) AS n FROM carrier_invoices") == [{"n": 0}]
    assert rows(db, "SELECT outcome FROM webhook_events") == [{"outcome": "rejected"}]
