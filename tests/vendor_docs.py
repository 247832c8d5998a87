"""The vendor documents the tests read, transcribed into tests/fixtures/vendor_docs so the suite runs from
the repository alone (issue 19). The documents themselves stay in ../shared (seeds/, vendor-specs/); this
module is the one place that says what was taken from them and serves it to the tests.

- Seeds: only the lines the tests read, each excerpt with its first and last line in the document.
  `seed_lines(n)` gives the document's lines with every line that was not transcribed left empty, so a
  test reads `lines[L - 1]` as "seeds/00n line L" exactly as it would in the document.
- Recorded Quaderno responses (vendor-specs/quaderno/extracted) and the Upwell partial example:
  byte copies under the same relative path.
- Qargo OpenAPI (2026 YAML, 2025-09 JSON): trimmed to the paths our client and the Qargo sandbox use
  (QARGO_PATHS) and the schemas tests name (QARGO_SCHEMAS), plus every component those reach through a
  `$ref`, stored as JSON. A request to a documented path outside QARGO_PATHS therefore reads as
  undocumented: add the path here and write the fixtures again.
- The Postman collection: only the raw body of its order upload example.

Write the fixtures again from ../shared with `python -m tests.vendor_docs`;
tests/contracts/test_fixtures_match_documents.py checks they still match the documents.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = REPO / "tests" / "fixtures" / "vendor_docs"

# seeds/00n: (file name, [(first line, last line, what reads it)]), lines 1-based and inclusive.
SEED_EXCERPTS: dict[str, tuple[str, list[tuple[int, int, str]]]] = {
    "001": ("001_39b4fda2ac1f3a3f.txt", [
        (88, 93, "401/403 error table (tests/contracts/test_quaderno.py)"),
        (1124, 1136, "GET /tax_rates/calculate query parameters up to 'Responses' (test_quaderno.py)"),
        (1491, 1491, "List all invoices: the `state` filter (test_quaderno.py)"),
    ]),
    "002": ("002_802ce0a553dd818d.txt", [
        (4, 93, "the example onCarrierInvoiceEvent envelope (contracts/test_upwell.py, webhooks/test_ingest.py)"),
        (95, 148, "the Body section up to 'Response', with the operation options (contracts/test_upwell.py)"),
    ]),
    "003": ("003_31bfca6c8f340d0f.txt", [
        (150, 174, "claim list: parameters and example response (contracts/test_qasida.py)"),
        (193, 256, "customer list: parameters and example response"),
        (1190, 1389, "customer order list: parameters and example response"),
        (3125, 3149, "liability list: parameters and example response"),
        (4205, 4285, "product list: parameters and example response"),
        (6029, 6071, "stock card list: parameters and example response"),
        (7709, 7746, "warehouse list: parameters and example response"),
    ]),
    "004": ("004_b52ade3132037b87.txt", [
        (32, 40, "'Invoice status options' table (contracts/test_cargobase.py)"),
        (62, 70, "'Status values' table (contracts/test_cargobase.py)"),
    ]),
}

# Byte copies: every recorded Quaderno exchange, and the Upwell docs example (stored truncated by the vendor).
COPIED_GLOBS = ("vendor-specs/quaderno/extracted/*.json", "vendor-specs/upwell/*.partial.txt")

QARGO_SPECS = {
    "2026": "vendor-specs/qargo/qargo-tms-openapi-v1.2.0-2026.yml",
    "2025-09": "vendor-specs/qargo/qargo-tms-openapi-v1.2.0-2025-09.json",
}
# The paths services/qargo and sandbox/qargo use (tests/contracts/test_qargo.py, tests/sandbox/test_qargo_openapi.py).
QARGO_PATHS = (
    "/v1/auth/token",
    "/v1/orders/order/upload", "/v1/orders/order/upload/{upload_id}",
    "/v1/orders/order/{order_id}", "/v1/orders/order/{order_id}/status", "/v1/orders/order/{order_id}/export",
    "/v1/orders/order/{order_id}/documents", "/v1/orders/order/{order_id}/charges",
    "/v1/orders/order/{order_id}/charges/approval", "/v1/documents/document/{id}/download",
    "/v1/accounting/sync-tasks", "/v1/accounting/sync-tasks/{id}",
    "/v1/resources/resource", "/v1/resources/resource/{resource_id}",
    "/v1/resources/resource/{resource_id}/unavailability",
    "/v1/resources/resource/{resource_id}/unavailability/{id}",
)
# Schemas tests name directly (tests/services/test_models_qargo.py, test_qargo_client.py, contracts/test_qargo.py).
QARGO_SCHEMAS = (
    "AvailableTasks", "ChargeApprovalStatus", "ChargeStatus", "ChargeWithApproval", "ChargesApprovalInput",
    "Document", "ListResourceOutput", "ListResourceUnavailabilityOutput", "OperationalVisibilityUpdate",
    "OrderChargesOutput", "OrderImport", "OrderInput", "OrderWithStatus", "TaskDetail", "ValidationErrorResponse",
    "VisibilityOrderStatus",
)
POSTMAN = "vendor-specs/qargo/qargo-postman-collection-example.json"
POSTMAN_UPLOAD = "/v1/orders/order/upload"


# --- serving the fixtures to the tests -------------------------------------------------------------


def seed_lines(number: str) -> list[str]:
    """seeds/<number> as a list of lines (index L - 1 is line L); lines not transcribed are ''."""
    data = json.loads((FIXTURES / "seeds" / f"{number}.json").read_text(encoding="utf-8"))
    lines = [""] * data["line_count"]
    for excerpt in data["excerpts"]:
        lines[excerpt["first_line"] - 1:excerpt["last_line"]] = excerpt["lines"]
    return lines


def spec_path(relative: str) -> Path:
    """The copy of ../shared/<relative> (a vendor-specs file copied byte for byte)."""
    return FIXTURES / relative


def quaderno_recordings() -> list[Path]:
    """Every recorded Quaderno exchange (vendor-specs/quaderno/extracted), sorted by name."""
    return sorted((FIXTURES / "vendor-specs" / "quaderno" / "extracted").glob("*.json"))


def quaderno_recording(name: str) -> dict[str, Any]:
    """One recorded exchange, e.g. `wrong_token__0`: {"request": ..., "status": ..., "body": ...}."""
    path = FIXTURES / "vendor-specs" / "quaderno" / "extracted" / f"{name}.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def upwell_partial_example() -> str:
    """vendor-specs/upwell/onCarrierInvoiceEvent.docs-example.partial.txt, as stored (truncated)."""
    return spec_path("vendor-specs/upwell/onCarrierInvoiceEvent.docs-example.partial.txt").read_text()


def qargo_openapi(version: str) -> dict[str, Any]:
    """The trimmed Qargo OpenAPI document ("2026" or "2025-09"); a fresh copy on every call."""
    path = FIXTURES / "vendor-specs" / "qargo" / f"openapi-{version}.trimmed.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def postman_upload_body() -> dict[str, Any]:
    """The body of the Postman collection's order upload example."""
    data = json.loads((FIXTURES / "vendor-specs" / "qargo" / "postman-upload-body.json").read_text(encoding="utf-8"))
    return dict(json.loads(data["raw"]))


