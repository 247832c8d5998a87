"""`created_before` cursor pagination over a kind of document (seeds/001 lines 64-80).

Ids of a kind are contiguous (base+1 .. base+count, creations through the API appended after the
generated ones) and ascend with creation time, so a page is a walk down from the cursor. Since
API version 20240705 the last item of a page is the `created_before` of the next page's URL
(seeds/001 line 229), as the recorded pages show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.quaderno.documents import CONTACT_BASE, CREDIT_BASE, INVOICE_BASE, Book

DEFAULT_LIMIT, MAX_LIMIT = 25, 100  # seeds/001 lines 71-73: default 25, capped at 100


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    contact: int | None = None

    @property
    def active(self) -> bool:
        return self.state is not None or self.contact is not None


@dataclass
class Kind:
    name: str  # "invoices" | "credits" | "contacts"
    base: int
    generated: int  # how many ids the world generates; API creations follow
    render: Callable[[int, str], dict[str, Any]]  # (index, origin) -> body
    state: Callable[[int], str] | None = None  # cheap predicates for filters, by index
    contact: Callable[[int], int] | None = None
    gone: Callable[[int], int | None] = lambda index: None  # 410/404 for a removed document, by index

    def gone_status(self, doc_id: int) -> int | None:
        index = doc_id - self.base
        return self.gone(index) if 1 <= index <= self.generated else None

    def last_id(self, book: Book) -> int:
        extra = book.extra.get(self.name, {})
        return self.base + self.generated + len(extra)

    def get(self, book: Book, doc_id: int, origin: str) -> dict[str, Any] | None:
        index = doc_id - self.base
        if 1 <= index <= self.generated:
            return None if self.gone(index) else self.render(index, origin)
        return book.extra.get(self.name, {}).get(doc_id)

    def matches(self, book: Book, doc_id: int, filters: Filters) -> bool:
        index = doc_id - self.base
        if index > self.generated:  # created through the API: filter on the stored body
            doc = book.extra[self.name][doc_id]
            return (filters.state is None or doc.get("state") == filters.state) and (
                filters.contact is None or doc.get("contact", {}).get("id") == filters.contact
            )
        if self.gone(index):
            return False
        if filters.state is not None and (self.state is None or self.state(index) != filters.state):
            return False
        return filters.contact is None or (
            self.contact is not None and self.contact(index) == filters.contact
        )

    def page(self, book: Book, before: int | None, limit: int, filters: Filters) -> tuple[list[int], bool]:
        """Ids below `before`, newest first: (up to `limit` ids, whether more exist)."""
        top = self.last_id(book) if before is None else min(before - 1, self.last_id(book))
        if not filters.active:
            ids = list(range(top, max(self.base, top - limit), -1))
            return ids, bool(ids) and ids[-1] > self.base + 1
        found: list[int] = []
        for doc_id in range(top, self.base, -1):  # a filtered walk: bounded by the kind's size
            if self.matches(book, doc_id, filters):
                if len(found) == limit:
                    return found, True
                found.append(doc_id)
        return found, False


def kinds(book: Book) -> dict[str, Kind]:
    now = book.clock.now
    customers = book.world.customers
    return {
        "invoices": Kind(
            "invoices",
            INVOICE_BASE,
            book.n_invoices,
            book.invoice,
            state=lambda k: book.invoice_state(k, now()),
            contact=lambda k: CONTACT_BASE + book.customer_of(k).id,
            gone=book.removed,
        ),
        "credits": Kind(
            "credits",
            CREDIT_BASE,
            book.n_credits,
            book.credit,
            state=book.credit_state,
            contact=lambda j: CONTACT_BASE + book.customer_of(book.credit_target(j)).id,
        ),
        "contacts": Kind(
            "contacts", CONTACT_BASE, len(customers), lambda i, origin: book.contact(customers[i - 1], origin)
        ),
    }
