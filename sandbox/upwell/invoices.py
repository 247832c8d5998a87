"""Carrier invoices as Upwell stores them (the `payload.new`/`old` rows of seeds/002 lines 13-86).

Amounts are integer minor units with a currency (`total_amount`, `balance`, `total_tax_amount`);
invoice k (1..upwell_invoices) bills the transport of ERP order i, referenced by its number.
"""

from __future__ import annotations

import copy
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.world import World

TENANT_ID = "ten_opsdash"
_TAX_RATES = {"DE": 19, "NL": 21, "BE": 21, "IT": 22, "AT": 20, "PL": 23, "DK": 25, "SE": 25, "PT": 23, "GB": 20}
# Upwell's status is a free string (seeds/002 line 15 shows RECEIVED); receivers must keep unknown values.
# A disputed invoice may be voided with its balance left as it was: an ended status (store/statuses.py
# UPWELL_ENDED) that the dashboard must not count as owed.
_NEXT_STATUS = {"RECEIVED": ("APPROVED", "DISPUTED"), "DISPUTED": ("APPROVED", "VOIDED"),
                "APPROVED": ("PARTIALLY_PAID", "PAID"), "PARTIALLY_PAID": ("PAID",)}


def stamp(dt: datetime) -> str:
    """Row timestamps: '2024-11-16T00:59:33.492433+00:00' (seeds/002 line 23)."""
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


class CarrierInvoices:
    """The live carrier invoices: created one by one up to the scale's `upwell_invoices`."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.limit = world.sizes["upwell_invoices"]
        self.created = 0
        self.live: dict[str, dict[str, Any]] = {}
        self.living = False

    def can_create(self) -> bool:
        """Up to the scale's count; in a living world (sandbox/living.py) also whenever fewer than half that
        many are still open, so carriers keep invoicing as invoices are paid."""
        if self.created < self.limit:
            return True
        return self.living and sum(row["status"] in _NEXT_STATUS for row in self.live.values()) < self.limit // 2

    def create(self, rng: random.Random, now: datetime) -> dict[str, Any]:
        self.created += 1
        k = self.created
        i = 1 + (k * 7919) % self.world.sizes["erp_orders"]  # spread over the ERP's orders
        row = _row(self.world, rng, k, i, now)
        self.live[row["id"]] = row
        if self.living and len(self.live) > 2 * self.limit:
            self._forget_settled()
        return copy.deepcopy(row)

    def _forget_settled(self) -> None:
        """A living world keeps at most twice the scale's count: settled invoices go first, oldest first
        (the receiver has them; Upwell would not restate a paid invoice years on)."""
        settled = [k for k, row in self.live.items() if row["status"] not in _NEXT_STATUS]
        for k in settled[: len(self.live) - 2 * self.limit]:
            del self.live[k]

    def pick(self, rng: random.Random, changeable: bool = False) -> str | None:
        ids = sorted(k for k, row in self.live.items() if not changeable or row["status"] in _NEXT_STATUS)
        return rng.choice(ids) if ids else None

    def update(self, rng: random.Random, invoice_id: str, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
        """Move an invoice one step (approval, dispute, payment); returns (old, new) copies."""
        row = self.live[invoice_id]
        old = copy.deepcopy(row)
        status = rng.choice(_NEXT_STATUS.get(row["status"], (row["status"],)))
        row["status"] = status
        if status == "PAID":
            row["balance"] = 0
        elif status == "PARTIALLY_PAID":
            row["balance"] = row["balance"] // 2
        row["updated_at"] = stamp(now)
        return old, copy.deepcopy(row)

    def delete(self, invoice_id: str) -> dict[str, Any]:
        return self.live.pop(invoice_id)

    def soft_delete(self, invoice_id: str, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
        """An UPDATE that sets `deleted_at` (seeds/002 line 24): the row stays, marked deleted."""
        old = copy.deepcopy(self.live[invoice_id])
        row = self.live.pop(invoice_id)
        row["deleted_at"] = row["updated_at"] = stamp(now)
        return old, copy.deepcopy(row)


def _row(world: World, rng: random.Random, k: int, i: int, now: datetime) -> dict[str, Any]:
    customer = world.order_customer(i)
    total = rng.randint(15_000, 2_500_000)
    rate = _TAX_RATES.get(customer.country, 0)
    issued = (now - timedelta(days=rng.randint(0, 10))).date()
    return {
        "id": f"cari_{uuid.UUID(int=rng.getrandbits(128)).hex[:20]}", "status": "RECEIVED", "balance": total,
        "bill_id": None, "currency": customer.currency, "due_date": (issued + timedelta(days=30)).isoformat(),
        "metadata": {"order_number": world.order_number(i), "customer_code": customer.code},
        "tenant_id": TENANT_ID, "carrier_id": f"car_{1 + rng.randrange(12):04d}", "created_at": stamp(now),
        "deleted_at": None, "issue_date": issued.isoformat(), "updated_at": stamp(now),
        "load_number": f"LOAD-{i:07d}", "received_at": stamp(now), "shipment_id": f"shp_{i:07d}",
        "total_amount": total, "invoice_number": str(10_000 + k),
        "total_tax_amount": total * rate // (100 + rate),  # the tax included in the total
        "reference_numbers": [world.order_number(i)], "source_system_meta": _source_meta(rng, k, now),
        "customer_invoice_id": None, "created_from_email_message_id": None,
        "documents_type_or_customer_visibility_updated_at": None,
    }


def _source_meta(rng: random.Random, k: int, now: datetime) -> dict[str, Any]:
    return {
        "type": "ACCOUNTS_PAYABLE", "mergeId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "remoteId": str(k), "field_mappings": {"organization_defined_targets": None,
                                               "linked_account_defined_targets": None},
        "remote_updated_at": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "remote_was_deleted": False,
        "tracking_categories": [],
    }
