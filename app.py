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

import actions  # noqa: F401 - registers the action job handlers with the in-process worker
import ui.data  # registers the pages' summaries, so the in-process worker rebuilds them after syncs
import ui.details  # noqa: F401
from cache.webhooks import webhook_routes
from cache.worker import start_inprocess_worker
from services.settings import get_settings


@contextlib.asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    stop = start_inprocess_worker(get_settings())
    try:
        yield
    finally:
        stop()


app = st.App("dashboard.py", routes=webhook_routes(), lifespan=lifespan)