# --- transcribing them from the documents ---------------------------------------------------------


def _dump(data: Any) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def _seed(shared: Path, number: str) -> str:
    name, excerpts = SEED_EXCERPTS[number]
    lines = (shared / "seeds" / name).read_text(encoding="utf-8").splitlines()
    return _dump({
        "document": f"seeds/{name}", "line_count": len(lines),
        "excerpts": [{"first_line": first, "last_line": last, "read_by": why, "lines": lines[first - 1:last]}
                     for first, last, why in excerpts],
    })


def _refs(node: Any) -> Iterator[tuple[str, str]]:
    """Every `#/components/<kind>/<name>` a node points at ($ref or a discriminator mapping)."""
    if isinstance(node, dict):
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)
    elif isinstance(node, str) and node.startswith("#/components/"):
        kind, name = node.removeprefix("#/components/").split("/", 1)
        yield kind, name


def trim_openapi(document: dict[str, Any], paths: tuple[str, ...], schemas: tuple[str, ...],
                 source: str) -> dict[str, Any]:
    """The document with only `paths` (in its own order) and the components they and `schemas` reach."""
    components = document["components"]
    kept_paths = {p: item for p, item in document["paths"].items() if p in paths}
    wanted = [("schemas", n) for n in schemas if n in components["schemas"]]
    todo: list[tuple[str, str]] = [*_refs(kept_paths), *wanted]
    seen: set[tuple[str, str]] = set()
    while todo:
        kind, name = todo.pop()
        if (kind, name) in seen:
            continue
        seen.add((kind, name))
        todo.extend(_refs(components[kind][name]))
    kept: dict[str, dict[str, Any]] = {}
    for kind, items in components.items():
        chosen = {n: v for n, v in items.items() if (kind, n) in seen or kind == "securitySchemes"}
        if chosen:
            kept[kind] = chosen
    return {
        "x-transcribed-from": {"document": source, "paths": sorted(kept_paths),
                               "schemas_named_by_tests": [n for _, n in wanted],
                               "note": "only these paths and the components they and the named schemas reach"},
        "openapi": document["openapi"], "info": {k: document["info"][k] for k in ("title", "version")},
        "paths": kept_paths, "components": kept,
    }


