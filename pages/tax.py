"""Tax: the history of tax calculations and tax-ID validations, each result explained in words."""

import streamlit as st

from ui import details as ui
from ui import widgets

CALCULATION_COLUMNS = ("calculated_at", "requested_by", "from_country", "to_country", "to_postal_code",
                       "currency", "amount", "rate", "tax_amount", "tax_name", "status", "explanation")
VALIDATION_COLUMNS = ("checked_at", "country", "tax_id", "name", "result", "explanation", "message",
                      "checked_by")
NO_HISTORY = ("{what} yet. They are recorded when staff run one (the forms come with the actions work); "
              "Quaderno must be configured (QUADERNO_BASE_URL, QUADERNO_API_KEY).")

st.title("Tax")
st.caption("Every calculation and validation made through opsdash, newest first.")

st.subheader("Tax calculations")
calculations = ui.explained_page("tax_calculations", widgets.page_offset("tax.calculations"))
if calculations.total:
    widgets.table(calculations, "tax.calculations", CALCULATION_COLUMNS)
else:
    st.info(NO_HISTORY.format(what="No tax calculations"), icon=":material/calculate:")

st.subheader("Tax-ID validations")
validations = ui.explained_page("tax_id_validations", widgets.page_offset("tax.validations"))
if validations.total:
    widgets.table(validations, "tax.validations", VALIDATION_COLUMNS)
else:
    st.info(NO_HISTORY.format(what="No tax-ID validations"), icon=":material/badge:")
