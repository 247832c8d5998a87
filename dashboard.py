"""The page router and shared chrome: every rerun starts here."""

import streamlit as st

st.set_page_config(page_title="opsdash", page_icon=":material/local_shipping:", layout="wide")

pages = [
    st.Page("pages/vendors.py", title="Vendors", icon=":material/hub:", default=True),
]
st.navigation(pages).run()
