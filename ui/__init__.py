"""Streamlit glue between the pages and the rooms below them (README "Layout": the floors).

- `ui.filters`: the sidebar date range and source filter, rendered once by `dashboard.py` on every
  page and read by pages with `filters.current()`; `filters.to_query(...)` turns them into
  `store.queries` filters for a dataset.
- `ui.data`: cached loaders (`st.cache_data`, TTL `READ_TTL_S`); each call opens its own SQLite
  connection. `dataset_page`, `dataset_freshness`, and the `@loader` decorator for new loaders.
- `ui.widgets`: freshness badges / stale banner, empty-state explainers, the paged `table`
  (exact money, CSV download of what is shown), and `dataset_section` combining them.
- `ui.actions`: writes requested by a page (enqueue a job), then clear the read cache.

Only this package, `pages/`, `dashboard.py` and `app.py` import streamlit.
"""

import logging


class _NoRuntimeNoise(logging.Filter):
    """Streamlit warns "No runtime found, using MemoryCacheStorageManager" once per cached function when a
    module defining one is imported before its runtime exists (app.py imports ui.data before `st.App` starts
    the runtime; tests and benches have none): 21 lines on every start, telling nothing (issue 19). The
    functions still use the runtime's cache once it runs; only that message is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("No runtime found")


logging.getLogger("streamlit.runtime.caching.cache_data_api").addFilter(_NoRuntimeNoise())
