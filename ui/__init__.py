"""Streamlit glue between the pages and the cache (STYLE.md: pages -> ui -> cache -> services).

- `ui.filters`: the sidebar date range and source filter, rendered once by `dashboard.py` on every
  page and read by pages with `filters.current()`; `filters.to_query(...)` turns them into
  `cache.queries` filters for a dataset.
- `ui.data`: cached loaders (`st.cache_data`, TTL `READ_TTL_S`); each call opens its own SQLite
  connection. `dataset_page`, `dataset_freshness`, and the `@loader` decorator for new loaders.
- `ui.widgets`: freshness badges / stale banner, empty-state explainers, the paged `table`
  (exact money, CSV download of what is shown), and `dataset_section` combining them.
- `ui.actions`: writes requested by a page (enqueue a job), then clear the read cache.

Only this package, `pages/`, `dashboard.py` and `app.py` import streamlit.
"""
