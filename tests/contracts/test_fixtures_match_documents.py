"""The transcribed vendor documents (tests/fixtures/vendor_docs) still equal what the documents in ../shared
give: every seed excerpt line for line, every copied recording byte for byte, the trimmed Qargo OpenAPI
documents as trimmed again from the originals. Without ../shared there is nothing to compare with: the
module skips with one line. Fix a difference with `python -m tests.vendor_docs`, then read the diff."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests import vendor_docs as vd

if not (vd.SHARED / "seeds").is_dir() or not (vd.SHARED / "vendor-specs").is_dir():
    pytest.skip(f"vendor documents not found at {vd.SHARED} (seeds/, vendor-specs/): the fixtures in "
                "tests/fixtures/vendor_docs are not compared with them", allow_module_level=True)


@pytest.fixture(scope="module")
def transcribed() -> dict[Path, bytes]:
    return vd.transcribe(vd.SHARED)


def test_every_fixture_file_comes_from_a_document_and_none_is_missing(transcribed: dict[Path, bytes]) -> None:
    assert sorted(vd.stored() - set(transcribed)) == [], "fixture files no document gives"
    assert sorted(set(transcribed) - vd.stored()) == [], "fixture files not written yet"


def test_every_fixture_equals_the_document(transcribed: dict[Path, bytes]) -> None:
    differ = []
    for relative, content in sorted(transcribed.items()):
        path = vd.FIXTURES / relative
        if path.is_file() and path.read_bytes() != content:
            diff = difflib.unified_diff(path.read_text(errors="replace").splitlines(),
                                        content.decode(errors="replace").splitlines(),
                                        f"fixture {relative}", "from the document", lineterm="", n=1)
            differ.append("\n".join(list(diff)[:12]))
    assert not differ, "\n\n".join(differ)


def test_the_sparse_seed_lines_are_the_document_lines() -> None:
    """seed_lines(n)[L - 1] is line L of the document wherever a line was transcribed."""
    for number, (name, excerpts) in vd.SEED_EXCERPTS.items():
        document = (vd.SHARED / "seeds" / name).read_text(encoding="utf-8").splitlines()
        served = vd.seed_lines(number)
        assert len(served) == len(document), number
        for first, last, _ in excerpts:
            assert served[first - 1:last] == document[first - 1:last], (number, first, last)


def test_the_served_openapi_validates_like_the_original() -> None:
    """A trimmed document keeps what validation follows: a schema resolves its $refs in the trimmed copy
    exactly as in the original (checked on the body every test validates most, OrderInput)."""
    import yaml
    from openapi_schema_validator import OAS31Validator

    original = yaml.load((vd.SHARED / vd.QARGO_SPECS["2026"]).read_text(encoding="utf-8"),
                         Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    trimmed = vd.qargo_openapi("2026")
    broken = {"operation": "CREATE", "order_identifier": 7, "consignments": [{"goods": "x"}]}
    errors = {}
    for label, document in (("original", original), ("trimmed", trimmed)):
        validator = OAS31Validator({"$ref": "#/components/schemas/OrderInput", "components": document["components"]})
        errors[label] = sorted(f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(broken))
    assert errors["trimmed"] == errors["original"] != []
