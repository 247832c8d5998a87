"""Datasets that are a plain projection of one of our own tables (uploads, tax checks, sync runs, jobs,
the audit log, webhook events): no view is needed for them, the table is there.
"""

from __future__ import annotations

from store.dataset_sql.base import Dataset


def _table(name: str, table: str, columns: tuple[str, ...], order_by: str) -> Dataset:
    """A dataset that is a plain projection of one local table."""
    return Dataset(name, f"SELECT {', '.join(columns)} FROM {table}", columns, order_by)


LOCAL = (
    _table("order_uploads", "order_uploads",
           ("upload_id", "order_identifier", "operation", "status", "order_id", "error",
            "payload_digest", "requested_by", "job_id", "created_at", "updated_at",
            "erp_order_number", "source_row"),  # the ERP number and file row staff know it by (issue 21)
           "created_at DESC, upload_id"),
    _table("tax_calculations", "tax_calculations",
           ("id", "calculated_at", "requested_by", "from_country", "to_country", "to_postal_code",
            "tax_code", "transaction_type", "currency", "amount", "rate", "tax_amount", "tax_name",
            "status", "notice", "tax_amount_computed"),
           "id DESC"),
    _table("tax_id_validations", "tax_id_validations",
           ("id", "country", "tax_id", "name", "offline_ok", "result", "message", "checked_at",
            "checked_by", "job_id"),
           "id DESC"),
    _table("sync_runs", "sync_runs",
           ("run_id", "vendor", "resource", "started_at", "finished_at", "status", "pages",
            "inserted", "updated", "error"),
           "run_id DESC"),
    # The job payload is left out: it can hold personal data and is only for the worker.
    _table("jobs", "jobs",
           ("job_id", "kind", "status", "requested_by", "created_at", "started_at", "finished_at",
            "worker_id", "attempts", "done", "total", "message", "error"),
           "job_id DESC"),
    _table("audit_log", "audit_log",
           ("id", "at", "actor", "action", "target", "payload_digest", "result", "vendor_reference"),
           "id DESC"),
    # The raw body stays in the table (it is evidence), out of the exported dataset.
    _table("webhook_events", "webhook_events",
           ("id", "source", "event_id", "retry_of_id", "operation", "resource_id", "event_updated_at",
            "received_at", "last_received_at", "deliveries", "outcome", "reason"),
           "id DESC"),
)
