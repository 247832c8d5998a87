"""Alerts and scheduled reports (issue 13), evaluated by the worker from the cache only.

- rules       the kinds and their parameters; the `alert_rules` table (insert, find, list, delete)
- conditions  what each kind looks for: `findings(db, rule, now, settings)` -> {key: Finding}
- state       one open alert per (rule, key) until it clears (with a hold against flapping); the inbox
- engine      which rules are due, `evaluate`, the messages; `run_reports`; `preview` (no side effects)
- reports     scheduled reports: headline figures + the XLSX `opsdash export` writes
- dispatch    the outbox: channels, quiet hours, digest mode, backoff; `channel_status` for health
- hook        the worker's scheduled pass (import it to register)

Tables (migration 0012_alerts): alert_rules, alerts, alert_watch, alert_deliveries, alert_channels.
"""
