"""Auth strategies: how each vendor wants its credentials on a request.

A strategy gives the headers for the next request (fetching a token if it must), says whether a
401 is worth one retry with fresh credentials, and lists its secret values so error bodies can be
redacted. Secrets are `SecretStr` and never appear in a repr.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import httpx
from pydantic import SecretStr

from services.core.errors import MalformedResponse, connection_error, error_for_response, json_or_none
from services.core.retry import parse_retry_after
from services.core.tokens import TokenStore, token_key


class AuthStrategy(Protocol):
    credential: str  # what the vendor rejected, in words: "client credentials", "API key", "token"
    hint: str  # what to check: "check CARGOBASE_TOKEN"

    def headers(self, http: httpx.Client) -> dict[str, str]: ...

    def refresh_after_401(self, used: Mapping[str, str]) -> bool:
        """Forget the credentials in `used`; True when fetching new ones may fix a 401."""
        ...

    def secret_values(self) -> tuple[str, ...]: ...


def _secret(value: str | SecretStr) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(value)


class _Static:
    """Shared by the strategies whose credentials never change during a run."""

    credential = "credentials"
    hint = "check the credentials in the settings"

    def refresh_after_401(self, used: Mapping[str, str]) -> bool:
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(credential={self.credential!r}, secret='**********')"


class QuadernoBasic(_Static):
    """API key as the Basic user, empty password (seeds/001 line 11); the API version travels in
    `Accept: application/json; api_version=…` (seeds/001 line 150)."""

    credential = "API key"

    def __init__(
        self, api_key: str | SecretStr, api_version: str | None = None, hint: str = "check QUADERNO_API_KEY"
    ) -> None:
        self._key, self.api_version, self.hint = _secret(api_key), api_version, hint

    def headers(self, http: httpx.Client) -> dict[str, str]:
        basic = base64.b64encode(f"{self._key.get_secret_value()}:".encode()).decode()
        accept = (
            f"application/json; api_version={self.api_version}" if self.api_version else "application/json"
        )
        return {"Authorization": f"Basic {basic}", "Accept": accept}

    def secret_values(self) -> tuple[str, ...]:
        key = self._key.get_secret_value()
        return (key, base64.b64encode(f"{key}:".encode()).decode())


class BearerWithHeaders(_Static):
    """A fixed bearer token plus headers every call needs (Qasida: JWT + `MandantId`)."""

    credential = "token"

    def __init__(
        self,
        token: str | SecretStr,
        extra: Mapping[str, str] | None = None,
        hint: str = "check QASIDA_TOKEN and QASIDA_MANDANT_ID",
    ) -> None:
        self._token, self.extra, self.hint = _secret(token), dict(extra or {}), hint

    def headers(self, http: httpx.Client) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token.get_secret_value()}", **self.extra}

    def secret_values(self) -> tuple[str, ...]:
        return (self._token.get_secret_value(),)


class TokenHeader(_Static):
    """`Authorization: Token <t>`; Cargobase answers 403, not 401, for a bad token (seeds/004)."""

    credential = "token"

    def __init__(self, token: str | SecretStr, hint: str = "check CARGOBASE_TOKEN") -> None:
        self._token, self.hint = _secret(token), hint

    def headers(self, http: httpx.Client) -> dict[str, str]:
        return {"Authorization": f"Token {self._token.get_secret_value()}"}

    def secret_values(self) -> tuple[str, ...]:
        return (self._token.get_secret_value(),)


class QargoClientCredentials:
    """OAuth2 client credentials (seeds/000 "Obtaining an access token"): POST {base}/v1/auth/token
    with Basic client_id:secret, then `Bearer <access_token>`. The token is cached in the shared
    SQLite file and refreshed `margin` seconds before it expires; a 401 discards it and refetches once."""

    credential = "client credentials"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str | SecretStr,
        db_path: Path | str,
        *,
        vendor: str = "Qargo",
        token_path: str = "/v1/auth/token",
        margin: float = 300.0,
        default_lifetime: float = 3600.0,
        hint: str = "check QARGO_CLIENT_ID and QARGO_CLIENT_SECRET",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.vendor, self.client_id, self._secret = vendor, client_id, _secret(client_secret)
        self.token_url = base_url.rstrip("/") + token_path
        self.margin, self.default_lifetime, self.hint = margin, default_lifetime, hint
        self._store = TokenStore(db_path, clock=clock)
        self._key = token_key(base_url, client_id)
        self._last_token = ""

    def headers(self, http: httpx.Client) -> dict[str, str]:
        token = self._store.get_or_fetch(self._key, lambda: self._fetch(http), margin=self.margin)
        self._last_token = token  # only so error bodies echoing it can be redacted
        return {"Authorization": f"Bearer {token}"}

    def refresh_after_401(self, used: Mapping[str, str]) -> bool:
        self._store.discard(self._key, used.get("Authorization", "").removeprefix("Bearer "))
        return True

    def secret_values(self) -> tuple[str, ...]:
        return (self._secret.get_secret_value(), self._last_token)

    def _fetch(self, http: httpx.Client) -> tuple[str, float]:
        # Never retried: Qargo allows 5 token requests per hour (seeds/000 line 141).
        auth = httpx.BasicAuth(self.client_id, self._secret.get_secret_value())
        try:
            response = http.post(self.token_url, auth=auth, headers={"Content-Type": "application/json"})
        except httpx.TransportError as exc:
            raise connection_error(
                self.vendor, exc, "POST /v1/auth/token", f"check {self.vendor.upper()}_BASE_URL"
            ) from None
        if response.status_code != 200:
            raise self._token_error(response)
        return self._parse(json_or_none(response))

    def _token_error(self, response: httpx.Response) -> Exception:
        wait = parse_retry_after(response.headers.get("retry-after"), time.time())
        return error_for_response(
            self.vendor,
            response,
            credential=self.credential,
            auth_hint=self.hint,
            retry_after=wait,
            secrets=self.secret_values(),
        )

    def _parse(self, body: Any) -> tuple[str, float]:
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise MalformedResponse(
                f"{self.vendor} answered the token request without an access_token: "
                "check QARGO_BASE_URL points at the Qargo API",
                vendor=self.vendor,
                status=200,
            )
        lifetime = body.get("expires_in")
        return token, float(lifetime) if isinstance(lifetime, (int, float)) else self.default_lifetime

    def __repr__(self) -> str:
        return f"QargoClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r})"
