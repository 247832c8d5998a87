"""Sync & health: how fresh each source is, what failed, and a Refresh now per vendor."""

import streamlit as st

from services.settings import get_settings
from ui import actions, data, widgets

st.title("Sync & health")
settings = get_settings()
KEY_JOB = "sync.refresh_jobs"  # vendor -> job id of the refresh this session asked for
st.session_state.setdefault(KEY_JOB, {})

st.subheader("Refresh now")
vendors = widgets.pulled_vendors(settings)
if not vendors:
    st.info("No vendor is configured: set e.g. QARGO_BASE_URL and restart opsdash.",
            icon=":material/settings:")
for col, vendor in zip(st.columns(max(1, len(vendors))), vendors, strict=False):
    if col.button(f"Refresh {vendor.title()}", key=f"refresh.{vendor}", icon=":material/sync:"):
        st.session_state[KEY_JOB][vendor] = actions.request_refresh(vendor)


@st.fragment(run_every=widgets.POLL_S)
def refresh_progress() -> None:
    """Reruns alone every few seconds: reads the jobs table, never blocks the page."""
    for vendor, job_id in st.session_state[KEY_JOB].items():
        widgets.job_progress(vendor, data.job(job_id))


refresh_progress()

st.subheader("Sources")
st.dataframe(widgets.freshness_rows(data.all_freshness()), hide_index=True, key="sync.sources")

st.subheader("Recent sync runs")
widgets.dataset_section("sync_runs", {}, key="sync_runs")

st.subheader("Jobs")
jobs = data.jobs_in_flight()
if jobs:
    st.dataframe(widgets.job_rows(jobs), hide_index=True, key="sync.jobs")
else:
    st.info("No jobs yet. Refresh now queues one; the worker also queues scheduled syncs.")

st.subheader("Webhook events (last 24 h)")
events = data.webhook_outcomes()
if events:
    st.dataframe(events, hide_index=True, key="sync.webhooks")
else:
    st.info("No webhook events in the last 24 hours. Upwell and Qargo push to /webhooks/upwell and "
            "/webhooks/qargo; check the vendor's webhook settings and OPSDASH_WEBHOOK_USER/PASSWORD.")

st.subheader("Rate-limit budgets")
budgets = data.rate_budgets()
if budgets:
    st.dataframe([b.__dict__ for b in budgets], hide_index=True, key="sync.budgets")
else:
    st.caption("No vendor has been called from this database yet.")
