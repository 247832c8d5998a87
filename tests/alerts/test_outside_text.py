"""Text from outside in the alert channels (issue 22): a CR/LF in a vendor word neither breaks nor forges an
e-mail header, Slack markup in a vendor word stays inert, and a message a channel cannot send shows as a
failing channel, never as "OK" behind an exception on every pass."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from sqlite_utils import Database

from alerts.dispatch import channel_status, dispatch, enqueue
from services.notify import Message, configured_channels, header_text, slack_text
from services.settings import Settings
from tests.alerts.conftest import NOW
from tests.services.notify_servers import HOST, http_receiver, smtp_server

FORGED = "Acme: invoice CI-1\r\nBcc: victim@example.com\r\n\r\nforged body"


def queue(db: Database, settings: Settings, channel: str, subject: str, body: str = "details") -> None:
    enqueue(db, settings, (channel,), Message(subject, body), kind="alert", rule_id=None, now=NOW)


def test_a_line_break_in_a_subject_is_folded_and_forges_no_header(
        alerts_db: str, db: Database, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as box:
        settings = Settings(opsdash_db=alerts_db, opsdash_smtp_host=HOST, opsdash_smtp_port=box.port,
                            opsdash_smtp_to="finance@example.com")
        queue(db, settings, "email", FORGED)
        channels = configured_channels(settings, tls_context=box.client_context())
        assert dispatch(db, settings, NOW, channels) == {"email": "sent 1"}
    [mail] = box.messages
    assert mail["Subject"] == "Acme: invoice CI-1 Bcc: victim@example.com forged body"
    assert mail["Bcc"] is None and mail.get_content().strip() == "details"


def test_slack_markup_in_vendor_text_arrives_as_characters(alerts_db: str, db: Database) -> None:
    with http_receiver() as hook:
        settings = Settings(opsdash_db=alerts_db, opsdash_alert_webhook_url=SecretStr(hook.url()))
        queue(db, settings, "webhook", "<!channel> Acme & Co", "see <https://evil.example|your invoice>")
        assert dispatch(db, settings, NOW) == {"webhook": "sent 1"}
    [body] = hook.bodies
    assert body["text"] == "*&lt;!channel&gt; Acme &amp; Co*\nsee &lt;https://evil.example|your invoice&gt;"


class Exploding:
    name = "email"

    def send(self, message: Message) -> None:
        raise ValueError("Header values may not contain linefeed or carriage return characters")


def test_a_message_the_channel_cannot_build_shows_the_channel_failing(db: Database, settings: Settings) -> None:
    queue(db, settings, "email", "anything")
    assert dispatch(db, settings, NOW, {"email": Exploding()}) == {"email": "failed"}
    [email] = [row for row in channel_status(db, settings) if row["channel"] == "email"]
    assert email["state"] == "Failing, retrying with backoff" and email["pending"] == 1
    assert email["last_error"] == ("email: could not send this message (ValueError: Header values may not contain "
                                   "linefeed or carriage return characters)")


def test_the_channel_rules_by_hand() -> None:
    assert header_text("a\r\nb\tc\x00d\n") == "a b c d"
    assert slack_text("<a|b> & <!here>") == "&lt;a|b&gt; &amp; &lt;!here&gt;"
