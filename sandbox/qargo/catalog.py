"""Read-mostly master data: resources with their unavailabilities, and accounting sync tasks.

Everything is a pure function of (seed, index), so nothing is held in memory: a page is built
when asked for. Resource i's type cycles DRIVER, RIGID (truck), TRACTOR, TRAILER.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sandbox.qargo.common import iso, money, stable_uuid
from sandbox.qargo.orders import OrderBook, erp_index
from sandbox.qargo.render import charges, company
from sandbox.world import World

TYPES = ("DRIVER", "RIGID", "TRACTOR", "TRAILER")
_KEY = {"DRIVER": "driver", "RIGID": "truck", "TRACTOR": "tractor", "TRAILER": "trailer"}
_FIRST = ("Anna", "Jonas", "Marta", "Pieter", "Lena", "Tomasz", "Sofia", "Lars", "Eva", "Marco")
_LAST = ("Jansen", "Schmidt", "Kowalski", "Rossi", "Berg", "Peeters", "Silva", "Novak", "Larsen", "Weber")
_DRIVER_REASONS = ("DRIVER_HOLIDAY", "DRIVER_SICKNESS", "DRIVER_TRAINING")
_VEHICLE_REASONS = ("VEHICLE_MAINTENANCE", "VEHICLE_REPAIR", "VEHICLE_INSPECTION")
BILLING_ENTITY_CODE = "BE01"


def resource_type(i: int) -> str:
    return TYPES[(i - 1) % len(TYPES)]


def resource(world: World, seed: int, i: int) -> dict[str, Any]:
    rng = world.rng("qargo", "resource", i)
    kind = resource_type(i)
    plate = f"{rng.choice('ABCDEFGH')}{rng.choice('KLMNPRST')}-{rng.randint(100, 999)}-{rng.choice('XYZ')}"
    if kind == "DRIVER":
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        name, props = f"{first} {last}", {"first_name": first, "last_name": last,
                                          "email_address": f"{first.lower()}.{last.lower()}{i}@fleet.example"}
    elif kind == "TRAILER":
        name, props = f"Trailer {plate}", {"license_plate": plate, "capacity_pallet_spaces": "33",
                                           "axle_configuration": "AC_6_TRAILER"}
    else:
        name, props = f"{kind.title()} {plate}", {"license_plate": plate, "fuel_type": "DIESEL",
                                                  "emission_class": "EURO_6", "capacity_weight_kg": "18000"}
    return {"row_id": stable_uuid(seed, "resource", i), "name": name, "external_id": f"RES-{i:05d}",
            "code": f"{kind[:2]}{i:04d}", "custom_fields": {}, "extras": [], "resource_groups": [],
            "is_active": rng.random() >= 0.05, "is_external_resource": False,
            "timestamp_updated": iso(world.days_ago(rng.uniform(0, 90))), _KEY[kind]: props}


def resource_index(seed: int, count: int) -> dict[str, int]:
    return {stable_uuid(seed, "resource", i): i for i in range(1, count + 1)}


def unavailabilities(world: World, seed: int, i: int) -> list[dict[str, Any]]:
    rng = world.rng("qargo", "unavailability", i)
    reasons = _DRIVER_REASONS if resource_type(i) == "DRIVER" else _VEHICLE_REASONS
    out = []
    for n in range(rng.choice((0, 0, 1, 1, 2))):
        start = world.days_ago(rng.randint(-20, 10))
        out.append({"id": stable_uuid(seed, "unavailability", i, n), "reason": rng.choice(reasons),
                    "start_time": iso(start), "end_time": iso(start + timedelta(days=rng.randint(1, 5))),
                    "description": f"Planned absence {n + 1}", "external_id": f"HR-{i:05d}-{n + 1}"})
    return out


def task_count(book: OrderBook) -> int:
    return min(25, max(1, book.count // 4))


def task_type(j: int) -> str:
    return "POST_CREDIT_NOTE" if j % 5 == 0 else "POST_INVOICE"


def tasks(seed: int, book: OrderBook) -> list[dict[str, Any]]:
    """AvailableTasks: posting work for the customer's accounting integration (read-only here)."""
    return [{"id": stable_uuid(seed, "task", j), "task_type": task_type(j), "status": "TODO"}
            for j in range(1, task_count(book) + 1)]


def task_index(seed: int, book: OrderBook) -> dict[str, int]:
    return {stable_uuid(seed, "task", j): j for j in range(1, task_count(book) + 1)}


def task_detail(world: World, seed: int, book: OrderBook, j: int) -> dict[str, Any]:
    invoice_id = stable_uuid(seed, "invoice", j)
    subject = "SALES_CREDIT_NOTE" if task_type(j) == "POST_CREDIT_NOTE" else "SALES_INVOICE"
    return {"id": stable_uuid(seed, "task", j), "task_type": task_type(j), "status": "TODO",
            "invoice_id": invoice_id,
            "payload": {"subject_id": invoice_id, "subject_type": subject, "documents": [],
                        "instance": _invoice(world, seed, book, j, subject)}}


def _invoice(world: World, seed: int, book: OrderBook, j: int, subject: str) -> dict[str, Any]:
    order = book.preexisting(j)
    lines = [c for c in charges(order, world, seed) if c["approval_status"] in (None, "APPROVED")]
    cents = [_cents(c["amount_excl_tax"]) for c in lines]
    taxes = [_cents(c["amount_tax"]) for c in lines]
    day = order.created.date() + timedelta(days=7)
    body: dict[str, Any] = {
        "id": stable_uuid(seed, "invoice", j), "name": world.invoice_number(erp_index(world, j, book.count)),
        "date": day.isoformat(), "currency": order.customer.currency, "custom_fields": {},
        "customer_reference_numbers": [order.reference] if order.reference else [],
        "total_excl_tax": money(sum(cents)), "total_tax": money(sum(taxes)),
        "total_incl_tax": money(sum(cents) + sum(taxes)), "customer": company(order.customer, seed),
        "line_items": [_line(seed, order.id, order.identifier, c) for c in lines],
        "billing_entity": {"id": stable_uuid(seed, "billing-entity"), "legal_name": "Opsdash Logistics NV",
                           "vat_number": "BE0477472701", "code": BILLING_ENTITY_CODE,
                           "company_registration_number": "0477472701", "is_default": True}}
    if subject == "SALES_INVOICE":
        body["due_date"] = (day + timedelta(days=30)).isoformat()
    return body


def _line(seed: int, order_id: str, order_name: str, charge: dict[str, Any]) -> dict[str, Any]:
    return {"id": stable_uuid(seed, "line", charge["id"]), "invoice_line_id": stable_uuid(seed, "iline", charge["id"]),
            "name": charge["name"], "code": charge["code"], "amount": charge["amount_excl_tax"],
            "currency": charge["currency"], "order_id": order_id, "order_name": order_name,
            "is_credit_charge": False}


def _cents(amount: str) -> int:
    units, _, frac = amount.partition(".")
    return int(units) * 100 + int((frac + "00")[:2])
