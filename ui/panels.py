"""A panel that fails shows a short message and a reference, never a traceback (issue 21).

The traceback (server paths, SQL, a vendor's reply) goes to the server log under the same reference, so
someone reading the log finds it. Streamlit's own stop and rerun signals are BaseExceptions and pass through.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

log = logging.getLogger("opsdash.ui.panels")


def reference() -> str:
    return secrets.token_hex(4)


@contextmanager
def guarded(name: str) -> Iterator[None]:
    """`with guarded("Charges"):` draws the panel; an error in it becomes one line naming the panel."""
    try:
        yield
    except Exception:  # every failure of a panel is shown the same way, and logged in full
        ref = reference()
        log.exception("the %s panel failed (reference %s)", name, ref)
        st.error(f"The {name} panel could not be shown (reference {ref}). The rest of the page works; "
                 "the details are in the server log under that reference.", icon=":material/error:")
