"""ASGI entry point: `streamlit run app.py`.

One process serves the dashboard (the pages routed in `dashboard.py`) and, as the cache issue
lands, the webhook routes and the in-process worker (Streamlit >= 1.57 `st.App`).
"""

import streamlit as st

app = st.App("dashboard.py")
