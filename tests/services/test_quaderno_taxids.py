"""Quaderno tax IDs and jurisdictions: the recordings parse through the client (MockTransport),
and the sandbox's `GET /tax_ids` follows the account's registrations (admin route)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.context import SandboxConfig
from sandbox.server import client_env
from services.core import MalformedResponse, VendorClient
from services.quaderno import resources as qr
from services.quaderno.client import make_client
from services.settings import Settings
from tests.vendor_docs import spec_path

EXTRACTED = spec_path("vendor-specs/quaderno/extracted")  # copies, tests/fixtures/vendor_docs


def recorded_body(name: str) -> Any:
    return json.loads((EXTRACTED / f"{name}.json").read_text())["body"]


def _settings(
    db_path: Path | str, base_url: str, api_key: str = "sk_test_key", version: str = "20220325"
) -> Settings:
    values: dict[str, Any] = {  # a dict: pydantic-settings turns the plain key into a SecretStr
        "opsdash_db": db_path,
        "quaderno_base_url": base_url,
        "quaderno_api_key": api_key,
        "quaderno_api_version": version,
    }
    return Settings(**values)


def replay(db_path: Path | str, body: Any, seen: list[httpx.Request]) -> VendorClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    transport = httpx.MockTransport(handler)
    return make_client(_settings(db_path, "http://quaderno.test/api"), transport=transport)


# --- recordings -------------------------------------------------------------------------------


def test_recorded_tax_ids_parse(db_path: Path | str) -> None:
    seen: list[httpx.Request] = []
    with replay(db_path, recorded_body("all_tax_ids__0"), seen) as client:
        ids = qr.tax_ids(client)
    assert seen[0].url.path == "/api/tax_ids"
    assert [t.id for t in ids] == [47, 64, 65, 66, 68, 69]
    first = ids[0]
    assert (first.value, first.state, first.valid_from, first.valid_until) == (
        "11111111111",
        "unavailable",
        date(2022, 1, 1),
        None,
    )
    assert first.jurisdiction is not None
    assert (first.jurisdiction.id, first.jurisdiction.country) == (85, "ES")
    assert first.jurisdiction.name == "Spain – Península y Baleares"
    assert ids[3].valid_until == date(2023, 4, 1)
    assert ids[0].created_at is not None and int(ids[0].created_at.timestamp()) == 1689783967


def test_recorded_new_tax_id_body_parses_as_a_tax_id(db_path: Path | str) -> None:
    seen: list[httpx.Request] = []
    with replay(db_path, [recorded_body("new_tax_id__0")], seen) as client:
        (one,) = qr.tax_ids(client)
    assert (one.id, one.value, one.valid_from) == (71, "1111111", date(2018, 1, 3))
    assert one.jurisdiction is not None and (one.jurisdiction.id, one.jurisdiction.name) == (11, "France")


def test_recorded_jurisdictions_parse(db_path: Path | str) -> None:
    seen: list[httpx.Request] = []
    with replay(db_path, recorded_body("list_all_jurisdictions__0"), seen) as client:
        found = qr.jurisdictions(client)
    assert len(found) == 233
    assert (found[0].id, found[0].country, found[0].name, found[0].region) == (1, "IN", "India", None)
    by_id = {j.id: j for j in found}
    assert (by_id[21].country, by_id[21].region, by_id[21].name) == ("US", "NY", "United States – New York")
    assert by_id[72].name == "Germany"


def test_jurisdictions_pass_the_country_filter(db_path: Path | str) -> None:
    seen: list[httpx.Request] = []
    with replay(db_path, [], seen) as client:
        assert qr.jurisdictions(client, country="CA") == []
    assert seen[0].url.params["country"] == "CA"


def test_a_non_list_answer_is_malformed(db_path: Path | str) -> None:
    with replay(db_path, {"error": "nope"}, []) as client, pytest.raises(MalformedResponse):
        qr.tax_ids(client)


# --- sandbox ----------------------------------------------------------------------------------


@pytest.fixture
def client(relaxed_sandbox: SandboxConfig, db_path: Path | str) -> Iterator[VendorClient]:
    env = client_env(relaxed_sandbox)
    settings = _settings(
        db_path, env["QUADERNO_BASE_URL"], env["QUADERNO_API_KEY"], env["QUADERNO_API_VERSION"]
    )
    with make_client(settings) as c:
        yield c


@pytest.fixture
def registrations(admin: httpx.Client) -> Iterator[httpx.Client]:
    """Restores the sandbox's registrations after the test (the sandbox is shared by the module)."""
    before = admin.get("/_admin/quaderno/registrations").json()
    yield admin
    admin.put("/_admin/quaderno/registrations", json=before)


def _keys(ids: list[Any]) -> list[str]:
    keys = []
    for t in ids:
        j = t.jurisdiction
        keys.append(f"{j.country}-{j.region}" if j.region else j.country)
    return keys


def test_sandbox_tax_ids_follow_the_registrations(client: VendorClient, registrations: httpx.Client) -> None:
    default = registrations.get("/_admin/quaderno/registrations").json()["jurisdictions"]
    assert sorted(_keys(qr.tax_ids(client))) == sorted(default)

    put = registrations.put("/_admin/quaderno/registrations", json={"jurisdictions": ["IT", "US-CA", "EU"]})
    assert put.status_code == 200
    ids = qr.tax_ids(client)
    assert sorted(_keys(ids)) == ["EU", "IT", "US-CA"]
    assert all(t.state == "verified" and t.valid_until is None and t.value for t in ids)
    ca = next(t for t in ids if t.jurisdiction is not None and t.jurisdiction.region == "CA")
    assert ca.jurisdiction is not None and ca.jurisdiction.name == "United States – California"

    registrations.put("/_admin/quaderno/registrations", json={"jurisdictions": []})
    assert qr.tax_ids(client) == []


def test_sandbox_tax_id_ids_are_stable(client: VendorClient, registrations: httpx.Client) -> None:
    registrations.put("/_admin/quaderno/registrations", json={"jurisdictions": ["DE", "FR"]})
    first = {t.value: t.id for t in qr.tax_ids(client)}
    registrations.put("/_admin/quaderno/registrations", json={"jurisdictions": ["DE"]})
    (de,) = qr.tax_ids(client)
    assert first[de.value] == de.id


def test_sandbox_jurisdictions(client: VendorClient) -> None:
    found = qr.jurisdictions(client)
    assert len(found) >= 30
    assert len({j.id for j in found}) == len(found)
    de = [j for j in found if j.country == "DE"]
    assert [(j.name, j.region) for j in de] == [("Germany", None)]
    us = qr.jurisdictions(client, country="US")
    assert {j.region for j in us} == {"NY", "CA", "TX", "WA"}
    assert qr.jurisdictions(client, country="de") == []  # case-sensitive, as documented


def test_sandbox_routes_need_auth_and_answer_with_the_json_suffix(relaxed_sandbox: SandboxConfig) -> None:
    env = client_env(relaxed_sandbox)
    base = env["QUADERNO_BASE_URL"]
    with httpx.Client(timeout=10) as http:
        assert http.get(f"{base}/tax_ids.json").status_code == 401
        good = http.get(f"{base}/jurisdictions.json", auth=(env["QUADERNO_API_KEY"], "x"))
    assert good.status_code == 200
    assert "X-RateLimit-Limit" in good.headers
    assert {"id", "country", "name"} <= set(good.json()[0])
