"""Tax: calculate tax and validate tax IDs through Quaderno; below, every one made through opsdash, in words.
The forms and lists are ui/tax_forms.py."""

import streamlit as st

from services.settings import get_settings
from ui import auth, operations
from ui import tax_forms as forms

st.title("Tax")
st.caption("Calculate tax and validate tax IDs through Quaderno; below, every one made through opsdash.")

may_act = auth.may_act()
if may_act:
    calc_tab, validate_tab = st.tabs(["Calculate tax", "Validate tax IDs"])
    with calc_tab:
        forms.calculation_form()
        forms.last_calculation()
    with validate_tab:
        forms.validation_forms()
    if (job_id := operations.submitted("taxids")) is not None:
        forms.validation_progress(job_id)
else:
    auth.viewer_notice("calculating tax and validating tax IDs")

how = ("Use the form above to make one." if may_act else "Staff with the operator role make them here.")
configured = "" if get_settings().configured("quaderno") else " Quaderno must be configured first (QUADERNO_BASE_URL, " \
    "QUADERNO_API_KEY)."
st.subheader("Tax calculations")
forms.history("tax_calculations", forms.CALCULATION_COLUMNS, "tax.calculations",
              f"No tax calculations yet. {how}{configured}", ":material/calculate:")
st.subheader("Tax-ID validations")
forms.history("tax_id_validations", forms.VALIDATION_COLUMNS, "tax.validations",
              f"No tax-ID validations yet. {how}{configured}", ":material/badge:")
