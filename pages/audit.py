"""Audit log: who triggered which vendor action, on what, with what result; searchable and exportable."""

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from services.settings import get_settings
from ui import auth, downloads, filters, operations, tables
from ui import data as loaders
from ui import format as fmt

COLUMNS = ("id", "at", "actor", "action", "target", "result", "vendor_reference", "payload_digest")
SHOWN = ("at", "actor", "what", "target", "result")  # the vendor's own ids (UUIDs) only with "Show entry ids"
LIMIT = 500
VENDOR_NAMES = tables.VENDORS


def readable(entry: dict) -> dict:  # type: ignore[type-arg]
    """"quaderno.validate_tax_id" -> "Quaderno · Validate tax ID" (the exact code stays in the download)."""
    vendor, _, rest = entry["action"].partition(".")
    subject = VENDOR_NAMES.get(vendor) or fmt.words(vendor)  # "reorder_levels" -> "Reorder levels"
    what = f"{subject} · {fmt.words(rest.replace('.', ' '))}" if rest else fmt.words(entry["action"])
    return entry | {"what": what}


@loaders.loader
def entries(db, **query):  # type: ignore[no-untyped-def]
    return operations.audit_entries(db, **query)


st.title("Audit log")
st.caption("Every action staff triggered through opsdash, newest first. Payloads are kept only as a "
           "digest (SHA-256), never in clear.")

actor_col, action_col, target_col, text_col = st.columns(4)
actor = actor_col.text_input("Actor (exact)", key="audit.actor").strip()
action = action_col.text_input("Action (exact)", placeholder="e.g. quaderno.validate_tax_id",
                              key="audit.action").strip()
target = target_col.text_input("Target (exact)", key="audit.target").strip()
text = text_col.text_input("Contains (target, result, reference)", key="audit.text").strip()
start, end = filters.default_dates()
dates = st.date_input("Dates", value=(start - timedelta(days=275), end), key="audit.dates")
first, last = (dates[0], dates[-1]) if isinstance(dates, (tuple, list)) and dates else (start, end)

rows = entries(actor=actor or None, action=action or None, target=target or None, text=text or None,
               since=datetime.combine(first, time.min, UTC),
               until=datetime.combine(last + timedelta(days=1), time.min, UTC), limit=LIMIT)
if rows:
    st.caption(f"{fmt.number(len(rows))} entries" + (f" (the newest {LIMIT})" if len(rows) == LIMIT else ""))
    show_ids = st.toggle("Show entry ids, vendor references and payload digests", key="audit.ids")
    tables.show([readable(r) for r in rows], ("id", *SHOWN, "vendor_reference", "payload_digest") if show_ids else SHOWN,
                "audit.table", ids=show_ids)
    exact = {"actor": actor, "action": action, "target": target}
    whole = {k: v for k, v in exact.items() if v} | {"at__gte": f"{first.isoformat()}",
                                                    "at__lt": f"{(last + timedelta(days=1)).isoformat()}"}
    # the whole filtered log, as `opsdash export audit_log` writes it; "contains" has no export filter
    downloads.download(rows, COLUMNS, "audit", label="Entries shown", dataset=None if text else "audit_log",
                       query=whole)
else:
    st.info("No audit entries match. Actions (uploads, validations, tax calculations, charge decisions) are "
            "recorded when staff run them on configured vendors; widen the dates or clear a field.",
            icon=":material/history:")

if auth.can_admin():  # admins only: which settings are set, never their values (they include secrets)
    with st.expander("Settings (admin, read-only)"):
        settings = get_settings()
        tables.show([{"setting": name.upper(), "set": name in settings.model_fields_set}
                     for name in sorted(type(settings).model_fields)], ("setting", "set"), "audit.settings")
