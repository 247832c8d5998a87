"""Who is using the dashboard: the `Actor` every action is called with.

With an identity provider configured for `st.login` (an `[auth]` section in .streamlit/secrets.toml), the
signed-in user's e-mail claim is mapped through `actions.roles.actor_for` (role table
`OPSDASH_ROLES`; anyone not listed is a viewer); before signing in, the visitor is an anonymous viewer.
Without one, the documented single-user local mode applies: `local_actor()` named by `OPSDASH_LOCAL_USER`,
with the role `OPSDASH_LOCAL_ROLE` (viewer, operator or admin; default operator), so a read-only kiosk or
the viewer browser test can run without a provider.

Hiding buttons is only a courtesy: the action functions check the role themselves (PermissionDenied).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import streamlit as st

from actions import roles
from actions.roles import Actor, actor_for, can, local_actor

ANONYMOUS = Actor("anonymous", "viewer")


def login_configured() -> bool:
    """True when secrets hold an `[auth]` section; a missing secrets file means local mode."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - Streamlit raises its own error type when no secrets file exists
        return False


def local_role(environ: Mapping[str, str] = os.environ) -> str:
    return roles.local_role(environ)  # one rule for the UI and the CLI


def local(environ: Mapping[str, str] = os.environ) -> Actor:
    return local_actor(environ)


def current_actor() -> Actor:
    """The actor of this session (re-read on every rerun: cheap, and follows a sign-in at once)."""
    if not login_configured():
        return local()
    if not st.user.is_logged_in:
        return ANONYMOUS
    claim = st.user.get("email") or st.user.get("sub")
    return actor_for(str(claim)) if claim else ANONYMOUS


def may_act() -> bool:
    return can(current_actor(), "actions")


def sidebar() -> None:
    """The signed-in user and role, and the sign-in/out button when a provider is configured."""
    actor = current_actor()
    with st.sidebar:
        st.caption(f"User **{actor.name}** · {actor.role}"
                   + ("" if login_configured() else " (local mode)"))
        if login_configured():
            if st.user.is_logged_in:
                st.button("Sign out", on_click=st.logout, key="auth.logout")
            else:
                st.button("Sign in", on_click=st.login, key="auth.login")


def viewer_notice(what: str) -> None:
    """Shown instead of a form to someone who may not act."""
    actor = current_actor()
    st.info(f"{actor.name} is a {actor.role}: {what} needs the operator role. Ask an admin to grant it.",
            icon=":material/lock:")


def can_admin() -> bool:
    return can(current_actor(), "settings")
