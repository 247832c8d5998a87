"""The page router and shared chrome: every rerun starts here.

Pages are listed in `PAGES`; a page whose file is not there yet is left out (st.navigation
fails on a missing file), so pages can land one at a time. The sidebar filters are rendered here,
before the page runs, so every page shares them (ui/filters.py).
"""

from pathlib import Path

import streamlit as st

from ui import alerts, auth, filters

HERE = Path(__file__).parent
# The favicon is our own file, served by this server: a ":material/…" icon made the browser fetch it from a font
# host (issue 21: no third-party request from any page).
st.set_page_config(page_title="opsdash", page_icon=str(HERE / "ui" / "favicon.png"), layout="wide")

# (file, title); the first is the default page. No icons in the menu: a material icon is a ligature, so its
# name ("dashboard", "history") became part of each link's accessible name (issue 21).
PAGES = [
    ("pages/overview.py", "Overview"),
    ("pages/orders.py", "Orders"),
    ("pages/invoices.py", "Invoices"),
    ("pages/tax.py", "Tax"),
    ("pages/stock.py", "Stock"),
    ("pages/sync.py", "Sync & health"),
    ("pages/vendors.py", "Vendors"),
    ("pages/upload.py", "Upload orders"),
    ("pages/audit.py", "Audit log"),
    ("pages/alerts.py", "Alerts"),
]
# A visible focus ring on the menu's links and every button for keyboard users (Streamlit draws none on links).
FOCUS_CSS = """<style>
[data-testid="stSidebarNav"] a:focus-visible, [data-testid="stSidebarNavLink"]:focus-visible,
button:focus-visible, a:focus-visible { outline: 3px solid #1f6fd1; outline-offset: 2px; border-radius: 4px; }
</style>"""

pages = [st.Page(path, title=title, default=i == 0)
         for i, (path, title) in enumerate(p for p in PAGES if (HERE / p[0]).exists())]
page = st.navigation(pages)
st.html(FOCUS_CSS)
auth.sidebar()
alerts.sidebar_badge()  # unread alerts, a link to the Alerts page
filters.sidebar()
page.run()
