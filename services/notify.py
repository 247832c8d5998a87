"""Alert channels: e-mail over SMTP (STARTTLS) and a generic JSON webhook (Slack, Teams, anything).

A channel sends one `Message` and either returns or raises `NotifyError`; it never retries by
itself and never sleeps. Retrying is the caller's job (alerts/dispatch.py keeps the message
pending and tries again after `backoff(failures)`), so a dead mail server costs the worker at most
one connection timeout, never a sleep.

Secrets: the SMTP password and the webhook URL (Slack and Teams put the token in the URL path) are
`SecretStr`; `NotifyError` messages pass through `redact`, so an exception text that quotes the
URL (httpx does) never reaches a log, the database or the page.

Webhook body: `{"text": ..., "opsdash": {...}}`. Slack and Teams incoming webhooks render `text`
and ignore other keys; a generic receiver gets the structured `opsdash` object as well.

Text from outside (a vendor's invoice number or customer name inside an alert's subject) is text in
every channel, as on every page (ui/safe.py): `header_text` folds line breaks and control characters
of an e-mail header into spaces (a CR/LF would start a new header; Python refuses it), and
`slack_text` escapes `&`, `<` and `>`, Slack's control characters, so `<https://evil|click>` or
`<!channel>` arrive as the characters they are (api.slack.com "Escaping text"; Teams renders the
same text as plain markdown-ish text and shows the entities' characters).
"""

from __future__ import annotations

import ipaddress
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urlparse

import httpx
from pydantic import SecretStr

from services.settings import Settings

TIMEOUT_S = 10.0
# Lines up to RFC 5322's hard limit: a long subject is not folded into a leading-space continuation.
_POLICY = policy.SMTP.clone(max_line_length=998)
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=30)


class NotifyError(Exception):
    """A channel could not deliver; `retriable` is False when only a settings change can help."""

    def __init__(self, channel: str, message: str, *, retriable: bool = True) -> None:
        super().__init__(f"{channel}: {message}")
        self.channel, self.retriable = channel, retriable


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    recipients: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)  # structured copy for the webhook


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...


def backoff(failures: int, base: timedelta = BACKOFF_BASE, cap: timedelta = BACKOFF_CAP) -> timedelta:
    """Wait before the next try after `failures` consecutive failures: 30 s, 1 min, 2 min ... 30 min."""
    if failures <= 0:
        return timedelta(0)
    return min(cap, base * 2 ** min(failures - 1, 20))


def redact(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class SmtpChannel:
    name = "email"

    def __init__(self, host: str, port: int = 587, *, sender: str, recipients: tuple[str, ...] = (),
                 user: str | None = None, password: SecretStr | None = None, starttls: bool = True,
                 tls_context: ssl.SSLContext | None = None, timeout: float = TIMEOUT_S) -> None:
        self.host, self.port, self.sender, self.default_to = host, port, sender, recipients
        self.user, self.password, self.starttls = user, password, starttls
        self.tls_context, self.timeout = tls_context, timeout

    def send(self, message: Message) -> None:
        to = message.recipients or self.default_to
        if not to:
            raise NotifyError(self.name, "no recipient: set OPSDASH_SMTP_TO or the rule's recipients",
                              retriable=False)
        try:
            self._deliver(_email(message, self.sender, to))
        except NotifyError:
            raise
        except smtplib.SMTPAuthenticationError:
            raise NotifyError(self.name, f"{self.host} refused the login: check OPSDASH_SMTP_USER and "
                              "OPSDASH_SMTP_PASSWORD", retriable=False) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise NotifyError(self.name, self._explain(exc)) from None

    def _deliver(self, email: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.ehlo()
            if self.starttls:
                if not smtp.has_extn("starttls"):
                    raise NotifyError(self.name, f"{self.host}:{self.port} does not offer STARTTLS; "
                                      "use a server that does, or set OPSDASH_SMTP_STARTTLS=false",
                                      retriable=False)
                smtp.starttls(context=self.tls_context or ssl.create_default_context())
                smtp.ehlo()
            if self.user and self.password:
                smtp.login(self.user, self.password.get_secret_value())
            smtp.send_message(email)

    def _explain(self, exc: Exception) -> str:
        secret = self.password.get_secret_value() if self.password else None
        text = f"could not send through {self.host}:{self.port} ({type(exc).__name__}: {exc})"
        return redact(text, [secret])


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: SecretStr, *, timeout: float = TIMEOUT_S,
                 transport: httpx.BaseTransport | None = None, allow_link_local: bool = False) -> None:
        self.url, self.timeout, self.transport, self.allow_link_local = url, timeout, transport, allow_link_local

    def send(self, message: Message) -> None:
        url = self.url.get_secret_value()
        if not self.allow_link_local:
            target = link_local_target(url, resolve=self.transport is None)
            if target:
                raise NotifyError(self.name, f"refused: the webhook URL points at {target}; set "
                                  "OPSDASH_ALERT_WEBHOOK_ALLOW_LINK_LOCAL=true if that is really meant",
                                  retriable=False)
        body = {"text": f"*{slack_text(header_text(message.subject))}*\n{slack_text(message.body)}",
                "opsdash": message.data}
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.post(url, json=body)
        except httpx.HTTPError as exc:
            raise NotifyError(self.name, redact(f"could not reach the webhook ({type(exc).__name__}: {exc})",
                                                [url])) from None
        if response.status_code >= 300:
            retriable = response.status_code == 429 or response.status_code >= 500
            hint = "" if retriable else ": check OPSDASH_ALERT_WEBHOOK_URL"
            raise NotifyError(self.name, f"the webhook answered HTTP {response.status_code}{hint}",
                              retriable=retriable)


# Cloud instance-metadata endpoints reachable from a VM (AWS, GCP, Azure, Alibaba, Oracle): the alert webhook
# must not be turned into a way to read instance credentials. 169.254.0.0/16 and fe80::/10 are link-local.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data",
                            "instance-data.ec2.internal"})
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")})


