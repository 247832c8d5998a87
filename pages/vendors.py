"""Vendors: which are configured; reachability is checked only when the user asks (never on a rerun)."""

import streamlit as st

from services.health import probe_all
from services.settings import get_settings
from ui import config_errors, tables

st.title("Vendors")
st.caption("Where opsdash gets its data. Settings come from the environment, opsdash.toml or .streamlit/secrets.toml.")

settings = get_settings()
check = st.button("Check connections", help="Asks each configured vendor's server for an answer (no credentials sent).")
rows = [{"vendor": tables.VENDORS.get(row.vendor, row.vendor), "configured": row.configured,
         "address": row.base_url, "answer": row.reachable} for row in probe_all(settings, reach=check)]
tables.static(rows, ("vendor", "configured", "address", "answer"))
if not check:
    st.caption("Reachability is not checked until you press **Check connections**; the Sync & health page "
               "shows each vendor's last sync.")

problems = config_errors.rows()
if problems:
    st.subheader("Configuration errors")
    st.error("A vendor refused opsdash's credentials or their rights (HTTP 401/403). Retrying cannot fix this and "
             "opsdash does not retry it: correct the setting named in the message; the entry clears at the next "
             "successful call.", icon=":material/key_off:")
    tables.static(problems, ("vendor", "status", "while", "message", "last_seen_at"))
