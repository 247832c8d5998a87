"""The page router and shared chrome: every rerun starts here.

Pages are listed in `PAGES`; a page whose file is not there yet is left out (st.navigation
fails on a missing file), so pages can land one at a time. The sidebar filters are rendered here,
before the page runs, so every page shares them (ui/filters.py).
"""

from pathlib import Path

import streamlit as st

from ui import alerts, auth, filters

st.set_page_config(page_title="opsdash", page_icon=":material/local_shipping:", layout="wide")

HERE = Path(__file__).parent
# (file, title, icon); the first is the default page.
PAGES = [
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/orders.py", "Orders", ":material/local_shipping:"),
    ("pages/invoices.py", "Invoices", ":material/receipt_long:"),
    ("pages/tax.py", "Tax", ":material/account_balance:"),
    ("pages/stock.py", "Stock", ":material/inventory_2:"),
    ("pages/sync.py", "Sync & health", ":material/sync:"),
    ("pages/vendors.py", "Vendors", ":material/hub:"),
    ("pages/upload.py", "Upload orders", ":material/upload_file:"),
    ("pages/audit.py", "Audit log", ":material/history:"),
    ("pages/alerts.py", "Alerts", ":material/notifications:"),
]

pages = [st.Page(path, title=title, icon=icon, default=i == 0)
         for i, (path, title, icon) in enumerate(p for p in PAGES if (HERE / p[0]).exists())]
page = st.navigation(pages)
auth.sidebar()
alerts.sidebar_badge()  # unread alerts, a link to the Alerts page
filters.sidebar()
page.run()
