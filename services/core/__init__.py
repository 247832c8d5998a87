"""The shared HTTP core every vendor client is built on.

Build a client from a declaration, then call it or page through it::

    spec = VendorSpec(
        name="Cargobase", base_url=settings.cargobase_base_url,
        auth=TokenHeader(settings.cargobase_token),
        limiter=SqliteRateLimiter(settings.opsdash_db, "cargobase", rate=2, burst=2),
    )
    with VendorClient(spec) as client:
        for invoice in client.iter_records("/invoices/", {"status": "approved"}, NextUrl()):
            ...

Exceptions (all carry `vendor`, `status`, `request_id`, `message`, a redacted `body` excerpt)::

    VendorError
     ├── VendorConnectionError      no HTTP answer (refused, reset, DNS, TLS)
     │    └── VendorTimeout         no answer within the timeouts
     ├── VendorReadError            an answer whose body broke off mid-way (the connection, not the URL)
     ├── AuthError                  401, or 403 (Cargobase's bad token; Qargo's missing permission)
     │    └── PermissionDenied      403 where the vendor means a permission (Quaderno "hidden for administrators")
     ├── NotFoundError              404, 410
     ├── ValidationError            400, 422; `.fields`: {field: [messages]}
     ├── RateLimited                429 (+ a vendor's extras: Quaderno 503); `.retry_after` seconds
     ├── ServerError                5xx
     └── MalformedResponse          not JSON, wrong shape, a page cursor loop

Tables (created here, in the shared SQLite file): `service_tokens` (the OAuth token cache: a
secret, never export it) and `rate_buckets` (the shared client-side rate limiters).
"""

from services.core.auth import (
    AuthStrategy,
    BearerWithHeaders,
    QargoClientCredentials,
    QuadernoBasic,
    TokenHeader,
)
from services.core.client import Timeouts, VendorClient, VendorSpec
from services.core.errors import (
    AuthError,
    MalformedResponse,
    NotFoundError,
    PermissionDenied,
    RateLimited,
    ServerError,
    ValidationError,
    VendorConnectionError,
    VendorError,
    VendorReadError,
    VendorTimeout,
    error_for_response,
)
from services.core.pagination import (
    CreatedBefore,
    CursorItems,
    NextUrl,
    Page,
    PageNumberEnvelope,
    PageRequest,
    Paginator,
    iter_records,
    paginate,
)
from services.core.ratelimit import MemoryRateLimiter, RateLimiter, SqliteRateLimiter
from services.core.retry import RetryPolicy

__all__ = [
    "AuthError",
    "AuthStrategy",
    "BearerWithHeaders",
    "CreatedBefore",
    "CursorItems",
    "MalformedResponse",
    "MemoryRateLimiter",
    "NextUrl",
    "NotFoundError",
    "Page",
    "PageNumberEnvelope",
    "PageRequest",
    "Paginator",
    "PermissionDenied",
    "QargoClientCredentials",
    "QuadernoBasic",
    "RateLimited",
    "RateLimiter",
    "RetryPolicy",
    "ServerError",
    "SqliteRateLimiter",
    "Timeouts",
    "TokenHeader",
    "ValidationError",
    "VendorClient",
    "VendorConnectionError",
    "VendorError",
    "VendorReadError",
    "VendorSpec",
    "VendorTimeout",
    "error_for_response",
    "iter_records",
    "paginate",
]
