"""Alerts: the in-app inbox (open and recent alerts, with a link to the record), the rules, the channels.

The worker evaluates the rules after each sync or ingest and sends the messages; this page only reads,
except for the admin's rule forms (actions.alerts: admin-only, audited) and "mark read".
"""

import streamlit as st

from actions import alerts
from alerts.rules import CHANNELS, KINDS
from services.settings import get_settings
from ui import alerts as view
from ui import auth, operations, safe, tables

st.title("Alerts")
st.caption("Rules are checked by the worker after every sync and webhook, from the cache. One alert per "
           "condition until it clears; e-mail and webhook channels stay off until configured (docs/alerts.md).")

st.subheader("Inbox")
show = st.segmented_control("Show", ["Open", "All recent"], default="Open", key="alerts.show") or "Open"
rows = view.inbox("open" if show == "Open" else None)
if rows:
    tables.show(rows, view.INBOX_COLUMNS, "alerts.inbox")
    for row in rows[:10]:
        if row["link"]:
            target, query = view.link_target(row["link"])
            # a title carries vendor words (an invoice number, a customer): a link label renders markdown
            # no icon: a material icon's name ("open_in_new") became part of the link's accessible name
            st.page_link(target, label=safe.text(row["title"]), query_params=query)
    if view.unread() and st.button("Mark all read", key="alerts.read"):  # no icon ligature in its name
        operations.attempt(alerts.mark_read)
        st.rerun()
else:
    st.info("No open alerts. The worker evaluates the rules after data is synced; add a rule below, "
            "or configure a vendor so there is data to watch.", icon=":material/notifications:")

st.subheader("Rules")
rules = view.rules()
if rules:
    tables.show(view.rule_rows(rules), view.RULE_COLUMNS, "alerts.rules")
else:
    st.info("No alert rules yet. An admin adds them here or with `opsdash alerts add`.")

if auth.can_admin():
    with st.expander("Add a rule (admin)"), st.form("alerts.add", clear_on_submit=False):
        name = st.text_input("Name", key="alerts.name")
        kind = st.selectbox("Condition", list(KINDS), format_func=view.kind_label, key="alerts.kind")
        st.caption(view.kind_help(kind))
        params = st.text_input("Parameters (NAME=VALUE, comma-separated)", placeholder="days=60, min_amount=1000",
                               key="alerts.params")
        channels = st.multiselect("Also send to", CHANNELS, key="alerts.channels")
        resolved = st.checkbox("Send a message when it clears", value=True, key="alerts.resolved")
        if st.form_submit_button("Add rule"):
            try:
                parsed = view.parse_params(params)
            except ValueError as exc:
                st.error(f"Nothing was stored: {exc}")
            else:
                if operations.attempt(alerts.add_rule, name, kind, parsed, channels, resolved):
                    st.toast(f"Rule {safe.text(name)} added; the worker checks it on its next pass.")
                    st.rerun()
    if rules:
        names = [r.name for r in rules]
        chosen = st.selectbox("Rule", names, key="alerts.chosen")
        test_col, remove_col = st.columns(2)
        if test_col.button("Test: show matches and send a test message", key="alerts.test"):
            result = operations.attempt(alerts.test_rule, chosen, get_settings())
            if result is not None:
                st.text(f"{len(result.findings)} matching now" + (f" ({result.error})" if result.error else ""))
                tables.show([{"key": f.key, "title": f.title} for f in result.findings], ("key", "title"),
                            "alerts.matches")
                for channel, outcome in (result.sent or {"inbox": "the only channel of this rule"}).items():
                    st.text(f"{channel.title()}: {outcome}")  # a mail server's or webhook's words
        if remove_col.button("Remove rule", key="alerts.remove") and operations.attempt(alerts.remove_rule, chosen):
            st.rerun()
else:
    st.caption("Only admins add, test or remove rules.")

st.subheader("Channels")
tables.show(view.channels(), view.CHANNEL_COLUMNS, "alerts.channels_status")
