"""Vendor text is text (issue 11 point 4): hostile values in every vendor column, rendered through every
page, produce no link, image or HTML the app did not make.

Every free-text column of the seeded cache gets a suffix that would be a live link, an externally
fetched image and an HTML tag if rendered as markdown. Each page's element tree is then searched:
elements that render markdown (titles, captions, alerts, labels, progress texts...) must not carry
those markers raw; `ui.safe.text` escapes them so they read as the characters they are. Tables and
`st.text` / `st.code` show text as text and are exempt.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict

from store.db import connect
from tests.pages.conftest import ROOT, run_page
from ui import safe

HOSTILE = (' [click](https://evil.example) ![x](http://host/px.png) <img src=x> https://evil.example/bare'
           ' <a href="https://evil.example/a">a</a>')
CHART_TAGS = re.compile(r"<\s*(a|img)\b", re.IGNORECASE)  # plotly renders <a href> in labels, legends, hovers
MARKERS = ("](https://evil.example)", "![x](http://host/px.png)", "<img src=x>", "https://evil.example/bare")
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
# Columns the pages compute with (dates, money codes, statuses, enum-like words, JSON): a vendor could send
# anything there too, but the mappers and the queries normalise or compare them; free text is what we poison.
KEEP = ("_at", "_date", "date", "time", "currency", "status", "state", "result", "kind", "outcome", "operation",
        "source", "raw", "payload", "body", "unit", "country", "via", "resource_type", "vendor", "resource",
        "dedupe_key", "event_type", "cursor", "server_time", "role", "channel", "signature", "params",
        "worker_id", "lease_until", "fence", "digest", "code", "warehouse_id", "product_id", "mode",
        "remains_to_be_paid")  # money as exact decimal text: the mappers write only numbers there
PLAIN_TEXT_ELEMENTS = {"text", "code", "arrow_data_frame", "dataframe", "json", "table", "selectbox", "multiselect",
                       "plotly_chart"}  # charts are searched for HTML tags instead (chart_tags)


def poison(path: Path) -> int:
    db = connect(path)
    changed = 0
    try:
        for table in db.table_names():
            if table.startswith(("_", "sqlite_", "summary_")):  # summary_*: derived from the poisoned tables
                continue
            for name, kind in db[table].columns_dict.items():
                if kind in (str, "TEXT") and not any(k in name for k in KEEP):  # sqlite_utils: str; PostgreSQL: TEXT
                    changed += db.execute(f'UPDATE "{table}" SET "{name}" = "{name}" || ? WHERE "{name}" IS NOT NULL',
                                          [HOSTILE]).rowcount
    finally:
        db.close()
    return changed


def rendered_markdown(at: Any) -> list[tuple[str, str]]:
    """(element type, every string of its proto) for every element that may render markdown."""
    found: list[tuple[str, str]] = []

    def walk(node: Any) -> None:
        kind = getattr(node, "type", "")
        proto = getattr(node, "proto", None)
        if proto is not None and kind not in PLAIN_TEXT_ELEMENTS:
            found.append((kind, repr(MessageToDict(proto))))
        for child in getattr(node, "children", {}).values() if isinstance(getattr(node, "children", None), dict) \
                else getattr(node, "children", []) or []:
            walk(child)

    walk(at._tree)
    return found


def chart_tags(at: Any) -> list[str]:
    """Strings inside the page's plotly figures that plotly would render as a link or an image."""
    found: list[str] = []

    def strings(value: Any) -> Any:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)

    def walk(node: Any) -> None:
        if getattr(node, "type", "") == "plotly_chart":
            spec = json.loads(node.proto.spec)
            found.extend(s for s in strings(spec) if CHART_TAGS.search(s))
        children = getattr(node, "children", None)
        for child in (children.values() if isinstance(children, dict) else children or []):
            walk(child)

    walk(at._tree)
    return found


