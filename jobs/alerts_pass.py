"""The worker's alert pass: registered with the scheduler, so it runs on every worker pass.

Imported by `actions.alerts` (as the action job handlers are), so every process that runs a
worker (`opsdash worker`, `streamlit run app.py`) evaluates alerts; page views never do.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlite_utils import Database

from alerts.dispatch import start_background_dispatch
from alerts.engine import evaluate_due, run_reports
from alerts.state import prune
from jobs.worker import scheduled
from services.settings import Settings

log = logging.getLogger("opsdash.alerts")


@scheduled
def alerts_pass(db: Database, settings: Settings, now: datetime) -> None:
    """Evaluate the rules whose data changed, queue due reports, then send in the background."""
    try:
        evaluate_due(db, settings, now)
        run_reports(db, settings, now)
        prune(db, now)
    except Exception:  # never take the other scheduled work down with the alerts
        log.exception("alert evaluation failed")
    pending = db.conn.execute("SELECT 1 FROM alert_deliveries WHERE status = 'pending' LIMIT 1").fetchone()
    if pending:
        start_background_dispatch(settings)
