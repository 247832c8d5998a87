"""Every setting checked once, at start: one line per problem naming the setting, and `opsdash` exits 2.

`load()` returns the settings or raises `BadConfiguration` listing everything wrong at once:
- what the model refuses (`QARGO_POLL_SHARE=abc`, `QASIDA_MANDANT_IN=body`, `OPSDASH_SMTP_PORT=0`, a
  boolean that is not one), a JSON setting that is not JSON (`QASIDA_PATHS={bad`), a TOML file
  that does not parse;
- what the model's types cannot say (`problems(settings)`): OPSDASH_DB a directory or a file that is
  not an SQLite database, or a folder that cannot be created; URLs that are not http(s); an unknown
  QASIDA_PATHS name; a time zone, a locale, a quiet-hours range or a digest time that does not
  parse; e-mail addresses with line breaks; webhook credentials set by half or blank.
A secret's value is never shown, only its name. The first line of each problem is the setting's
name, so a service manager's log says what to fix.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import time
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import SettingsError

from services.notify import link_local_target
from services.settings import TOML_FILES, Settings, get_settings

SQLITE_HEADER = b"SQLite format 3\x00"
URL_SETTINGS = ("qargo_base_url", "quaderno_base_url", "qasida_base_url", "cargobase_base_url",
                "opsdash_alert_webhook_url")
SCHEDULES = ("opsdash_smtp", "opsdash_alert_webhook")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BadConfiguration(Exception):
    """The settings cannot be used; `problems` holds one line per problem, each naming its setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load() -> Settings:
    """`get_settings()`, checked: raises `BadConfiguration` with every problem found."""
    found = list(_toml_problems())
    if found:
        raise BadConfiguration(found)
    found, unreadable = _json_problems(os.environ)
    try:
        # a JSON setting that is not JSON stops pydantic-settings at once: read the others without it
        settings = _settings_without(unreadable) if unreadable else get_settings()
    except ValidationError as exc:
        found += [_validation_line(error) for error in exc.errors()]
        refused = [str(e["loc"][0]) for e in exc.errors() if e.get("loc")]
        found += _other_problems([*unreadable, *(n for n in os.environ if n.lower() in refused)])
    except SettingsError as exc:  # not found above (a TOML value, say): pydantic-settings names the field
        found.append(_settings_error_line(exc))
    else:
        found += problems(settings)
    if found:
        raise BadConfiguration(found)
    return settings


def _other_problems(refused: list[str]) -> list[str]:
    """The problems of the settings the model did take, read with the refused ones left out (their
    defaults stand in); nothing more when a refused value came from a file rather than the environment."""
    try:
        return problems(_settings_without(refused))
    except (ValidationError, SettingsError):
        return []


JSON_SETTINGS = ("QASIDA_PATHS",)  # the settings given as a JSON object


