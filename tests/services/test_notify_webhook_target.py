"""The alert webhook may point at internal addresses (a chat server on the office network), but not at a
link-local or cloud-metadata address unless OPSDASH_ALERT_WEBHOOK_ALLOW_LINK_LOCAL is true (issue 22)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from services.notify import Message, NotifyError, WebhookChannel, link_local_target
from services.settings import Settings
from services.settings_check import problems

LINK_LOCAL = "a link-local address (e.g. 169.254.169.254, cloud metadata)"


@pytest.mark.parametrize(("url", "refused"), [
    ("http://169.254.169.254/latest/meta-data/", LINK_LOCAL),
    ("http://[fe80::1%25eth0]/hook", LINK_LOCAL),
    ("http://[::ffff:169.254.169.254]/", LINK_LOCAL),
    ("http://metadata.google.internal/computeMetadata/v1/", "a cloud metadata address"),
    ("http://METADATA.google.internal./", "a cloud metadata address"),
    ("http://100.100.100.200/latest/meta-data/", "a cloud metadata address"),
    ("http://[fd00:ec2::254]/latest/", "a cloud metadata address"),
    ("http://10.1.2.3:8065/hooks/abc", None),  # private: allowed (an office Mattermost)
    ("http://127.0.0.1:1/hook", None),  # loopback: allowed
    ("https://hooks.slack.com/services/T0/B0/XYZ", None),
])
def test_link_local_and_metadata_targets_are_named(url: str, refused: str | None) -> None:
    assert link_local_target(url) == refused


def test_a_name_resolving_to_a_link_local_address_is_refused_when_resolved() -> None:
    assert link_local_target("http://2852039166/hook") is None  # 169.254.169.254 written as one number
    assert link_local_target("http://2852039166/hook", resolve=True) == LINK_LOCAL


def channel(url: str, allow: bool, seen: list[httpx.Request]) -> WebhookChannel:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    return WebhookChannel(SecretStr(url), transport=httpx.MockTransport(answer), allow_link_local=allow)


def test_the_channel_refuses_to_send_there_unless_allowed() -> None:
    seen: list[httpx.Request] = []
    message = Message("subject", "body", ())
    with pytest.raises(NotifyError) as caught:
        channel("http://169.254.169.254/hook/SECRET", False, seen).send(message)
    assert not seen and not caught.value.retriable
    assert "OPSDASH_ALERT_WEBHOOK_ALLOW_LINK_LOCAL=true" in str(caught.value) and "SECRET" not in str(caught.value)
    channel("http://169.254.169.254/hook/SECRET", True, seen).send(message)
    assert len(seen) == 1


def test_the_start_check_names_the_setting_and_never_the_url(db_path: Path | str) -> None:
    def webhook_problems(allow: bool = False) -> list[str]:
        settings = Settings(opsdash_db=db_path,  # type: ignore[arg-type]
                            opsdash_alert_webhook_url=SecretStr("http://169.254.169.254/hook/SECRET"),
                            opsdash_alert_webhook_allow_link_local=allow)
        return [p for p in problems(settings) if "WEBHOOK" in p]

    assert webhook_problems() == ["OPSDASH_ALERT_WEBHOOK_URL points at " + LINK_LOCAL + ": refused unless "
                                  "OPSDASH_ALERT_WEBHOOK_ALLOW_LINK_LOCAL=true"]
    assert webhook_problems(allow=True) == []
