"""Charts a manager reads at a glance: titled, formatted axes and hovers (ui/format.py), the theme's colours.

Every builder returns a plotly figure for `st.plotly_chart(fig, theme="streamlit")`, so light and dark
themes colour it (.streamlit/config.toml `chartCategoricalColors`). Plotly needs numbers to draw, so bars
are drawn from floats, but every number a person reads (hover, bar label) is the exact text from
ui/format.py, carried in `customdata`/`text`. Amounts of different currencies are never drawn on one axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ui import figures, safe
from ui import format as fmt

HEIGHT = 320
_MARGIN = {"l": 8, "r": 8, "t": 48, "b": 8}


def style(fig: go.Figure, title: str, *, height: int = HEIGHT, legend: bool = True) -> go.Figure:
    """Title, the locale's number marks, the legend under the plot (phones have no room at the side).

    Data-derived text (a warehouse, a status, a currency) is HTML-escaped: plotly renders tags (ui/safe.py)."""
    safe.chart(fig)
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}}, height=height, margin=_MARGIN,
        separators=fmt.plotly_separators(), showlegend=legend, legend_title_text="",
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0, "xanchor": "left"},
        hoverlabel={"namelength": -1}, bargap=0.25)
    fig.update_xaxes(title_text=None)
    return fig


@figures.memoized
def orders_over_time(frame: pd.DataFrame) -> go.Figure:
    """Business orders per day, stacked by status in words; the hover says the day and the count."""
    shown = frame.assign(status=frame["status"].map(fmt.words), day_text=frame["day"].map(fmt.day),
                         count_text=frame["orders"].map(fmt.number))
    fig = px.bar(shown, x="day", y="orders", color="status", custom_data=["day_text", "count_text", "status"])
    fig.update_traces(hovertemplate="%{customdata[0]}<br>%{customdata[2]}: %{customdata[1]} orders<extra></extra>")
    peak = int(frame.groupby("day")["orders"].sum().max()) if len(frame) else 0
    fig.update_yaxes(title_text="Orders", tickformat=",d", rangemode="tozero",
                     dtick=1 if peak <= 10 else None)  # small counts: whole ticks, never "1, 1, 2, 2"
    fig.update_xaxes(type="date", tickformat="%b %d")
    return style(fig, "Orders by status per day")


@figures.memoized
def aging(frame: pd.DataFrame, currency: str, buckets: Sequence[str], title: str) -> go.Figure:
    """One currency's open amounts per aging bucket, stacked by source; exact amounts in the hover."""
    rows = frame[(frame["currency"] == currency) & (frame["amount"] != "")].copy()
    rows["value"] = [float(Decimal(str(a))) for a in rows["amount"]]
    rows["amount_text"] = [fmt.money(a, currency) for a in rows["amount"]]
    rows["invoices_text"] = rows["invoices"].map(fmt.number)
    rows["source"] = rows["source"].map(lambda s: s.title())
    missing = [b for b in buckets if b not in set(rows["bucket"])]  # every bucket on the axis, even if empty
    if missing:
        blank = {"value": 0.0, "amount_text": fmt.money(0, currency), "invoices_text": "0"}
        rows = pd.concat([rows, pd.DataFrame([{**blank, "bucket": b, "source": rows["source"].iloc[0]
                                               if len(rows) else ""} for b in missing])], ignore_index=True)
    fig = px.bar(rows, x="bucket", y="value", color="source", category_orders={"bucket": list(buckets)},
                 custom_data=["amount_text", "invoices_text", "source"])
    fig.update_traces(hovertemplate="%{x} · %{customdata[2]}<br>%{customdata[0]}<br>%{customdata[1]} invoices"
                                    "<extra></extra>")
    fig.update_yaxes(title_text=safe.chart_text(currency), tickformat=",.0f", rangemode="tozero")
    return style(fig, f"{title} · {safe.chart_text(currency)}")