def _json_problems(environ: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(problem lines, the environment names holding them) for JSON settings that are not a JSON object."""
    found, names = [], []
    for name in (n for n in environ if n.upper() in JSON_SETTINGS):
        try:
            ok = isinstance(json.loads(environ[name]), dict)
        except ValueError:
            ok = False
        if not ok:
            found.append(f"{name.upper()}: not a JSON object; expected e.g. " + _JSON_EXAMPLE)
            names.append(name)
    return found, names


def _settings_without(names: list[str]) -> Settings:
    """The settings read with `names` left out of the environment (only to find the other problems)."""
    saved = {name: os.environ.pop(name) for name in names}
    try:
        return Settings()
    finally:
        os.environ.update(saved)


def problems(settings: Settings) -> list[str]:
    """What the model's types cannot say (module doc); empty when every setting can be used."""
    database = (_postgres_problems(settings.opsdash_db) if isinstance(settings.opsdash_db, str)
                else _database_problems(Path(settings.opsdash_db)))
    return [*database, *_url_problems(settings), *_qasida_problems(settings),
            *_clock_problems(settings), *_address_problems(settings), *_webhook_problems(settings)]


def clock_time(text: str, setting: str) -> time:
    """"08:00" -> time(8, 0); ValueError naming `setting` otherwise (the one reading of a time setting)."""
    try:
        hours, minutes = (int(p) for p in text.strip().split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ValueError(f"{setting}={text!r} is not a time HH:MM (00:00 to 23:59)") from None


def quiet_hours(text: str, setting: str) -> tuple[time, time]:
    """"22:00-07:00" -> (time(22), time(7)); ValueError naming `setting` otherwise."""
    start, sep, end = text.partition("-")
    try:
        if not sep:
            raise ValueError(text)
        return clock_time(start, setting), clock_time(end, setting)
    except ValueError:
        raise ValueError(f"{setting}={text!r}: expected START-END in HH:MM, e.g. 22:00-07:00") from None


def _toml_problems() -> Iterable[str]:
    for name in TOML_FILES:
        path = Path(name)
        try:
            tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            yield f"{path}: cannot be read as TOML ({exc}); fix the file or remove it"


def _is_secret(field: str) -> bool:
    annotation = str(Settings.model_fields[field].annotation) if field in Settings.model_fields else ""
    return "SecretStr" in annotation or any(w in field for w in ("password", "secret", "token", "key"))


def _validation_line(error: ErrorDetails) -> str:
    field = str(error["loc"][0]) if error.get("loc") else "?"
    given = "" if _is_secret(field) else f" (got {str(error.get('input'))[:60]!r})"
    return f"{field.upper()}: {error['msg']}{given}"


_JSON_EXAMPLE = '{"stock_cards": "/api/stock/v2/StockCard/GetAll"}'


def _settings_error_line(exc: SettingsError) -> str:
    found = re.search(r'field "(\w+)"', str(exc))
    field = found.group(1).upper() if found else "a setting"
    return f"{field}: not valid JSON; expected an object such as " + _JSON_EXAMPLE


def _database_problems(path: Path) -> Iterable[str]:
    path = path.expanduser()
    if path.is_dir():
        yield f"OPSDASH_DB={path} is a directory; set it to a database file such as {path / 'opsdash.db'}"
    elif path.exists():
        yield from _existing_database_problems(path)
    elif not _creatable(path.resolve().parent):
        yield f"OPSDASH_DB={path}: its folder {path.resolve().parent} cannot be created or written"


def _postgres_problems(url: str) -> Iterable[str]:
    """A PostgreSQL `OPSDASH_DB` that cannot be reached: the server's own reason, with the database, host and port
    (never the URL itself: it may carry the password)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        try:
            where = conninfo_to_dict(url)
        except psycopg.Error:
            yield "OPSDASH_DB is not a valid postgresql:// URL (postgresql://user@host:port/database)"
            return
        reason = " ".join(str(exc).split())
        yield (f"OPSDASH_DB: cannot use PostgreSQL database {where.get('dbname', '?')!r} on "
               f"{where.get('host', 'localhost')}:{where.get('port', 5432)}: {reason}")


def _existing_database_problems(path: Path) -> Iterable[str]:
    if not path.is_file():
        yield f"OPSDASH_DB={path} is not a regular file"
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        yield f"OPSDASH_DB={path} cannot be read ({exc.strerror})"
        return
    if head and head != SQLITE_HEADER:  # an empty file is a new database to SQLite
        yield f"OPSDASH_DB={path} is not an SQLite database; point it at the opsdash database or a new file"
    elif not os.access(path, os.W_OK):
        yield f"OPSDASH_DB={path} is not writable by this user"


def _creatable(folder: Path) -> bool:
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    return existing is not None and existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)


def _url_problems(settings: Settings) -> Iterable[str]:
    for field in URL_SETTINGS:
        value = getattr(settings, field)
        url = value.get_secret_value() if isinstance(value, SecretStr) else value
        if url is None:
            continue
        parsed = urlparse(url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            shown = "" if isinstance(value, SecretStr) else f" (got {url[:60]!r})"
            yield f"{field.upper()} is not an http(s) URL such as https://host/path{shown}"
        elif field == "opsdash_alert_webhook_url" and not settings.opsdash_alert_webhook_allow_link_local:
            target = link_local_target(url)  # by name or literal here; send() also checks what it resolves to
            if target:
                yield (f"OPSDASH_ALERT_WEBHOOK_URL points at {target}: refused unless "
                       "OPSDASH_ALERT_WEBHOOK_ALLOW_LINK_LOCAL=true")


def _qasida_problems(settings: Settings) -> Iterable[str]:
    from services.qasida.paths import UnknownPath, resolve_paths

    try:
        resolve_paths(settings.qasida_paths)
    except UnknownPath as exc:
        yield str(exc)


def _clock_problems(settings: Settings) -> Iterable[str]:
    for prefix in SCHEDULES:
        for suffix, read in (("quiet_hours", quiet_hours), ("digest_at", clock_time)):
            text = getattr(settings, f"{prefix}_{suffix}")
            if text:
                try:
                    read(text, f"{prefix}_{suffix}".upper())
                except ValueError as exc:
                    yield str(exc)
    if settings.opsdash_timezone:
        try:
            ZoneInfo(settings.opsdash_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            yield (f"OPSDASH_TIMEZONE={settings.opsdash_timezone!r} is not an IANA time zone name; "
                   "use one like 'Europe/Berlin' or 'UTC'")
    if settings.opsdash_locale:
        yield from _locale_problems(settings.opsdash_locale)


def _locale_problems(name: str) -> Iterable[str]:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        yield f"OPSDASH_LOCALE={name!r} is not a locale; use one like 'en', 'de_DE' or 'fr_FR'"


def _address_problems(settings: Settings) -> Iterable[str]:
    for field in ("opsdash_smtp_from", "opsdash_smtp_to", "opsdash_smtp_host", "opsdash_smtp_user"):
        value = getattr(settings, field)
        if value and _CONTROL.search(value):  # a line break in a header would start a new header
            yield f"{field.upper()} contains a line break or control character"
        elif value and field != "opsdash_smtp_host" and field != "opsdash_smtp_user" and not all(
                "@" in part for part in value.split(",") if part.strip()):
            yield f"{field.upper()}={value[:60]!r} is not a list of e-mail addresses (name@domain)"


def _webhook_problems(settings: Settings) -> Iterable[str]:
    user = settings.opsdash_webhook_user
    password = settings.opsdash_webhook_password
    secret = None if password is None else password.get_secret_value()
    if user is None and secret is None:
        return
    if not (user or "").strip():
        yield "OPSDASH_WEBHOOK_USER is empty, blank or unset while OPSDASH_WEBHOOK_PASSWORD is set"
    if not (secret or "").strip():
        yield "OPSDASH_WEBHOOK_PASSWORD is empty, blank or unset: set a non-empty password (the sender uses it)"
