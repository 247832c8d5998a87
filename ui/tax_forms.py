"""The Tax page's forms and lists (pages/tax.py is their outline): calculate tax, validate tax IDs one by one or
in a batch, follow a batch, and the history of each.

Tax-ID results are three different answers (actions/taxids.py): "malformed" (our offline check, the
authority was not asked), "invalid" (the tax authority's answer) and "unavailable" (no answer yet).
A result just made is kept in the session and the page runs again, so the history below shows it at once;
a new attempt clears it first, so an input error never stands above the previous result (issue 21).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import streamlit as st

from actions import taxids
from actions.tax import TAX_CODES, TaxParams, calculate
from ui import data, downloads, operations, safe, tables, widgets
from ui import details as ui
from ui import format as fmt

CALCULATION_COLUMNS = ("calculated_at", "requested_by", "from_country", "to_country", "to_postal_code",
                       "amount", "rate", "tax_amount", "tax_name", "status", "explanation")
VALIDATION_COLUMNS = ("checked_at", "country", "tax_id", "name", "result", "explanation", "message",
                      "checked_by")
FORM_LABELS = {"to_country": "To country", "from_country": "From country", "tax_code": "Tax code",
               "amount": "Amount"}
RESULT_SHOW = {"valid": st.success, "invalid": st.error, "malformed": st.warning, "unavailable": st.info,
               "refused": st.warning}
RESULT_WORDS = {"valid": "valid — registered with the tax authority",
                "invalid": "invalid — the tax authority does not know this number",
                "malformed": "malformed — not a well-formed number for that country (checked offline; "
                             "the tax authority was not asked)",
                "unavailable": "unavailable — the tax authority's service did not answer; opsdash checks "
                               "again within the hour",
                "refused": "refused — Quaderno refused the request (its message follows); not retried"}
LAST_CALC, LAST_CHECK = "tax.last_calculation", "tax.last_validation"

def amount_of(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None


def labelled(problem: str) -> str:
    """A problem from the action in the form's own words ("to_country 'ZZ' ..." -> "To country: 'ZZ' ...")."""
    for name, label in FORM_LABELS.items():
        if problem.startswith(name + " "):
            return f"{label}: {problem[len(name) + 1:]}"
    return problem


def calculation_form() -> None:
    with st.form("tax.calc"):
        cols = st.columns(4)
        to_country = cols[0].text_input("To country", placeholder="ISO code, e.g. DE", key="tax.to_country")
        postal = cols[1].text_input("To postal code", key="tax.to_postal")
        from_country = cols[2].text_input("From country", placeholder="blank: the account's",
                                          key="tax.from_country")
        code = cols[3].selectbox("Tax code", TAX_CODES, index=TAX_CODES.index("standard"), key="tax.code",
                                 format_func=fmt.words)
        amount_text = cols[0].text_input("Amount", placeholder="e.g. 100.00", key="tax.amount")
        currency = cols[1].text_input("Currency", value="EUR", key="tax.currency")
        tax_id = cols[2].text_input("Customer tax ID (optional)", key="tax.tax_id")
        if not st.form_submit_button("Calculate"):
            return
    st.session_state.pop(LAST_CALC, None)  # a result stays only under the inputs that made it (issue 21)
    amount = amount_of(amount_text)
    if not to_country.strip():
        st.error("Nothing was sent: To country is empty; enter an ISO code, e.g. DE.")
        return
    if amount is None:
        st.error(f"Nothing was sent: Amount {amount_text!r} is not an amount; write e.g. 100.00.")
        return
    params = TaxParams(to_country.strip().upper(), amount, currency.strip().upper(), postal.strip() or None,
                       from_country.strip().upper() or None, code, tax_id=tax_id.strip() or None)
    problems = params.problems()
    if problems:
        st.error("Nothing was sent: " + "; ".join(labelled(p) for p in problems) + ".")
        return
    result = operations.attempt(calculate, params)
    if result is not None:
        st.session_state[LAST_CALC] = result
        st.rerun()  # the history below is read again and shows it


def last_calculation() -> None:
    result = st.session_state.get(LAST_CALC)
    if result is None:
        return
    rate, tax, total = st.columns(3)
    rate.metric("Rate", fmt.rate(result.rate))
    tax.metric("Tax", fmt.money(result.tax.amount, result.tax.currency) if result.tax else "unknown",
               help="Quaderno sent the rate without the amount: computed by opsdash (amount × rate × taxable "
                    "part, rounded half up to the cent)" if result.tax_computed else None)
    total.metric("Total", fmt.money(result.total.amount, result.total.currency) if result.total else "unknown")
    if result.tax_computed:
        st.caption(f"Tax {result.tax_note}: Quaderno's answer had a rate but no tax amount.")
    st.info(f"Why: {safe.text(result.reason or fmt.words(result.status)) or 'Quaderno gave no reason'}"
            + (f" ({safe.text(result.tax_name)})" if result.tax_name else ""), icon=":material/info:")


def validation_forms() -> None:
    with st.form("tax.validate"):
        country_col, number_col = st.columns([1, 3])
        country = country_col.text_input("Country", placeholder="e.g. DE", key="tax.v_country")
        number = number_col.text_input("Tax ID", key="tax.v_number")
        if st.form_submit_button("Validate"):
            st.session_state.pop(LAST_CHECK, None)  # an earlier answer never stands under a new error
            checked = operations.attempt(taxids.validate_one, country, number)
            if checked is not None:
                st.session_state[LAST_CHECK] = checked
                st.rerun()
    checked = st.session_state.get(LAST_CHECK)
    if checked is not None:
        RESULT_SHOW.get(checked.result, st.warning)(
            f"{checked.country} {checked.tax_id}: {RESULT_WORDS.get(checked.result, checked.result)}. "
            f"{checked.message} (checked {fmt.when(checked.checked_at)} by {checked.checked_by})")
    batch_form()


def batch_form() -> None:
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
        st.rerun()
    sure = st.checkbox("Yes, check every cached customer's VAT number (one Quaderno call each)",
                       key="taxids.all_sure")
    if st.button("Validate all customers", disabled=not sure, key="taxids.all"):
        operations.set_submitted("taxids", operations.attempt(taxids.submit_all_customers))
        st.rerun()


def validation_progress(job_id: int) -> None:
    """In place while the job runs; when it ends, the page runs once more to show the new results."""
    job, _ = operations.job_state(job_id)
    running = job is not None and job.status not in operations.FINAL_JOB

    @st.fragment(run_every=widgets.POLL_S if running else None)
    def progress() -> None:
        current, _ = operations.job_state(job_id)
        operations.show_job("Tax-ID validation", current)
        if current is not None and isinstance(current.result, dict):
            st.caption(" · ".join(f"{fmt.words(k)}: {fmt.number(v)}" for k, v in current.result.items()))
        if running and current is not None and current.status in operations.FINAL_JOB:
            data.clear()
            st.rerun(scope="app")

    progress()


def history(name: str, columns: tuple[str, ...], key: str, empty: str, icon: str) -> None:
    page = ui.explained_page(name, widgets.page_offset(key))
    if not page.total:
        st.info(empty, icon=icon)
        return
    tables.show(page.rows, columns, f"{key}.table")
    widgets._pager(key, page.total, len(page.rows), data.PAGE_SIZE)
    downloads.download(page.rows, columns, key, dataset=name, query={}, total=page.total)
