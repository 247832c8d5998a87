"""`NotConfigured`: raised when a vendor client is built without the settings it needs.

A vendor without a base URL is "not configured" (ARCHITECTURE.md, Settings): the dashboard shows it
as such, and code that asks for a client anyway gets this error, naming the setting to set. It sits
on the shared error tree so callers that catch `VendorError` also catch it.
"""

from __future__ import annotations

from pydantic import SecretStr

from services.core.errors import VendorError


class NotConfigured(VendorError):
    """A setting the vendor client needs is missing; `setting` is its environment name."""

    def __init__(self, vendor: str, setting: str) -> None:
        super().__init__(f"{vendor} is not configured: set {setting}", vendor=vendor)
        self.setting = setting


def require(vendor: str, setting: str, value: str | None) -> str:
    """The setting's value, or `NotConfigured` naming it."""
    if not value:
        raise NotConfigured(vendor, setting)
    return value


def require_secret(vendor: str, setting: str, value: SecretStr | None) -> SecretStr:
    if value is None or not value.get_secret_value():
        raise NotConfigured(vendor, setting)
    return value
