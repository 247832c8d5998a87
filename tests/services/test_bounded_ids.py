"""Vendor ids are bounded like every other vendor integer (issue 22): an id past SQLite's INTEGER is a
validation error naming `id`, not an OverflowError when the row is stored."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.qasida.models import Warehouse
from services.quaderno.models import Invoice


@pytest.mark.parametrize("model", [Warehouse, Invoice])
def test_an_id_beyond_64_bits_is_refused_naming_id(model: type) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate({"id": 2**63})
    first = refused.value.errors()[0]
    assert first["loc"] == ("id",) and first["type"] == "number_range"


@pytest.mark.parametrize("model", [Warehouse, Invoice])
def test_an_id_at_the_64_bit_edge_or_as_text_is_kept(model: type) -> None:
    assert model.model_validate({"id": 2**63 - 1}).id == 2**63 - 1
    assert model.model_validate({"id": "42"}).id == 42
