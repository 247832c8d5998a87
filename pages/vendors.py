"""Vendors: which are configured, and whether each answers."""

import streamlit as st

from services.health import probe_all
from services.settings import get_settings

st.title("Vendors")
st.caption("Where opsdash gets its data. Settings come from the environment, opsdash.toml or .streamlit/secrets.toml.")


@st.cache_data(ttl=30, show_spinner=False)
def _probe() -> list[dict[str, str]]:
    return [row.as_dict() for row in probe_all(get_settings())]


st.table(_probe())
