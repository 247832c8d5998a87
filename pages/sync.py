"""Sync & health: how fresh each source is, what failed, and a Refresh now per vendor.

A refresh's progress updates in place (a fragment re-reading the jobs table every `POLL_S` seconds while
a job of this session is queued or running); when it ends, the whole page runs again once with the read
cache cleared, so the sources, runs and jobs below show the new data without a reload.
"""

import streamlit as st

from services.settings import get_settings
from ui import actions, data, downloads, operations, tables, widgets
from ui import alerts as alert_view
from ui import details as ui
from ui import format as fmt

KEY_JOB = "sync.refresh_jobs"  # vendor -> job id of the refresh this session asked for
KEY_SEEN = "sync.finished_seen"  # job ids whose end this session has already shown (and reran for)
SOURCE_COLUMNS = ("source", "state", "last_success", "status", "last_error")
JOB_COLUMNS = ("job", "kind", "vendor", "status", "progress", "message", "error", "requested_by", "created_at")
RUN_COLUMNS = ("vendor", "resource", "started_at", "finished_at", "status", "pages", "inserted", "updated",
               "error")

st.title("Sync & health")
settings = get_settings()
st.session_state.setdefault(KEY_JOB, {})
st.session_state.setdefault(KEY_SEEN, set())
sources = data.all_freshness()
st.caption(fmt.freshness_line(sources))

st.subheader("Refresh now")
vendors = widgets.pulled_vendors(settings)
if not vendors:
    st.info("No vendor is configured: set e.g. QARGO_BASE_URL and restart opsdash.",
            icon=":material/settings:")
for col, vendor in zip(st.columns(max(1, len(vendors))), vendors, strict=False):
    if col.button(f"Refresh {vendor.title()}", key=f"refresh.{vendor}", icon=":material/sync:"):
        st.session_state[KEY_JOB][vendor] = actions.request_refresh(vendor, operations.actor_name())

active = {v: data.job(j) for v, j in st.session_state[KEY_JOB].items()}


@st.fragment(run_every=widgets.POLL_S if any(j and j.status in ("queued", "running") for j in active.values())
             else None)
def refresh_progress() -> None:
    """Reruns alone every few seconds while a refresh runs; the page reruns once when one ends."""
    ended = False
    for vendor, job_id in st.session_state[KEY_JOB].items():
        job = data.job(job_id)
        operations.show_job(f"Refresh {vendor.title()}", job)
        if job is not None and job.status not in ("queued", "running") and job_id not in st.session_state[KEY_SEEN]:
            st.session_state[KEY_SEEN].add(job_id)
            ended = True
    if ended:
        data.clear()
        st.rerun(scope="app")


refresh_progress()

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
    # The bucket as its last call left it (it refills with time): whole calls, never "0.0".
    tables.show([{"vendor": b.name,
                  "calls_left_after_last_call": None if b.tokens_left is None else fmt.number(int(b.tokens_left), 0),
                  "calls_last_minute": b.calls_last_minute,
                  "blocked_for": f"{fmt.number(b.blocked_for_s, 0)} s" if b.blocked_for_s else "Not blocked"}
                 for b in budgets], ("vendor", "calls_left_after_last_call", "calls_last_minute", "blocked_for"),
                "sync.budgets")
else:
    st.caption("No vendor has been called from this database yet.")

st.subheader("Alert channels")  # alerts/dispatch.py: a failing channel retries with backoff, keeps its messages
tables.show(alert_view.channels(), alert_view.CHANNEL_COLUMNS, "sync.alert_channels")
