"""The Quaderno simulator over real HTTP: auth, versions, tax calculation and validation, cursor
paging, body shapes against the real recordings, faults, the rate limit, transactions."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox.context import Limits, SandboxConfig
from tests.conftest import StartSandbox
from tests.vendor_docs import spec_path

RECORDED = spec_path("vendor-specs/quaderno/extracted")  # copies, tests/fixtures/vendor_docs
KEY = "sk_sandbox_quaderno"


def recorded(name: str) -> Any:
    return json.loads((RECORDED / f"{name}.json").read_text())


def exact(response: httpx.Response) -> Any:
    """The body with every JSON number as Decimal: what an exact client sees."""
    return json.loads(response.text, parse_float=Decimal, parse_int=Decimal)


def quaderno(config: SandboxConfig, key: str = KEY) -> httpx.Client:
    return httpx.Client(base_url=f"{config.base_url}/quaderno/api", auth=(key, "x"), timeout=10)


@pytest.fixture
def api(relaxed_sandbox: SandboxConfig) -> Iterator[httpx.Client]:
    with quaderno(relaxed_sandbox) as client:
        yield client


def walk(api: httpx.Client, path: str, limit: int) -> tuple[list[dict[str, Any]], list[httpx.Response]]:
    """Follow X-Pages-NextPage to the end; bounded."""
    docs: list[dict[str, Any]] = []
    responses = [api.get(path, params={"limit": limit})]
    for _ in range(1000):
        docs += responses[-1].json()
        if responses[-1].headers["X-Pages-HasMore"] == "false":
            break
        responses.append(api.get(responses[-1].headers["X-Pages-NextPage"]))
    return docs, responses


# --- auth and versions ----------------------------------------------------------------------


def test_wrong_or_missing_key_is_401_with_the_recorded_body(relaxed_sandbox: SandboxConfig) -> None:
    with quaderno(relaxed_sandbox, key="sk_wrong") as client:
        response = client.get(
            "/tax_rates/calculate.json", params={"to_country": "ES", "to_postal_code": "08080"}
        )
    assert response.status_code == 401
    assert response.json() == recorded("wrong_token__0")["body"]
    assert httpx.get(f"{relaxed_sandbox.base_url}/quaderno/api/ping").status_code == 401


def test_api_version_header_known_accepted_unknown_406(api: httpx.Client) -> None:
    ok = api.get("/ping", headers={"Accept": "application/json; api_version=20220325"})
    assert ok.status_code == 200 and ok.json() == {"status": "OK"}
    bad = api.get("/ping", headers={"Accept": "application/json; api_version=19990101"})
    assert bad.status_code == 406 and "19990101" in bad.json()["error"]
    assert api.get("/ping", headers={"Accept": "text/html"}).status_code == 406


# --- tax calculation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status", "rate"),
    [
        ({"to_country": "DE"}, "taxable", Decimal("19.0")),
        ({"to_country": "FR", "tax_code": "ebook"}, "taxable", Decimal("5.5")),
        ({"to_country": "US", "to_postal_code": "10001"}, "taxable", Decimal("4.0")),
        ({"to_country": "IT"}, "not_registered", Decimal(0)),
        ({"to_country": "US", "to_postal_code": "77001"}, "not_registered", Decimal(0)),
        ({"to_country": "NL", "tax_id": "NL004495445B01"}, "reverse_charge", Decimal(0)),
        ({"to_country": "NL", "tax_id": "NL004495446B01"}, "taxable", Decimal("21.0")),  # bad check digit
        ({"to_country": "FR", "tax_code": "exempt"}, "non_taxable", Decimal(0)),
        ({"to_country": "US", "to_postal_code": "10001", "tax_code": "ebook"}, "non_taxable", Decimal(0)),
    ],
)
def test_calculate_statuses(api: httpx.Client, params: dict[str, str], status: str, rate: Decimal) -> None:
    body = exact(api.get("/tax_rates/calculate", params=params))
    assert (body["status"], body["rate"]) == (status, rate)
    assert set(recorded("validate_tax_rate__0")["body"]) <= set(body)


def test_calculate_amounts_are_exact(api: httpx.Client) -> None:
    body = exact(api.get("/tax_rates/calculate", params={"to_country": "DE", "amount": "99.99"}))
    assert (body["subtotal"], body["tax_amount"], body["total_amount"]) == (
        Decimal("99.99"),
        Decimal("19.00"),
        Decimal("118.99"),
    )
    inclusive = exact(
        api.get(
            "/tax_rates/calculate.json",
            params={"to_country": "DE", "amount": "119.00", "tax_behavior": "inclusive"},
        )
    )
    assert (inclusive["subtotal"], inclusive["tax_amount"], inclusive["total_amount"]) == (
        Decimal("100.00"),
        Decimal("19.00"),
        Decimal("119.00"),
    )
    assert exact(api.get("/tax_rates/calculate", params={"to_country": "IT"}))["total_amount"] is None


def test_calculate_honours_registration_changes(api: httpx.Client, admin: httpx.Client) -> None:
    assert api.get("/tax_rates/calculate", params={"to_country": "IT"}).json()["status"] == "not_registered"
    before = admin.get("/_admin/quaderno/registrations").json()["jurisdictions"]
    try:
        admin.put("/_admin/quaderno/registrations", json={"jurisdictions": [*before, "IT"]})
        body = exact(api.get("/tax_rates/calculate", params={"to_country": "IT"}))
        assert (body["status"], body["rate"], body["name"]) == ("taxable", Decimal("22.0"), "IVA")
    finally:
        admin.put("/_admin/quaderno/registrations", json={"jurisdictions": before})


def test_calculate_requires_to_country(api: httpx.Client) -> None:
    response = api.get("/tax_rates/calculate", params={"to_postal_code": "10001"})
    assert response.status_code == 400 and "to_country" in response.json()["error"]


# --- tax ID validation ----------------------------------------------------------------------


def test_validate_true_false_as_recorded(api: httpx.Client) -> None:
    for name in ("validate_valid_tax_ID__0", "validate_invalid_tax_ID__0"):
        rec = recorded(name)
        query = httpx.URL(rec["request"]["uri"]).params
        assert api.get("/tax_ids/validate.json", params=query).json() == rec["body"]


def test_validate_is_null_while_a_country_service_is_down(api: httpx.Client, admin: httpx.Client) -> None:
    assert api.get("/tax_ids/validate", params={"country": "IT", "tax_id": "IT00743110157"}).json() == {
        "valid": None
    }
    try:
        admin.put("/_admin/quaderno/down-countries", json={"countries": ["DE"]})
        assert api.get("/tax_ids/validate", params={"country": "IT", "tax_id": "IT00743110157"}).json() == {
            "valid": True
        }
        assert api.get("/tax_ids/validate", params={"country": "DE", "tax_id": "DE136695976"}).json() == {
            "valid": None
        }
    finally:
        admin.put("/_admin/quaderno/down-countries", json={"countries": ["IT"]})


# --- paging and shapes ----------------------------------------------------------------------


def test_invoices_page_to_the_end_without_gaps_or_duplicates(api: httpx.Client) -> None:
    docs, responses = walk(api, "/invoices.json", limit=100)
    ids = [d["id"] for d in docs]
    assert len(ids) == 300 and len(set(ids)) == 300  # seeds' small size
    assert ids == sorted(ids, reverse=True) and ids[0] - ids[-1] == 299  # newest first, contiguous
    for page, following in itertools.pairwise(responses):
        assert page.headers["X-Pages-HasMore"] == "true"
        assert page.headers["X-Pages-NextPage"].endswith(f"created_before={page.json()[-1]['id']}")
        assert following.json()[0]["id"] == page.json()[-1]["id"] - 1
    assert (
        responses[-1].headers["X-Pages-HasMore"] == "false"
        and "X-Pages-NextPage" not in responses[-1].headers
    )


def test_limit_defaults_to_25_and_is_capped_at_100(api: httpx.Client) -> None:
    assert len(api.get("/invoices").json()) == 25
    assert len(api.get("/invoices", params={"limit": 500}).json()) == 100
    assert api.get("/invoices", params={"page": 2}).status_code == 410  # page paging is gone


def test_credits_and_contacts_page_to_the_end(api: httpx.Client) -> None:
    credits, _ = walk(api, "/credits", limit=7)
    contacts, _ = walk(api, "/contacts", limit=100)
    assert len({c["id"] for c in credits}) == 30 and len({c["id"] for c in contacts}) == 60
    invoice_ids = {d["id"] for d in walk(api, "/invoices", limit=100)[0]}
    assert all(c["related_document"]["id"] in invoice_ids for c in credits)


def test_invoice_has_the_recorded_keys_and_consistent_money(api: httpx.Client) -> None:
    rec = recorded("paginated_invoices__0")["body"][0]
    for invoice in api.get("/invoices", params={"limit": 100}).json():
        assert set(rec) <= set(invoice) and set(rec["items"][0]) <= set(invoice["items"][0])
        assert isinstance(invoice["total_cents"], int) and invoice["subtotal_cents"].endswith(".0")
        subtotal = sum(Decimal(i["subtotal_cents"]) for i in invoice["items"])
        assert Decimal(invoice["subtotal_cents"]) == subtotal
        assert invoice["total_cents"] == subtotal + sum(t["amount_cents"] for t in invoice["taxes"])
        assert invoice["state"] in {"outstanding", "late", "paid", "uncollectible"}
        paid = sum(Decimal(str(p["amount_cents"])) for p in invoice["payments"])
        assert (invoice["state"] == "paid") == (paid == invoice["total_cents"])
        assert paid <= invoice["total_cents"]


def test_some_open_invoices_are_partly_paid(api: httpx.Client) -> None:
    """An open invoice with payments below its total: what is due is the difference (issue 9 point 6)."""
    listed = [d for state in ("outstanding", "late") for d in api.get("/invoices", params={"state": state,
                                                                                         "limit": 100}).json()]
    partly = [d for d in listed if d["payments"]]
    assert partly and all(0 < sum(p["amount_cents"] for p in d["payments"]) < d["total_cents"] for d in partly)


def test_get_by_id_matches_the_list_and_404s(api: httpx.Client) -> None:
    listed = api.get("/invoices", params={"limit": 1}).json()[0]
    assert api.get(f"/invoices/{listed['id']}.json").json() == listed
    contact = api.get("/contacts", params={"limit": 1}).json()[0]
    assert set(recorded("new_contact__0")["body"]) <= set(api.get(f"/contacts/{contact['id']}").json())
    assert api.get("/invoices/1").status_code == 404


def test_state_and_contact_filters(api: httpx.Client) -> None:
    late = api.get("/invoices", params={"state": "late", "limit": 100}).json()
    assert late and all(i["state"] == "late" for i in late)
    contact_id = late[0]["contact"]["id"]
    mine = api.get("/invoices", params={"contact": contact_id, "limit": 100}).json()
    assert mine and all(i["contact"]["id"] == contact_id for i in mine)


def test_expired_cursor_fault_answers_422_once(api: httpx.Client, admin: httpx.Client) -> None:
    cursor = api.get("/invoices").json()[-1]["id"]
    admin.put("/_admin/faults/quaderno", json={"expire_cursor": True})
    assert api.get("/invoices").status_code == 200  # no cursor: the fault stays armed
    failed = api.get("/invoices", params={"created_before": cursor})
    assert failed.status_code == 422 and "created_before" in failed.json()["error"]
    assert api.get("/invoices", params={"created_before": cursor}).status_code == 200


# --- transactions ---------------------------------------------------------------------------


def test_transaction_post_creates_exactly_one_invoice(api: httpx.Client, admin: httpx.Client) -> None:
    before = admin.get("/_admin/quaderno/transactions").json()["invoices"]
    payload = recorded("new_sale__0")["request"]["body"]
    created = api.post("/transactions.json", json=payload)
    assert created.status_code == 201
    body = exact(created)
    assert body["type"] == "Invoice" and body["total_cents"] == 10800 and body["subtotal_cents"] == "10075.0"
    assert admin.get("/_admin/quaderno/transactions").json()["invoices"] == before + 1
    assert api.get("/invoices", params={"limit": 1}).json()[0]["id"] == body["id"]
    invalid = api.post("/transactions", json={"type": "sale", "items": []})
    assert invalid.status_code == 422 and invalid.json() == {"items": ["can't be blank"]}


# --- limits and determinism -----------------------------------------------------------------


def test_rate_limit_100_calls_then_429_with_headers(start_sandbox: StartSandbox) -> None:
    config = start_sandbox()
    with quaderno(config) as client:
        answers = [client.get("/ping") for _ in range(100)]
        limited = client.get("/ping")
    assert all(a.status_code == 200 for a in answers)
    assert [int(a.headers["X-RateLimit-Remaining"]) for a in answers[:3]] == [99, 98, 97]
    assert answers[-1].headers["X-RateLimit-Remaining"] == "0"
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Limit"] == "100" and limited.headers["X-RateLimit-Remaining"] == "0"
    reset = int(limited.headers["X-RateLimit-Reset"])  # epoch seconds, as documented
    assert time.time() - 1 <= reset <= time.time() + 16
    assert 1 <= int(limited.headers["Retry-After"]) <= 15


def test_a_seed_gives_the_same_documents(start_sandbox: StartSandbox, api: httpx.Client) -> None:
    same = start_sandbox(limits=Limits.relaxed())
    other = start_sandbox(limits=Limits.relaxed(), seed=2)

    def generated_page(client: httpx.Client) -> str:
        # below the documents a transaction test may have created; URLs name the server's port
        docs = client.get("/invoices", params={"limit": 100, "created_before": 1_900_301})
        return docs.text.replace(str(client.base_url).removesuffix("/quaderno/api/"), "")

    mine = generated_page(api)
    with quaderno(same) as a, quaderno(other) as b:
        assert generated_page(a) == mine and generated_page(b) != mine



def test_a_deregistered_number_is_invalid_at_the_authority_though_its_check_digits_are_right(
        api: httpx.Client) -> None:
    from sandbox.quaderno.rates import tax_id_valid
    from sandbox.world import World

    world = World(seed=1)
    gone = next(c for c in world.customers if c.vat_number and c.id % 20 == 7 and c.vat_number[:2] != "IT")
    kept = world.customers[0]
    assert gone.vat_number and kept.vat_number and tax_id_valid(gone.vat_number[:2], gone.vat_number)
    for customer, expected in ((gone, False), (kept, True)):
        query = {"country": customer.vat_number[:2], "tax_id": customer.vat_number[2:]}
        assert api.get("/tax_ids/validate.json", params=query).json() == {"valid": expected}


def test_a_sale_within_france_answers_as_recorded_without_amounts(api: httpx.Client) -> None:
    """vendor-specs/quaderno validate_tax_rate__0: FR to FR, taxable, rate 20.0, amounts null (even with an
    amount): the shape a client must not read as zero tax (issue 18 point 3)."""
    body = exact(api.get("/tax_rates/calculate.json", params={"from_country": "FR", "to_country": "FR",
                                                                "tax_code": "standard", "amount": "100.00"}))
    assert (body["status"], body["rate"], body["taxable_part"]) == ("taxable", Decimal("20.0"), Decimal("100.0"))
    assert (body["subtotal"], body["tax_amount"], body["total_amount"]) == (None, None, None)


def test_removed_invoices_answer_410_or_404_and_leave_the_listings(start_sandbox: StartSandbox) -> None:
    """seeds/001 lines 94, 103: every 97th invoice is removed 20 minutes into the sandbox's life; read by id it
    answers 410 Gone (odd multiples) or 404 (even ones), and no listing shows it (issue 18 point 5)."""
    config = start_sandbox(limits=Limits.relaxed())
    with quaderno(config) as api, httpx.Client(base_url=config.base_url, timeout=10) as admin:
        first, second = 1_900_000 + 97, 1_900_000 + 194
        assert api.get(f"/invoices/{first}.json").status_code == 200
        admin.post("/_admin/clock", json={"advance_seconds": 21 * 60})
        gone, missing = api.get(f"/invoices/{first}.json"), api.get(f"/invoices/{second}.json")
        assert (gone.status_code, gone.json()) == (410, {"error": "The record requested has been removed from our servers"})
        assert missing.status_code == 404
        listed = api.get("/invoices.json", params={"limit": 100, "created_before": first + 50}).json()
        assert first not in [d["id"] for d in listed] and len(listed) == 99
        for state in ("outstanding", "late", "paid", "uncollectible"):
            page = api.get("/invoices.json", params={"limit": 100, "state": state, "created_before": first + 1})
            assert first not in [d["id"] for d in page.json()]
