"""Audit log: who triggered which vendor action, on what, with what result; searchable and exportable."""

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from services.settings import get_settings
from ui import auth, downloads, filters, operations
from ui import data as loaders

COLUMNS = ("id", "at", "actor", "action", "target", "result", "vendor_reference", "payload_digest")
LIMIT = 500


@loaders.loader
def entries(db, **query):  # type: ignore[no-untyped-def]
    return operations.audit_entries(db, **query)


st.title("Audit log")
st.caption("Every action staff triggered through opsdash, newest first. Payloads are kept only as a "
           "digest (SHA-256), never in clear.")

actor_col, action_col, target_col, text_col = st.columns(4)
actor = actor_col.text_input("Actor (exact)", key="audit.actor").strip()
action = action_col.text_input("Action (exact, e.g. quaderno.validate_tax_id)", key="audit.action").strip()
target = target_col.text_input("Target (exact)", key="audit.target").strip()
text = text_col.text_input("Contains (target, result, reference)", key="audit.text").strip()
start, end = filters.default_dates()
dates = st.date_input("Dates", value=(start - timedelta(days=275), end), key="audit.dates")
first, last = (dates[0], dates[-1]) if isinstance(dates, (tuple, list)) and dates else (start, end)

rows = entries(actor=actor or None, action=action or None, target=target or None, text=text or None,
               since=datetime.combine(first, time.min, UTC),
               until=datetime.combine(last + timedelta(days=1), time.min, UTC), limit=LIMIT)
if rows:
    st.caption(f"{len(rows)} entries" + (f" (the newest {LIMIT})" if len(rows) == LIMIT else ""))
    st.dataframe(rows, column_order=COLUMNS, hide_index=True, key="audit.table")
    downloads.download(rows, COLUMNS, "audit")
else:
    st.info("No audit entries match. Actions (uploads, validations, tax calculations, charge decisions) are "
            "recorded when staff run them on configured vendors; widen the dates or clear a field.",
            icon=":material/history:")

if auth.can_admin():  # admins only: which settings are set, never their values (they include secrets)
    with st.expander("Settings (admin, read-only)"):
        settings = get_settings()
        st.dataframe([{"setting": name.upper(), "set": name in settings.model_fields_set}
                      for name in sorted(type(settings).model_fields)], hide_index=True, key="audit.settings")
