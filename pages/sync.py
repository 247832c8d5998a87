"""Sync & health: how fresh each source is, what failed, and a Refresh now per vendor.

A refresh's progress updates in place, and the page runs again once when it ends (ui/sync_view.py).
"""

import streamlit as st

from services.settings import get_settings
from ui import alerts as alert_view
from ui import data, downloads, operations, sync_view, tables
from ui import details as ui
from ui import format as fmt

SOURCE_COLUMNS = ("source", "state", "last_success", "status", "last_error")
JOB_COLUMNS = ("job", "kind", "vendor", "status", "progress", "message", "error", "requested_by", "created_at")
RUN_COLUMNS = ("vendor", "resource", "started_at", "finished_at", "status", "pages", "inserted", "updated",
               "error")

st.title("Sync & health")
settings = get_settings()
sources = data.all_freshness()
st.caption(fmt.freshness_line(sources))

st.subheader("Refresh now")
sync_view.refresh_buttons(settings)
sync_view.refresh_progress()

st.subheader("Sources")
tables.show([
    {"source": s.label, "state": s.state, "last_success": fmt.when_ago(s.last_success_at),
     "status": s.sentence, "last_error": s.last_error} for s in sources], SOURCE_COLUMNS, "sync.sources",
    helps={"state": "ok · stale (older than the source's threshold) · failing (the last run failed) · "
                    "never synced · not configured"})

st.subheader("Recent sync runs")
ui.paged("sync_runs", {}, "sync_runs", RUN_COLUMNS,
         empty="No sync has run yet: the worker starts one per configured vendor; Refresh now starts one at once.")

st.subheader("Jobs")
jobs = data.jobs_in_flight()
if jobs:
    shown = operations.job_rows(jobs)
    tables.show(shown, JOB_COLUMNS, "sync.jobs")
    downloads.download(shown, JOB_COLUMNS, "sync.jobs", dataset="jobs", query={})
else:
    st.info("No jobs yet. Refresh now queues one; the worker also queues scheduled syncs.")

st.subheader("Webhook events (last 24 h)")
events = data.webhook_outcomes()
if events:
    tables.show(events, ("source", "outcome", "events", "deliveries"), "sync.webhooks")
else:
    st.info("No webhook events in the last 24 hours. Upwell and Qargo push to /webhooks/upwell and "
            "/webhooks/qargo; check the vendor's webhook settings and OPSDASH_WEBHOOK_USER/PASSWORD.")

st.subheader("Rate-limit budgets")
budgets = data.rate_budgets()
if budgets:
    tables.show(sync_view.budget_rows(budgets), sync_view.BUDGET_COLUMNS, "sync.budgets")
else:
    st.caption("No vendor has been called from this database yet.")

st.subheader("Alert channels")  # alerts/dispatch.py: a failing channel retries with backoff, keeps its messages
tables.show(alert_view.channels(), alert_view.CHANNEL_COLUMNS, "sync.alert_channels")