@pytest.fixture
def hostile_db(seeded_db: Path) -> Path:
    assert poison(seeded_db) > 20
    db = connect(seeded_db)  # an order status the pages show as a label (Overview): a vendor word too
    try:
        db.execute("UPDATE qasida_customer_orders SET status = status || ? WHERE status = 'shipped'", [HOSTILE])
        # an open alert whose title and detail carry a vendor's words (issue 22: the Alerts inbox's links)
        db.execute("INSERT INTO alert_rules (rule_id, name, kind, created_at, updated_at) VALUES "
                   "(900, 'Overdue', 'receivable_overdue', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')")
        db.execute("INSERT INTO alerts (rule_id, key, status, title, detail, link, opened_at, last_seen_at) VALUES "
                   "(900, 'quaderno:X', 'open', ?, ?, 'pages/invoices.py?invoice=X', '2026-11-20T00:00:00Z', "
                   "'2026-11-20T00:00:00Z')", [f"Acme{HOSTILE}: invoice X is overdue", f"detail{HOSTILE}"])
    finally:
        db.close()
    return seeded_db


@pytest.mark.parametrize("page", PAGES)
def test_hostile_vendor_text_renders_no_link_image_or_html(hostile_db: Path, page: str) -> None:
    at = run_page(page)
    assert not at.exception, at.exception
    leaks = [(kind, marker) for kind, text in rendered_markdown(at) for marker in MARKERS
             if marker.lower() in text.lower()]  # case-blind: a page may title-case a vendor word
    assert leaks == [], f"{page} renders vendor text as markdown: {leaks}"
    assert chart_tags(at) == [], f"{page} puts vendor HTML into a chart"


def test_the_hostile_values_reach_the_pages(hostile_db: Path) -> None:
    """The search above would pass on an empty page: the invoices page does show the poisoned rows."""
    at = run_page("pages/invoices.py")
    frames = [f.value for f in at.dataframe]
    assert any(frame.astype(str).apply(lambda col: col.str.contains("evil.example", regex=False)).any().any()
               for frame in frames)


@pytest.mark.parametrize("value", [
    "[click](https://evil.example) ![x](http://host/px.png)", "<img src=x>", "https://evil.example www.evil.example",
    ":red[alarm] :material/home: $x^2$", "# heading\n- item\n\n> quote", "**bold** _it_ `code` ~~s~~ | a | b |",
    "a\\b &amp; &lt;", None, 12.5,
])
def test_safe_text_escapes_every_markdown_character(value: Any) -> None:
    escaped = safe.text(value)
    assert "\n" not in escaped
    if value is None:
        assert escaped == ""
        return
    unescaped = "".join(ch for i, ch in enumerate(escaped) if not (ch == "\\" and i + 1 < len(escaped)))
    assert unescaped.replace("\\\\", "\\") != "" and all(f"\\{c}" in escaped for c in "[]()!<>:" if c in str(value))
    assert "](http" not in escaped and not re.search(r"(?<!\\)<img", escaped) and "://" not in escaped


def test_chart_builders_escape_vendor_words() -> None:
    import pandas as pd

    from ui import charts

    evil = '<a href="https://evil.example/a">WH</a>'
    figures = [
        charts.orders_over_time(pd.DataFrame({"day": ["2026-11-20"], "orders": [3], "status": [evil]})),
        charts.per_unit(pd.DataFrame({"warehouse": [evil], "unit": [evil], "available": [1.0], "reserved": [0.0]}),
                        {"available": "Available", "reserved": "Reserved"}, "Stock"),
        charts.aging_counts([{"bucket": "0–30", "currency": evil, "invoices": 1, "amount": "1.00"}], ["0–30"], "Aging"),
        charts.grouped_counts(pd.DataFrame({"warehouse": [evil], "items": [2]}), "warehouse", {"items": "Items"}, "T"),
    ]
    for fig in figures:
        spec = json.loads(fig.to_json())
        text = json.dumps(spec, ensure_ascii=False)
        assert not CHART_TAGS.search(text), text[:400]
        assert "&lt;a href" in text  # still shown, as the characters it is
