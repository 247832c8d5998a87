"""The Sync & health page's Refresh now and rate budgets (pages/sync.py is their outline).

A refresh's progress updates in place (a fragment re-reading the jobs table every `POLL_S` seconds while
a job of this session is queued or running); when it ends, the whole page runs again once with the read
cache cleared, so the sources, runs and jobs below show the new data without a reload.

Session-state keys owned here: `sync.refresh_jobs` (vendor -> job id of the refresh this session asked for),
`sync.finished_seen` (job ids whose end this session has already shown and reran for).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from services.settings import Settings
from ui import actions, data, operations, widgets
from ui import format as fmt

KEY_JOB = "sync.refresh_jobs"
KEY_SEEN = "sync.finished_seen"
BUDGET_COLUMNS = ("vendor", "calls_left_after_last_call", "calls_last_minute", "blocked_for")


def refresh_buttons(settings: Settings) -> None:
    st.session_state.setdefault(KEY_JOB, {})
    st.session_state.setdefault(KEY_SEEN, set())
    vendors = widgets.pulled_vendors(settings)
    if not vendors:
        st.info("No vendor is configured: set e.g. QARGO_BASE_URL and restart opsdash.",
                icon=":material/settings:")
    for col, vendor in zip(st.columns(max(1, len(vendors))), vendors, strict=False):
        if col.button(f"Refresh {vendor.title()}", key=f"refresh.{vendor}", icon=":material/sync:"):
            st.session_state[KEY_JOB][vendor] = actions.request_refresh(vendor, operations.actor_name())


def refresh_progress() -> None:
    active = {v: data.job(j) for v, j in st.session_state[KEY_JOB].items()}
    running = any(j and j.status in ("queued", "running") for j in active.values())

    @st.fragment(run_every=widgets.POLL_S if running else None)
    def progress() -> None:
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

    progress()


def budget_rows(budgets: Sequence[Any]) -> list[dict[str, Any]]:
    """The bucket as its last call left it (it refills with time): whole calls, never "0.0"."""
    return [{"vendor": b.name,
             "calls_left_after_last_call": None if b.tokens_left is None else fmt.number(int(b.tokens_left), 0),
             "calls_last_minute": b.calls_last_minute,
             "blocked_for": f"{fmt.number(b.blocked_for_s, 0)} s" if b.blocked_for_s else "Not blocked"}
            for b in budgets]
