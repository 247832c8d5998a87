"""Alert channels against local receivers (127.0.0.1 only): SMTP with STARTTLS, a JSON webhook."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from services.notify import (
    Attachment,
    Message,
    NotifyError,
    SmtpChannel,
    WebhookChannel,
    backoff,
    configured_channels,
)
from services.settings import Settings
from tests.services.notify_servers import HOST, free_port, http_receiver, smtp_server

MESSAGE = Message("[opsdash] Alert: INV-1 is 61 days overdue", "Rule 'Overdue'\n- Acme: INV-1", ("ops@example.com",),
                  (Attachment("receivables.xlsx", "application/vnd.ms-excel", b"PK\x03\x04data"),),
                  {"rule": "Overdue", "kind": "fired"})


def test_smtp_sends_over_starttls_with_login_and_attachment(tmp_path: Path) -> None:
    with smtp_server(tmp_path, user="alerts", password="s3cret-pw") as box:
        channel = SmtpChannel(HOST, box.port, sender="opsdash@example.com", user="alerts",
                              password=SecretStr("s3cret-pw"), tls_context=box.client_context())
        channel.send(MESSAGE)
    [mail] = box.messages
    assert box.tls_used == [True]
    assert mail["Subject"] == MESSAGE.subject and mail["To"] == "ops@example.com"
    parts = list(mail.walk())
    body = next(p for p in parts if p.get_content_type() == "text/plain")
    attachment = next(p for p in parts if p.get_filename() == "receivables.xlsx")
    assert "INV-1" in body.get_payload(decode=True).decode()
    assert attachment.get_payload(decode=True) == b"PK\x03\x04data"


def test_smtp_refuses_a_server_without_starttls(tmp_path: Path) -> None:
    with smtp_server(tmp_path, starttls=False) as box:
        channel = SmtpChannel(HOST, box.port, sender="opsdash@example.com")
        with pytest.raises(NotifyError, match="does not offer STARTTLS") as info:
            channel.send(MESSAGE)
    assert not info.value.retriable and box.messages == []


def test_smtp_bad_login_names_the_settings_never_the_password(tmp_path: Path) -> None:
    with smtp_server(tmp_path, user="alerts", password="right") as box:
        channel = SmtpChannel(HOST, box.port, sender="opsdash@example.com", user="alerts",
                              password=SecretStr("wrong-pw-123"), tls_context=box.client_context())
        with pytest.raises(NotifyError) as info:
            channel.send(MESSAGE)
    assert "OPSDASH_SMTP_USER" in str(info.value) and "wrong-pw-123" not in str(info.value)


def test_smtp_down_is_retriable(tmp_path: Path) -> None:
    channel = SmtpChannel(HOST, free_port(), sender="opsdash@example.com", timeout=2)
    with pytest.raises(NotifyError, match="could not send") as info:
        channel.send(MESSAGE)
    assert info.value.retriable


def test_webhook_posts_slack_compatible_json() -> None:
    with http_receiver() as receiver:
        WebhookChannel(SecretStr(receiver.url())).send(MESSAGE)
    [body] = receiver.bodies
    assert body["text"].startswith("*[opsdash] Alert: INV-1 is 61 days overdue*\nRule 'Overdue'")
    assert body["opsdash"] == {"rule": "Overdue", "kind": "fired"}
    assert receiver.paths == ["/hook/T000/SECRET-TOKEN"]


@pytest.mark.parametrize(("status", "retriable"), [(500, True), (429, True), (404, False)])
def test_webhook_errors_say_whether_a_retry_can_help(status: int, retriable: bool) -> None:
    with http_receiver() as receiver:
        receiver.status = status
        with pytest.raises(NotifyError, match=f"HTTP {status}") as info:
            WebhookChannel(SecretStr(receiver.url())).send(MESSAGE)
    assert info.value.retriable is retriable


def test_webhook_unreachable_never_shows_the_url_token() -> None:
    url = f"http://{HOST}:{free_port()}/services/T000/B000/SECRET-TOKEN"
    with pytest.raises(NotifyError) as info:
        WebhookChannel(SecretStr(url), timeout=2).send(MESSAGE)
    assert "SECRET-TOKEN" not in str(info.value) and info.value.retriable


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [backoff(n).total_seconds() for n in range(8)] == [0, 30, 60, 120, 240, 480, 960, 1800]


def test_only_configured_channels_are_on() -> None:
    assert configured_channels(Settings()) == {}
    on = configured_channels(Settings(opsdash_smtp_host="mail.example.com",
                                      opsdash_alert_webhook_url=SecretStr("https://hooks.example.com/x")))
    assert sorted(on) == ["email", "webhook"]
    assert "hooks.example.com" not in repr(Settings(opsdash_alert_webhook_url=SecretStr("https://hooks.example.com/x")))
