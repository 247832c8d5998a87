"""The datasets' SQL, one module per role, one definition per dataset: orders.py (orders, business orders and
the lateness rules), invoices.py (the outstanding lists and carrier invoices), stock_and_fleet.py (stock levels,
fleet resources), local.py (plain projections of our own tables), on the shared pieces of base.py (`Dataset`,
`minor_text`). The registry every reader uses (name -> dataset, `get_dataset`, `sql_for`, the views) is
store/datasets.py, which also re-exports these names.
"""
