"""From a cache state to a mailbox and a webhook receiver on 127.0.0.1, and back after an outage."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr
from sqlite_utils import Database

from alerts.dispatch import channel_status, dispatch
from services.notify import configured_channels
from services.settings import Settings
from tests.alerts.conftest import NOW, add, run
from tests.alerts.test_kinds import receivable
from tests.services.notify_servers import HOST, free_port, http_receiver, smtp_server


def test_an_alert_reaches_email_and_webhook(alerts_db: str, db: Database, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as box, http_receiver() as hook:
        settings = Settings(opsdash_db=alerts_db, opsdash_smtp_host=HOST, opsdash_smtp_port=box.port,
                            opsdash_smtp_to="finance@example.com", opsdash_alert_webhook_url=SecretStr(hook.url()))
        receivable(db, "INV-9", -61, 250000)
        run(db, add(db, "receivable_overdue", channels=("email", "webhook"), days=60), settings)
        channels = configured_channels(settings, tls_context=box.client_context())
        assert dispatch(db, settings, NOW, channels) == {"email": "sent 1", "webhook": "sent 1"}
    [mail] = box.messages
    assert mail["Subject"] == "[opsdash] Alert: Acme: invoice INV-9 is 61 days overdue (2,500.00 EUR)"
    assert mail["To"] == "finance@example.com" and box.tls_used == [True]
    [body] = hook.bodies
    assert body["opsdash"]["alerts"][0]["key"] == "quaderno:INV-9"


def test_a_webhook_outage_loses_nothing(alerts_db: str, db: Database) -> None:
    port = free_port()
    url = f"http://{HOST}:{port}/hook/T000/SECRET-TOKEN"
    settings = Settings(opsdash_db=alerts_db, opsdash_alert_webhook_url=SecretStr(url))
    rule = add(db, "receivable_overdue", channels=("webhook",), days=60, resolve_after_minutes=0)
    receivable(db, "INV-1", -61)
    run(db, rule, settings)
    assert dispatch(db, settings, NOW) == {"webhook": "failed"}  # nobody listens yet
    [status] = [s for s in channel_status(db, settings) if s["channel"] == "webhook"]
    assert status["pending"] == 1 and "SECRET-TOKEN" not in status["last_error"]
    db.execute("UPDATE quaderno_invoices SET state = 'paid'")
    run(db, rule, settings, NOW + timedelta(minutes=1))  # resolved while the receiver is down
    with http_receiver(port) as hook:
        assert dispatch(db, settings, NOW + timedelta(minutes=2)) == {"webhook": "sent 2"}
    [body] = hook.bodies
    kinds = [m["subject"].split(":")[0] for m in body["opsdash"]["messages"]]
    assert kinds == ["[opsdash] Alert", "[opsdash] Resolved"]
    assert channel_status(db, settings)[1]["state"] == "OK"
