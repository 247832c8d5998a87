"""Property tests for issue 22's inputs: any value of a setting, any text in an alert's subject or body, any
sequence of guesses. Each answers with a clear refusal or a correct result, never another exception.

Bounded as tests/property/test_inputs.py: a fixed number of examples, no per-example deadline, a fixed seed.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from email.message import EmailMessage
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from services.notify import header_text, slack_text
from services.settings import Settings, get_settings
from services.settings_check import BadConfiguration, load
from webhooks.webhook_limits import AuthFailures

BOUNDED = settings(max_examples=120, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# What an environment variable can hold: any text without NUL (the OS refuses NUL in the environment).
ENV_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=("Cs",)), max_size=60)
CHECKED = ("QARGO_POLL_SHARE", "QASIDA_OPEN_ITEMS_BUDGET", "QASIDA_PATHS", "QASIDA_MANDANT_IN", "OPSDASH_SMTP_PORT",
           "OPSDASH_SMTP_STARTTLS", "OPSDASH_SMTP_QUIET_HOURS", "OPSDASH_SMTP_DIGEST_AT", "OPSDASH_TIMEZONE",
           "OPSDASH_LOCALE", "OPSDASH_SMTP_TO", "QARGO_BASE_URL", "OPSDASH_INPROCESS_WORKER", "OPSDASH_DB")
FOLDER = Path(tempfile.mkdtemp(prefix="opsdash-property-"))


def checked(environ: dict[str, str]) -> list[str] | Settings:
    cleared = {name: value for name, value in os.environ.items() if name.upper() not in
               {f.upper() for f in Settings.model_fields}}
    with mock.patch.dict(os.environ, {**cleared, "OPSDASH_DB": str(FOLDER / "p.db"), **environ}, clear=True):
        get_settings.cache_clear()
        try:
            return load()
        except BadConfiguration as exc:
            return exc.problems
        finally:
            get_settings.cache_clear()


@BOUNDED
@given(name=st.sampled_from(CHECKED), value=ENV_TEXT)
@example(name="OPSDASH_TIMEZONE", value="/etc/passwd")  # ZoneInfo raises ValueError, not ZoneInfoNotFoundError
@example(name="OPSDASH_TIMEZONE", value="../UTC")
@example(name="QARGO_POLL_SHARE", value="nan")
@example(name="QARGO_POLL_SHARE", value="inf")
@example(name="OPSDASH_SMTP_PORT", value="1e3")
@example(name="QASIDA_PATHS", value="{bad")
@example(name="QASIDA_PATHS", value='{"stock_cards": 5}')
@example(name="OPSDASH_DB", value="/")
@example(name="OPSDASH_SMTP_DIGEST_AT", value="24:00")
@example(name="OPSDASH_LOCALE", value="-")
def test_any_value_of_a_setting_loads_or_is_refused_naming_it(name: str, value: str) -> None:
    result = checked({name: value})
    if isinstance(result, Settings):
        return  # a value the setting takes (e.g. a number for QARGO_POLL_SHARE within 0..1)
    assert result, "a refusal lists its problems"
    assert all(line.startswith((name, f"{name}=")) for line in result), result


@BOUNDED
@given(subject=ANY_TEXT, body=ANY_TEXT)
def test_any_subject_makes_a_valid_one_line_header(subject: str, body: str) -> None:
    folded = header_text(subject)
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in folded)
    email = EmailMessage()
    email["Subject"] = folded  # Python refuses a header with CR/LF: this must never raise
    email.set_content(body or "-")
    assert "\n" not in str(email["Subject"])


@BOUNDED
@given(text=ANY_TEXT)
def test_slack_text_leaves_no_control_character_and_reads_back(text: str) -> None:
    escaped = slack_text(text)
    assert "<" not in escaped and ">" not in escaped
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


EVENTS = st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "sender"]), st.booleans(),
                            st.floats(min_value=0, max_value=30)), max_size=200)


@BOUNDED
@given(events=EVENTS)
def test_guesses_checked_never_exceed_the_budgets(events: list[tuple[str, bool, float]]) -> None:
    """Whatever the order of guesses and waits: at most `budget` wrong passwords checked per address and
    `total_budget` from untrusted addresses in any window; a locked address is never checked."""
    now = [0.0]
    limiter = AuthFailures(budget=3, total_budget=5, window=60.0, trusted_for=3600.0, clock=lambda: now[0])
    checked_at: dict[str, list[float]] = defaultdict(list)
    for address, right, wait in events:
        now[0] += wait
        if limiter.locked(address) is not None:
            continue  # refused unchecked: a right password here is not accepted
        if right and address == "sender":
            limiter.succeed(address)
        else:
            limiter.fail(address)
            checked_at[address].append(now[0])
    for times in checked_at.values():
        assert all(sum(1 for t in times if start <= t < start + 60.0) <= 3 for start in times)
    untrusted = sorted(t for address, times in checked_at.items() if address != "sender" for t in times)
    assert all(sum(1 for t in untrusted if start <= t < start + 60.0) <= 5 for start in untrusted)
