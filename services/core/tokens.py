"""OAuth access-token cache shared by every process that uses the same SQLite file.

Qargo rations tokens to 5 per hour (seeds/000 line 141), so the worker, the dashboard and the
CLI must share one token and never fetch it twice at once. The cache lives in `service_tokens`;
a fetch is serialised across processes by `fcntl.flock` on a lock file next to the database
(not by a SQLite write lock, which would stall every cache writer for the length of an HTTP call),
and the cache is re-read after the lock is taken, so the processes that waited reuse the token.
With a PostgreSQL `OPSDASH_DB` (issue 20) the fetch is serialised by `pg_advisory_xact_lock` on the token's key
instead, held on a connection of its own for the length of the fetch: one token for every process on every
machine.
"""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from services.core.postgres import connect as pg_connect
from services.core.store import Target, immediate, reading, target

# A fetch returns the token and its lifetime in seconds (the vendor's `expires_in`).
Fetch = Callable[[], tuple[str, float]]


def token_key(base_url: str, client_id: str) -> str:
    """Cache key: base URL + client id, hashed. Never the secret."""
    return hashlib.sha256(f"{base_url.rstrip('/')}\0{client_id}".encode()).hexdigest()[:32]


class TokenStore:
    def __init__(self, db_path: Path | str, *, clock: Callable[[], float] = time.time) -> None:
        self.db_path: Target = target(db_path)
        self.clock = clock

    def get(self, key: str, *, margin: float) -> str | None:
        """The cached token if it stays valid for at least `margin` more seconds."""
        with reading(self.db_path) as conn:
            row = conn.execute(
                "SELECT token, expires_at FROM service_tokens WHERE key = ?", (key,)
            ).fetchone()
        if row and row[1] - margin > self.clock():
            return str(row[0])
        return None

    def put(self, key: str, token: str, expires_at: float) -> None:
        with immediate(self.db_path) as conn:
            conn.execute(
                "INSERT INTO service_tokens (key, token, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at",
                (key, token, expires_at),
            )

    def discard(self, key: str, token: str) -> None:
        """Drop `token` if it is still the cached one: a process that already replaced it wins."""
        with immediate(self.db_path) as conn:
            conn.execute("DELETE FROM service_tokens WHERE key = ? AND token = ?", (key, token))

    def get_or_fetch(self, key: str, fetch: Fetch, *, margin: float) -> str:
        if token := self.get(key, margin=margin):
            return token
        with self._fetch_lock(key):
            if token := self.get(key, margin=margin):
                return token
            token, lifetime = fetch()
            self.put(key, token, self.clock() + lifetime)
            return token

    @contextmanager
    def _fetch_lock(self, key: str) -> Iterator[None]:
        if isinstance(self.db_path, str):
            with _advisory_lock(self.db_path, f"opsdash.token:{key}"):
                yield
            return
        lock_path = self.db_path.with_name(f"{self.db_path.name}.token-{key[:16]}.lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def __repr__(self) -> str:
        return f"TokenStore(db_path={str(self.db_path)!r})"


@contextmanager
def _advisory_lock(url: str, name: str) -> Iterator[None]:
    """PostgreSQL's lock on `name` for the block, on a connection of its own (released when its transaction
    ends, also if this process dies: the server ends the session)."""
    db = pg_connect(url)
    try:
        with db.atomic():
            db.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", [name])
            yield
    finally:
        db.close()
