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
id, never from a vendor URL given as markdown; their labels (`st.page_link`, the Alerts inbox) render
markdown too, so a label carrying vendor words goes through `text` as well. The alert channels follow
the same rule in their own formats (services/notify.py: `header_text` for e-mail headers, `slack_text`).

Charts: plotly renders a subset of HTML (`<a href>`, `<b>`, `<br>`...) in axis labels, legends and
hovers, so a warehouse named `<a href="https://evil.example">WH</a>` would be a live link on a bar
chart. Escape the data before plotly sees it: `frame(df)` for a DataFrame handed to plotly express
(whose default hovers bake the values in), or `chart(fig)` for a figure whose hover templates are our
own: it escapes `&`, `<` and `>` in everything the figure took from data (trace values, names, custom
data, facet labels), leaving our titles and templates as they are.
"""

from __future__ import annotations

import html
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


# Trace attributes that carry data values (a vendor's words) rather than our own layout text.
_DATA_ATTRIBUTES = ("x", "y", "text", "customdata", "hovertext", "name", "legendgroup", "ids", "labels",
                    "parents", "offsetgroup")


def chart_text(value: Any) -> str:
    """One vendor word for a chart title or axis title (plotly renders tags there too)."""
    return html.escape("" if value is None else str(value), quote=False)


def chart(fig: Any) -> Any:
    """`fig` with the data-derived strings HTML-escaped (plotly would render their tags); returns `fig`."""
    for trace in fig.data:
        for attribute in _DATA_ATTRIBUTES:
            value = getattr(trace, attribute, None) if attribute in trace else None
            if value is not None:
                trace[attribute] = _escaped(value)
    for annotation in fig.layout.annotations or ():  # facet labels ("unit=kg") come from data
        annotation.text = _escaped(annotation.text)
    return fig


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, (list, tuple)):
        return type(value)(_escaped(v) for v in value)
    if hasattr(value, "tolist"):  # numpy arrays: plotly keeps them as they are given
        items = value.tolist()
        return _escaped(items) if any(isinstance(v, (str, list)) for v in items) else value
    return value


def frame(data: Any) -> Any:
    """A DataFrame copy of `data` (a DataFrame or row dicts) with every text cell HTML-escaped, for plotly
    express (see the module doc)."""
    import pandas as pd

    out = data.copy() if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
    for column in out.columns:
        if pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(lambda v: html.escape(v, quote=False) if isinstance(v, str) else v)
    return out
