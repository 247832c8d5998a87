"""Tax: the history of tax calculations and tax-ID validations, each result explained in words."""

from decimal import Decimal, InvalidOperation

import streamlit as st

from actions import taxids
from actions.tax import TAX_CODES, TaxParams, calculate
from ui import auth, operations, widgets
from ui import details as ui

CALCULATION_COLUMNS = ("calculated_at", "requested_by", "from_country", "to_country", "to_postal_code",
                       "currency", "amount", "rate", "tax_amount", "tax_name", "status", "explanation")
VALIDATION_COLUMNS = ("checked_at", "country", "tax_id", "name", "result", "explanation", "message",
                      "checked_by")
NO_HISTORY = ("{what} yet. They are recorded when staff run one (the forms come with the actions work); "
              "Quaderno must be configured (QUADERNO_BASE_URL, QUADERNO_API_KEY).")

st.title("Tax")
st.caption("Calculate tax and validate tax IDs through Quaderno; below, every one made through opsdash.")


def amount_of(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def calculation_form() -> None:
    with st.form("tax.calc"):
        cols = st.columns(4)
        to_country = cols[0].text_input("To country (ISO)", key="tax.to_country")
        postal = cols[1].text_input("To postal code", key="tax.to_postal")
        from_country = cols[2].text_input("From country (blank: the account's)", key="tax.from_country")
        code = cols[3].selectbox("Tax code", TAX_CODES, index=TAX_CODES.index("standard"), key="tax.code")
        amount_text = cols[0].text_input("Amount (e.g. 100.00)", key="tax.amount")
        currency = cols[1].text_input("Currency", value="EUR", key="tax.currency")
        tax_id = cols[2].text_input("Customer tax ID (optional)", key="tax.tax_id")
        if not st.form_submit_button("Calculate"):
            return
    amount = amount_of(amount_text)
    if amount is None:
        st.error(f"Nothing was sent: {amount_text!r} is not an amount; write e.g. 100.00.")
        return
    params = TaxParams(to_country.strip().upper(), amount, currency.strip().upper(), postal.strip() or None,
                       from_country.strip().upper() or None, code, tax_id=tax_id.strip() or None)
    result = operations.attempt(calculate, params)
    if result is not None:
        rate, tax, total = st.columns(3)
        rate.metric("Rate", f"{result.rate if result.rate is not None else '—'} %")
        tax.metric("Tax", f"{result.tax.amount} {result.tax.currency}")
        total.metric("Total", f"{result.total.amount} {result.total.currency}")
        st.info(f"Why: {result.reason or result.status or 'Quaderno gave no reason'}"
                + (f" ({result.tax_name})" if result.tax_name else ""), icon=":material/info:")


def validation_forms() -> None:
    with st.form("tax.validate"):
        country_col, number_col = st.columns([1, 3])
        country = country_col.text_input("Country", key="tax.v_country")
        number = number_col.text_input("Tax ID", key="tax.v_number")
        checked = operations.attempt(taxids.validate_one, country, number) \
            if st.form_submit_button("Validate") else None
    if checked is not None:
        show = {"valid": st.success, "invalid": st.error}.get(checked.result, st.warning)
        show(f"{checked.country} {checked.tax_id}: {checked.result} — {checked.message} "
             f"(checked {checked.checked_at} by {checked.checked_by})")
    file = st.file_uploader("Batch: CSV with columns country,tax_id[,name] (at most 5 MB)", type=["csv"],
                            key="taxids.file")
    if file is not None and st.button("Check the file", key="taxids.check"):
        try:
            rows, problems = taxids.parse_csv(file.getvalue())
        except ValueError as exc:
            rows, problems = [], [str(exc)]
        operations.set_pending("taxids", rows)
        st.session_state["taxids.errors"] = problems
    for problem in st.session_state.get("taxids.errors") or []:
        st.error(problem)
    ready = operations.pending("taxids")
    if ready and st.button(f"Confirm: validate {len(ready)} tax IDs", type="primary", key="taxids.confirm"):
        operations.set_submitted("taxids", operations.attempt(taxids.submit_validation_batch, ready))
    sure = st.checkbox("Yes, check every cached customer's VAT number (one Quaderno call each)",
                       key="taxids.all_sure")
    if st.button("Validate all customers", disabled=not sure, key="taxids.all"):
        operations.set_submitted("taxids", operations.attempt(taxids.submit_all_customers))


@st.fragment(run_every=2)
def validation_progress(job_id: int) -> None:
    job, _ = operations.job_state(job_id)
    operations.show_job("Tax-ID validation", job)
    if job is not None and isinstance(job.result, dict):
        st.caption(" · ".join(f"{k}: {v}" for k, v in job.result.items()))


if auth.may_act():
    calc_tab, validate_tab = st.tabs(["Calculate tax", "Validate tax IDs"])
    with calc_tab:
        calculation_form()
    with validate_tab:
        validation_forms()
    if operations.submitted("taxids") is not None:
        validation_progress(operations.submitted("taxids"))
else:
    auth.viewer_notice("calculating tax and validating tax IDs")

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
