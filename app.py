"""ASGI entry point: `streamlit run app.py`.

One process serves the dashboard (pages routed in `dashboard.py`), the webhook routes
(`POST /webhooks/upwell`, `POST /webhooks/qargo`) and, unless OPSDASH_INPROCESS_WORKER is false,
the sync/job worker in a background thread (Streamlit >= 1.57 `st.App`).
"""

import contextlib
from collections.abc import AsyncIterator

import pandas  # noqa: F401 - imported once at server start, so the first visitor's page run doesn't pay for it
import plotly.express  # noqa: F401
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

import actions  # noqa: F401 - registers the action job handlers with the in-process worker
import ui.data  # registers the pages' summaries, so the in-process worker rebuilds them after syncs
import ui.details  # noqa: F401
from jobs.worker import start_inprocess_worker
from services.settings import get_settings
from ui.nodelay import without_nagle
from webhooks.webhooks import webhook_routes


@contextlib.asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    stop = start_inprocess_worker(get_settings())
    try:
        yield
    finally:
        stop()


# dashboard.py routes with st.navigation. Streamlit decides once per process, on the first session, whether a
# `pages/` folder beside the main script is a (v1) multipage app; until some session has run st.navigation it
# is, so a fresh server's first visitor on a deep link (/tax, an alert's link) got pages/tax.py run alone: no
# sidebar filters, no sign-in, file names as the menu. Say so before any session starts.
PagesManager.uses_pages_directory = False
without_nagle()  # before the first connection is accepted (ui/nodelay.py: 40 ms per answer otherwise)
app = st.App("dashboard.py", routes=webhook_routes(), lifespan=lifespan)
