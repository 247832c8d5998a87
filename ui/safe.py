"""Vendor text on screen is text: never markdown, never HTML, never a link or an image the app did not make.

Everything a vendor sends us (an Upwell `invoice_number`, an order reference, a contact name, an
error message from a vendor's API, a document file name) is data someone else chose. Streamlit
renders markdown in `st.markdown`, `st.caption`, `st.title`/`header`/`subheader`, the alert boxes
(`st.error`, `st.info`, ...), widget labels, expander and tab labels, and it turns
`[click](https://evil.example)` into a live link, `![x](http://host/px.png)` into an image fetched
from that host, bare URLs into links, and `:red[...]`, `:material/...:`, `$...$` into colours, icons
and formulas.

How to show vendor text, in order of preference:
1. in a table: `st.dataframe` / `ui.tables.show` with a TextColumn (cells are never markdown);
2. on its own: `st.text(value)` (or `st.code` for identifiers someone will copy);
3. inside a sentence of ours that is rendered as markdown: `f"... {safe.text(value)} ..."`, which
   escapes every markdown character so the value reads exactly as sent and does nothing else.
Links the app makes itself (an order page, a document download) are built from our own URL and an
id, never from a vendor URL given as markdown.
"""

from __future__ import annotations

import re
from typing import Any

# CommonMark lets any ASCII punctuation be backslash-escaped; escaping all of it also disarms GFM
# autolinks (`https\:\/\/`, `www\.`), Streamlit's directives (`:red[`, `:material/x:`) and math (`$`).
_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def text(value: Any, *, empty: str = "") -> str:
    """`value` as inert markdown: shows exactly its characters on one line, renders no markup."""
    if value is None:
        return empty
    one_line = _LINE_BREAKS.sub(" ", str(value))
    return _PUNCTUATION.sub(r"\\\1", one_line)


def bold(value: Any, *, empty: str = "") -> str:
    """Vendor text in bold, still inert (for a title line like `**CI-1001** · carrier`)."""
    escaped = text(value, empty=empty)
    return f"**{escaped}**" if escaped else ""
