"""What every dataset is built from: the `Dataset` record (SQL, columns, order, sources; store/datasets.py
describes its fields) and the SQL for exact money text, `minor_text`, with the currencies' minor-unit exponents.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from store.statuses import sql_list

Source = tuple[str, str]

# ISO 4217 minor-unit exponents that differ from 2 (the default for every other currency).
CURRENCY_EXPONENTS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}


@dataclass(frozen=True)
class Dataset:
    name: str
    sql: str
    columns: tuple[str, ...]
    order_by: str
    filterable: tuple[str, ...] = ()
    sources: tuple[Source, ...] = field(default=())
    # column -> SQL expression used to filter and sort it (decimal text compares as a number)
    expressions: tuple[tuple[str, str], ...] = ()
    # Tables the SQL reads that another part of the cache may not have created (yet): (table,
    # columns it must have, an empty SELECT with those columns used in its place). `sql_for`.
    optional: tuple[tuple[str, tuple[str, ...], str], ...] = ()

    def can_filter(self, column: str) -> bool:
        return column in (self.filterable or self.columns)

    def expression(self, column: str) -> str:
        """What `WHERE`/`ORDER BY` use for `column` (a whitelisted name): itself, or its expression."""
        return dict(self.expressions).get(column, column)


def minor_text(amount: str, currency: str) -> str:
    """SQL: integer minor units as exact decimal text ("120.00", JPY "5000"); text passes as it is.

    Same result as `store.queries.format_minor`, in SQL, so every source of an outstanding list
    carries one kind of amount: exact decimal text (exports/money.py `money_value` reads it)."""
    by_exponent: dict[int, list[str]] = {}
    for code, exponent in CURRENCY_EXPONENTS.items():
        by_exponent.setdefault(exponent, []).append(code)
    text, amount = amount, f"CAST({amount} AS BIGINT)"  # the integer branches: typed, for PostgreSQL's checks
    sign = f"CASE WHEN {amount} < 0 THEN '-' ELSE '' END"
    whens = [f"WHEN upper({currency}) IN {sql_list(frozenset(codes))} THEN "
             + (f"CAST({amount} AS TEXT)" if exponent == 0 else
                f"printf('%s%d.%0{exponent}d', {sign}, abs({amount}) / {10 ** exponent}, "
                f"abs({amount}) % {10 ** exponent})")
             for exponent, codes in sorted(by_exponent.items())]
    default = f"printf('%s%d.%02d', {sign}, abs({amount}) / 100, abs({amount}) % 100)"
    return (f"CASE WHEN {text} IS NULL THEN NULL WHEN typeof({text}) != 'integer' THEN "
            f"CAST({text} AS TEXT) {' '.join(whens)} ELSE {default} END")
