"""An action's outcome, kept for the next run: actions started from a button's `on_click` callback.

Why callbacks: a callback runs before the page is drawn again, so the tables below it already show what the
action changed, and it may reset the form's own widgets (a ticked "Yes, ..." box), so a second click cannot
repeat the action by accident (issue 21). The outcome is kept in `st.session_state[f"{key}.outcome"]` and shown
where the form is, by `show`.

Session-state keys owned here: `{key}.outcome` (an `Outcome`), `{key}.job` (the job a change was queued as).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import streamlit as st

from actions.roles import PermissionDenied
from services.core import AuthError, VendorError
from store.schema import session
from ui import auth, data, panels, safe

T = TypeVar("T")
log = logging.getLogger("opsdash.ui.outcomes")


@dataclass(frozen=True)
class Outcome:
    state: str  # done | refused | failed | running
    text: str  # already made safe for markdown


def run(key: str, action: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """`action(db, actor, *args)` as the current actor; a refusal becomes the form's outcome, not an exception."""
    st.session_state.pop(f"{key}.outcome", None)
    try:
        with session(data.db_path()) as db:
            result = action(db, auth.current_actor(), *args, **kwargs)
    except (PermissionDenied, VendorError, ValueError) as exc:
        keep(key, *explain(exc))
        return None
    except Exception:  # a bug, not a refusal: a reference here, the traceback in the log (ui/panels.py)
        ref = panels.reference()
        log.exception("action %s failed (reference %s)", key, ref)
        keep(key, "failed", f"The action failed (reference {ref}); nothing more is known here. The details "
                            "are in the server log under that reference.")
        return None
    data.clear()  # the tables drawn after this callback read what the action changed
    return result


def explain(exc: Exception) -> tuple[str, str]:
    """(state, text) for a refused action: what failed, where, and what to try."""
    if isinstance(exc, PermissionDenied):
        return "refused", f"Not allowed: {safe.text(exc)}."
    if isinstance(exc, AuthError):
        return "failed", (f"Configuration problem at {exc.vendor}: {safe.text(exc)}. Nothing was sent; "
                          "see the Vendors page.")
    if isinstance(exc, VendorError):
        refused = exc.status is not None and 400 <= exc.status < 500
        return ("refused" if refused else "failed"), f"{exc.vendor or 'The vendor'} answered: {safe.text(exc)}"
    problems = getattr(exc, "problems", None)  # a list of named bad rows (figures.reorder.ReorderLevelError)
    if isinstance(problems, list) and problems:
        return "refused", "Nothing was saved. Fix these rows and save again: " + "; ".join(
            safe.text(p) for p in problems) + "."
    return "refused", f"Nothing was sent: {safe.text(exc)}"


def keep(key: str, state: str, text: str) -> None:
    st.session_state[f"{key}.outcome"] = Outcome(state, text)


def current(key: str) -> Outcome | None:
    value = st.session_state.get(f"{key}.outcome")
    return value if isinstance(value, Outcome) else None


ICONS = {"done": ":material/check:", "refused": ":material/block:", "failed": ":material/error:",
         "running": ":material/hourglass_top:"}


def show(key: str) -> None:
    found = current(key)
    if found is None:
        return
    box = {"done": st.success, "running": st.info}.get(found.state, st.error)
    box(found.text, icon=ICONS.get(found.state))