def _qargo(shared: Path, version: str) -> str:
    source = QARGO_SPECS[version]
    text = (shared / source).read_text(encoding="utf-8")
    if source.endswith(".yml"):
        import yaml

        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    else:
        document = json.loads(text)
    return _dump(trim_openapi(document, QARGO_PATHS, QARGO_SCHEMAS, source))


def _postman(shared: Path) -> str:
    collection = json.loads((shared / POSTMAN).read_text(encoding="utf-8"))
    stack: list[tuple[str, dict[str, Any]]] = [(i.get("name", ""), i) for i in collection["item"]]
    while stack:
        trail, item = stack.pop(0)
        stack.extend((f"{trail} / {i.get('name', '')}", i) for i in item.get("item", []))
        request = item.get("request") or {}
        url = request.get("url")
        raw_url = url.get("raw", "") if isinstance(url, dict) else ""
        if request.get("method") == "POST" and raw_url.endswith(POSTMAN_UPLOAD):
            return _dump({"document": POSTMAN, "item": trail, "raw": request["body"]["raw"]})
    raise ValueError(f"{POSTMAN}: no POST {POSTMAN_UPLOAD} example")


def transcribe(shared: Path) -> dict[Path, bytes]:
    """Every fixture file (relative to FIXTURES) and its content, computed from the documents in `shared`."""
    files: dict[Path, bytes] = {}
    for number in SEED_EXCERPTS:
        files[Path("seeds") / f"{number}.json"] = _seed(shared, number).encode()
    for pattern in COPIED_GLOBS:
        for path in sorted(shared.glob(pattern)):
            files[path.relative_to(shared)] = path.read_bytes()
    for version in QARGO_SPECS:
        files[Path("vendor-specs/qargo") / f"openapi-{version}.trimmed.json"] = _qargo(shared, version).encode()
    files[Path("vendor-specs/qargo/postman-upload-body.json")] = _postman(shared).encode()
    return files


def stored() -> set[Path]:
    """The fixture files present in the repository (relative to FIXTURES), README excluded."""
    return {p.relative_to(FIXTURES) for p in FIXTURES.rglob("*") if p.is_file() and p.name != "README.md"}


def main() -> int:
    if not SHARED.is_dir():
        print(f"{SHARED} not found: the vendor documents are needed to write the fixtures", file=sys.stderr)
        return 1
    files = transcribe(SHARED)
    for stale in stored() - set(files):
        (FIXTURES / stale).unlink()
    for relative, content in files.items():
        (FIXTURES / relative).parent.mkdir(parents=True, exist_ok=True)
        (FIXTURES / relative).write_bytes(content)
    print(f"{len(files)} fixture files written under {FIXTURES.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
