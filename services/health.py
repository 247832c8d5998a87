"""Is each vendor configured, and does it answer? Used by the vendors page and `opsdash demo`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import httpx

from services.settings import VENDORS, Settings, Vendor

_PUSH_ONLY = {"upwell"}


@dataclass(frozen=True)
class VendorHealth:
    vendor: str
    configured: bool
    base_url: str
    reachable: str

    def as_dict(self) -> dict[str, str]:
        row = asdict(self)
        row["configured"] = "yes" if self.configured else "no: set its base URL"
        return row


def probe(settings: Settings, vendor: Vendor, timeout: float = 2.0, reach: bool = True) -> VendorHealth:
    configured = settings.configured(vendor)
    if vendor in _PUSH_ONLY:
        state = "pushes to /webhooks/upwell" if configured else "set OPSDASH_WEBHOOK_USER and _PASSWORD"
        return VendorHealth(vendor, configured, "(push only)", state)
    base = getattr(settings, f"{vendor}_base_url") or ""
    if not configured:
        return VendorHealth(vendor, False, "", "not configured")
    if not reach:
        return VendorHealth(vendor, True, base, "not checked")
    try:
        # Any HTTP answer (even 401/404) means the server is up; no credentials are sent here.
        status = httpx.get(base, timeout=timeout).status_code
        return VendorHealth(vendor, True, base, f"answers (HTTP {status})")
    except httpx.HTTPError as exc:
        return VendorHealth(vendor, True, base, f"unreachable ({type(exc).__name__})")


def probe_all(settings: Settings, reach: bool = True) -> list[VendorHealth]:
    """With `reach=False`, only the configuration is reported: no network call."""
    return [probe(settings, v, reach=reach) for v in VENDORS]
