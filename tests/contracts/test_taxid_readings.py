"""Issue 18 point 8: the offline tax-ID check refuses only what is certainly malformed; every number of a
jurisdiction Quaderno validates goes to Quaderno (`GET /tax_ids/validate`).

The document, transcribed (no file is read here):
- seeds/001 line 1129: "Quaderno can validate VAT/GST numbers from the EU, United Kingdom, Switzerland,
  Québec (Canada), Australia, and New Zealand."
- seeds/001 line 775: "Quaderno can validate EU VAT numbers, ABN, and NZBN."
- seeds/001 lines 1166-1167: `country` required, "2-letter ISO 3166-1 code"; `tax_id`, e.g. DE303954554.

Check digits worked by hand:
- ABN 51 824 753 556 (the ATO's own example): first digit minus 1, weights 10 1 3 5 7 9 11 13 15 17 19:
  4*10 + 1 + 8*3 + 2*5 + 4*7 + 7*9 + 5*11 + 3*13 + 5*15 + 5*17 + 6*19 = 534 = 6 * 89: valid.
  51 824 753 557 gives 553, not a multiple of 89: refused.
- Swiss UID CHE-116.281.710: weights 5 4 3 2 7 6 5 4 on 1 1 6 2 8 1 7 1 = 132; 132 mod 11 = 0, so the
  check digit is 11 - 0 = 11, written 0: valid. CHE-116.281.711: refused.
- Québec QST 1006199968TQ0001: 10 digits, TQ, 4 digits; no published check digit, so nothing to refuse.
- NZBN 9429041525340: GS1 weights 1 3 alternating on 942904152534: 9+12+2+27+0+12+1+15+2+15+3+12 = 110,
  check digit (10 - 110 mod 10) mod 10 = 0: valid.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from services.clients import make_client
from services.quaderno.resources import validate_tax_id_online
from services.settings import Settings
from services.taxid import check_tax_id


@pytest.mark.parametrize(("country", "written", "sent"), [
    ("CA", "1006199968 TQ 0001", "1006199968TQ0001"),  # Québec QST (line 1129)
    ("CH", "CHE-116.281.710", "CHE116281710"),  # a Swiss UID without MWST (line 1129)
    ("CH", "CHE-116.281.710 MWST", "CHE116281710MWST"),  # the same as a VAT number
    ("AU", "51 824 753 556", "51824753556"),  # ABN (lines 775, 1129)
    ("NZ", "9429041525340", "9429041525340"),  # NZBN (line 775)
    ("DE", "DE303954554", "DE303954554"),  # the document's own example (line 1167)
])
def test_documented_jurisdictions_pass_offline_and_reach_quaderno(
    db_path: Path | str, country: str, written: str, sent: str
) -> None:
    offline = check_tax_id(country, written)
    assert (offline.ok, offline.number) == (True, sent), offline.message
    seen: list[httpx.Request] = []

    def quaderno(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"valid": True})

    settings = Settings(opsdash_db=db_path, quaderno_base_url="https://acme.quadernoapp.com/api",
                        quaderno_api_key=SecretStr("sk_test"))
    with make_client(settings, "quaderno", transport=httpx.MockTransport(quaderno)) as client:
        assert validate_tax_id_online(client, country, offline.number) is True
    assert dict(seen[0].url.params) == {"country": country, "tax_id": sent}  # lines 1166-1167


@pytest.mark.parametrize(("country", "number"), [
    ("AU", "51 824 753 557"),  # 553 is not a multiple of 89
    ("CH", "CHE-116.281.711"),  # check digit 0 expected
    ("CA", "12345"),  # neither a QST number nor a business number
    ("DE", "DE30395455"),  # 8 digits after DE: every German VAT number has 9
])
def test_certainly_malformed_numbers_are_refused_offline(country: str, number: str) -> None:
    assert check_tax_id(country, number).ok is False


def test_a_country_quaderno_does_not_list_is_not_refused_offline() -> None:
    """Not "certainly malformed": the document lists what it validates, not what it refuses."""
    result = check_tax_id("US", "12-3456789")
    assert (result.ok, result.checked, result.number) == (True, False, "12-3456789")
    assert check_tax_id("USA", "12-3456789").ok is False  # not a 2-letter code (line 1166)