def aging_counts(rows: Sequence[Mapping[str, Any]], buckets: Sequence[str], title: str) -> go.Figure:
    """Invoices per aging bucket, one colour per currency (counts add up; amounts of currencies never do).

    `rows`: bucket, currency, invoices, amount (exact text); the hover gives the exact amount."""
    frame = pd.DataFrame(list(rows), columns=["bucket", "currency", "invoices", "amount"])
    frame["count_text"] = frame["invoices"].map(fmt.number)
    frame["amount_text"] = [fmt.money(a, c) if a not in ("", None) else "amount not in the list"
                            for a, c in zip(frame["amount"], frame["currency"], strict=True)]
    fig = px.bar(frame, x="bucket", y="invoices", color="currency", category_orders={"bucket": list(buckets)},
                 custom_data=["count_text", "amount_text", "currency"])
    fig.update_traces(hovertemplate="%{x} · %{customdata[2]}<br>%{customdata[0]} invoices<br>%{customdata[1]}"
                                    "<extra></extra>")
    fig.update_yaxes(title_text="Invoices", tickformat=",d", rangemode="tozero")
    return style(fig, title)


@figures.memoized
def per_unit(frame: pd.DataFrame, columns: Mapping[str, str], title: str) -> go.Figure:
    """Stock per warehouse, one panel per unit with its own scale (kilograms and pieces never share an axis)."""
    long = frame[["warehouse", "unit", *columns]].melt(id_vars=["warehouse", "unit"], var_name="measure",
                      value_name="quantity")
    long["measure"] = long["measure"].map(columns)
    long["quantity"] = long["quantity"].astype(float)
    long["quantity_text"] = [fmt.quantity(q, u) for q, u in zip(long["quantity"], long["unit"], strict=True)]
    fig = px.bar(long, x="warehouse", y="quantity", color="measure", facet_col="unit", barmode="stack",
                 custom_data=["quantity_text", "measure"], facet_col_spacing=0.08)
    fig.update_traces(hovertemplate="%{x}<br>%{customdata[1]}: %{customdata[0]}<extra></extra>")
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))  # "kg", not "unit=kg"
    fig.update_yaxes(matches=None, showticklabels=True, tickformat=",.0f", title_text=None)
    fig = style(fig, title)
    # slanted warehouse names under three panels ran into the legend (issue 21 screenshots): legend lower
    return fig.update_layout(legend_y=-0.55, margin_b=140)


@figures.memoized
def grouped_counts(frame: pd.DataFrame, x: str, columns: Mapping[str, str], title: str,
                   y_title: str = "Items") -> go.Figure:
    """Counts side by side per `x` (e.g. warehouse), each column named in words, labels on the bars."""
    fig = go.Figure()
    for column, name in columns.items():
        fig.add_bar(x=frame[x], y=frame[column], name=name, text=[fmt.number(v) for v in frame[column]],
                    textposition="outside", cliponaxis=False,
                    hovertemplate="%{x}<br>" + name + ": %{text}<extra></extra>")
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text=y_title, tickformat=",d", rangemode="tozero")
    return style(fig, title)


def currency_options(*frames: pd.DataFrame) -> list[str]:
    """Currencies of the aging frames, the one with the most open money first (as its own scale)."""
    totals: dict[str, Decimal] = {}
    for frame in frames:
        for currency, amount in zip(frame.get("currency", []), frame.get("amount", []), strict=False):
            if amount not in ("", None):
                totals[currency] = totals.get(currency, Decimal(0)) + Decimal(str(amount))
    return sorted(totals, key=lambda c: (-totals[c], c))


def money_rows(receivables: Any, payables: Any) -> list[dict[str, Any]]:
    """Receivables and payables per currency in one compact table (a `figures.kpis.Outstanding` each)."""
    currencies = sorted(set(receivables.outstanding) | set(payables.outstanding))
    return [{"currency": c,
             "receivable": fmt.money(receivables.outstanding.get(c), c, code=False),
             "receivable_overdue": fmt.money(receivables.overdue.get(c), c, code=False),
             "receivable_overdue_long": fmt.money(receivables.overdue_long.get(c), c, code=False),
             "payable": fmt.money(payables.outstanding.get(c), c, code=False),
             "payable_overdue": fmt.money(payables.overdue.get(c), c, code=False),
             "payable_overdue_long": fmt.money(payables.overdue_long.get(c), c, code=False)} for c in currencies]


MONEY_TABLE_LABELS = {"currency": "Currency", "receivable": "Others owe us", "receivable_overdue": "of which overdue",
                      "receivable_overdue_long": "overdue > 60 days", "payable": "We owe",
                      "payable_overdue": "of which overdue", "payable_overdue_long": "overdue > 60 days"}
