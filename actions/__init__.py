"""Actions below the UI: what the pages' forms and the CLI call. Every function takes the acting
`Actor`, checks its role itself (actions.roles), and writes an audit entry.

Importing this package registers the job handlers ("upload_orders", "validate_tax_ids") with the worker.

- roles       Actor, require, PermissionDenied, local_actor, actor_for
- order_file  parse_orders (CSV/XLSX/JSON -> OrderInput + RowErrors), template(fmt)
- files       read_at_most: a file read with its size bounded first (uploads from the CLI)
- isolated    run_apart: a parser in its own process, time and memory capped (uploads on the page)
- orders      submit_upload, update_order, cancel_order, run_upload (the job), summary
- order_changes  request_change (update/cancel built from Qargo's export), can_update, can_cancel, outcome
- taxids      validate_one, parse_csv, submit_validation_batch, submit_all_customers, pending_retries
- tax         calculate(db, actor, TaxParams)
- reorder     import_levels, save_levels (names an incomplete row), export_levels
- charges     decide_charges, still_open
- documents   request_document (a job fetches a Qargo document), stored(db_path, document_id)
- alerts      add_rule, remove_rule, test_rule, mark_read (admin-only rule management, audited)
- inline      run_inline: run one queued job in the calling process (CLI)
"""

from actions import alerts, documents, orders, taxids  # noqa: F401  (registers the job handlers and the alert pass)
