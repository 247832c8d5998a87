"""Settings: environment variables, else `opsdash.toml`, else `.streamlit/secrets.toml`.

The names are a contract (ARCHITECTURE.md, "Settings"). Secrets are `SecretStr`, so a repr,
a log line or an exception never shows them. A vendor without a base URL is "not configured".

`QASIDA_PATHS` overrides Qasida paths, which are not public and may differ per installation: a JSON
object from resource name to path, e.g. `QASIDA_PATHS='{"stock_cards": "/api/stock/v2/StockCard/GetAll"}'`
(names and defaults: services/qasida/paths.py).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

Vendor = Literal["qargo", "quaderno", "qasida", "cargobase", "upwell"]
VENDORS: tuple[Vendor, ...] = ("qargo", "quaderno", "qasida", "cargobase", "upwell")

TOML_FILES = ("opsdash.toml", ".streamlit/secrets.toml")


def _db_target(value: object) -> object:
    """`OPSDASH_DB`: a `postgresql://` URL stays text (a Path would fold its `//`); anything else is a file path."""
    text = str(value)
    return text if text.startswith(("postgresql://", "postgres://")) else Path(text)


# A SQLite file path (default) or a PostgreSQL URL (issue 20).
DbTarget = Annotated[Path | str, BeforeValidator(_db_target)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    opsdash_db: DbTarget = Path("opsdash.db")
    # Run the sync/job worker inside the dashboard process; turn off when `opsdash worker` runs alone.
    opsdash_inprocess_worker: bool = True
    # PostgreSQL: the connections a dashboard's reruns (or a webhook receiver's deliveries) share in one process
    # (services/core/postgres.py `pooled`; docs/deploy.md "Connections"), whatever the number of sessions.
    opsdash_pg_pool_size: int = Field(default=10, ge=1, le=500)

    qargo_base_url: str | None = None
    qargo_client_id: str | None = None
    qargo_client_secret: SecretStr | None = None
    # Share of Qargo's 2 requests/s (seeds/000 line 142) that status/charge/document polling may use;
    # webhooks are the primary source of status (docs/vendor-readings.md).
    qargo_poll_share: float = Field(default=0.25, gt=0, le=1)

    quaderno_base_url: str | None = None
    quaderno_api_key: SecretStr | None = None
    # Pinned (seeds/001 lines 125-153): without it the account's default version, which its owner can
    # change, decides the response shapes. 20220325 is the version the models and the sandbox were
    # written and tested against; QUADERNO_API_VERSION overrides it (docs/vendor-readings.md).
    quaderno_api_version: str | None = "20220325"

    qasida_base_url: str | None = None
    qasida_token: SecretStr | None = None
    qasida_mandant_id: str | None = None
    qasida_paths: dict[str, str] = {}
    # The document lists MandantId among the query parameters (seeds/003 line 152): `query` (default)
    # or `header` for an installation that wants it as a header (docs/qasida-paths.md).
    qasida_mandant_in: Literal["query", "header"] = "query"
    # Requests per run for each per-customer list (claims, liabilities): customers are read oldest-checked
    # first, so every customer is covered over successive runs (docs/qasida-paths.md).
    qasida_open_items_budget: int = Field(default=250, ge=1)

    cargobase_base_url: str | None = None
    cargobase_token: SecretStr | None = None

    opsdash_webhook_user: str | None = None
    opsdash_webhook_password: SecretStr | None = None

    # Alert channels (docs/alerts.md). E-mail is off until OPSDASH_SMTP_HOST is set; STARTTLS is
    # required unless OPSDASH_SMTP_STARTTLS=false. Quiet hours "22:00-07:00" and a daily digest
    # time "08:00" are read in OPSDASH_TIMEZONE; unset means "send at once".
    opsdash_smtp_host: str | None = None
    opsdash_smtp_port: int = Field(default=587, ge=1, le=65535)
    opsdash_smtp_user: str | None = None
    opsdash_smtp_password: SecretStr | None = None
    opsdash_smtp_starttls: bool = True
    opsdash_smtp_from: str = "opsdash@localhost"
    opsdash_smtp_to: str | None = None  # comma-separated default recipients
    opsdash_smtp_quiet_hours: str | None = None
    opsdash_smtp_digest_at: str | None = None
    # A Slack or Teams incoming-webhook URL carries its token in the path: a secret.
    opsdash_alert_webhook_url: SecretStr | None = None
    opsdash_alert_webhook_quiet_hours: str | None = None
    opsdash_alert_webhook_digest_at: str | None = None
    # A webhook URL on a link-local or cloud-metadata address (169.254.169.254, fe80::/10,
    # metadata.google.internal ...) is refused unless this is true (docs/hardening.md). Private and
    # loopback addresses are allowed: a chat server on the office network is a normal target.
    opsdash_alert_webhook_allow_link_local: bool = False

    # The business calendar (store/calendar.py): an IANA zone name; unset = the machine's zone.
    opsdash_timezone: str | None = None
    # Number, money and date formatting (e.g. "de_DE"); unset = plain ISO dates and "1234.50".
    opsdash_locale: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        tomls = tuple(TomlConfigSettingsSource(settings_cls, toml_file=f) for f in TOML_FILES)
        return (init_settings, env_settings, *tomls)

    def configured(self, vendor: Vendor) -> bool:
        """Upwell pushes to us, so it is configured when the webhook credentials are."""
        if vendor == "upwell":
            return bool(self.opsdash_webhook_user and self.opsdash_webhook_password)
        return bool(getattr(self, f"{vendor}_base_url"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