def link_local_target(url: str, *, resolve: bool = False) -> str | None:
    """"a link-local address" / "a cloud metadata address" when `url`'s host is one (by name or literal,
    or, with `resolve`, by any address the name resolves to); None otherwise. Private and loopback
    addresses are not refused. A name that does not resolve is left to the request to report."""
    host = (urlparse(url.strip()).hostname or "").rstrip(".").lower()
    if host in METADATA_HOSTS:
        return "a cloud metadata address"
    addresses = [host]
    if resolve:
        try:
            addresses += [str(info[4][0]) for info in socket.getaddrinfo(host, None)]
        except (OSError, UnicodeError):
            pass
    for text in addresses:
        kind = _address_kind(text)
        if kind:
            return kind
    return None


def _address_kind(text: str) -> str | None:
    try:
        address = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    return "a link-local address (e.g. 169.254.169.254, cloud metadata)" if address.is_link_local else None


_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f]+")
_SLACK_CONTROL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def header_text(value: str) -> str:
    """One line for an e-mail header: line breaks and control characters become one space."""
    return _HEADER_BREAKS.sub(" ", value).strip()


def slack_text(value: str) -> str:
    """Text Slack shows as it is: its three control characters escaped (links, mentions inert)."""
    return "".join(_SLACK_CONTROL.get(ch, ch) for ch in value)


def _email(message: Message, sender: str, to: tuple[str, ...]) -> EmailMessage:
    email = EmailMessage(policy=_POLICY)
    email["Subject"] = header_text(message.subject)
    email["From"], email["To"] = header_text(sender), header_text(", ".join(to))
    email.set_content(message.body)
    for item in message.attachments:
        maintype, _, subtype = item.content_type.partition("/")
        email.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.name)
    return email


def recipients(text: str | None) -> tuple[str, ...]:
    return tuple(a.strip() for a in (text or "").split(",") if a.strip())


ChannelFactory = Callable[[Settings], dict[str, Channel]]


def configured_channels(settings: Settings, tls_context: ssl.SSLContext | None = None) -> dict[str, Channel]:
    """The channels whose settings are present: e-mail with OPSDASH_SMTP_HOST, webhook with its URL."""
    channels: dict[str, Channel] = {}
    if settings.opsdash_smtp_host:
        channels["email"] = SmtpChannel(
            settings.opsdash_smtp_host, settings.opsdash_smtp_port, sender=settings.opsdash_smtp_from,
            recipients=recipients(settings.opsdash_smtp_to), user=settings.opsdash_smtp_user,
            password=settings.opsdash_smtp_password, starttls=settings.opsdash_smtp_starttls,
            tls_context=tls_context)
    if settings.opsdash_alert_webhook_url:
        channels["webhook"] = WebhookChannel(settings.opsdash_alert_webhook_url,
                                             allow_link_local=settings.opsdash_alert_webhook_allow_link_local)
    return channels
