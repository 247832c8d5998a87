"""Upload orders to Qargo: one order by form, or a batch file; nothing is sent before the user confirms.
The steps (checked -> confirmed -> sent -> result per order) are ui/upload_forms.py."""

import streamlit as st

from services.settings import get_settings
from ui import auth, operations
from ui import upload_forms as forms

st.title("Upload orders")
st.caption("Orders go to Qargo as one background job: you may close this tab, the job carries on.")
if not auth.may_act():
    auth.viewer_notice("uploading orders")
    st.stop()
if not get_settings().configured("qargo"):
    st.warning("Qargo is not configured (QARGO_BASE_URL, QARGO_CLIENT_ID, QARGO_CLIENT_SECRET): orders can "
               "be checked here, but the upload job will fail until it is.", icon=":material/settings:")

batch_tab, form_tab = st.tabs(["Batch file", "One order"])
with batch_tab:
    forms.batch_file()
with form_tab:
    forms.one_order()

job_id = operations.submitted(forms.KEY) or operations.job_from_query(st.query_params.get("job"))
job = operations.job_state(job_id)[0] if job_id is not None else None
forms.steps(forms.stage(job))
forms.problems(job)
forms.confirm(job)
if job_id is not None:
    forms.results(job_id, job)
forms.recent()
