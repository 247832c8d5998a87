"""Transport orders: the pre-existing ones (generated on demand from the seed) and uploaded ones.

Pre-existing order i (1..sizes["qargo_orders"]) carries the most recent ERP sales orders: order i
refers to ERP order `erp_orders - qargo_orders + i`, its customer and number, so the dashboard can
join TMS orders to ERP orders and invoices. Orders are built only when first touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sandbox.qargo.common import stable_uuid
from sandbox.world import Customer, World

# Order lifecycle; the visibility vocabulary (vendor-specs README) has these and more.
# Statuses from the OpenAPI's VisibilityOrderStatus; an invoiced order is still posted to the ledger
# (INVOICE_POSTED), so INVOICED is not the end (store/statuses.py QARGO_FINAL).
CHAIN = ("TO_PLAN", "PLANNED", "DEPARTED", "IN_TRANSIT", "COMPLETED", "INVOICE_READY", "INVOICED", "INVOICE_POSTED")
TERMINAL = frozenset({"INVOICE_POSTED", "CANCELLED"})
CANCELLABLE = frozenset({"TO_PLAN", "PLANNED"})


@dataclass
class Stop:
    id: str
    kind: str  # PICKUP | DELIVERY
    location: dict[str, Any]
    day: date | None
    reference: str | None = None


@dataclass
class Consignment:
    id: str
    pickup: Stop
    delivery: Stop
    goods: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Order:
    id: str
    key: str  # names this order's random streams (charges, documents)
    identifier: str
    customer: Customer
    reference: str | None
    consignments: list[Consignment]
    created: datetime
    status: str = "TO_PLAN"
    fingerprint: str = ""  # canonical upload payload, for idempotent repeats
    approvals: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    # The carrier's estimate against the plan (visibility `eta_start_time`): days after the planned delivery
    # day, at `eta_hour`:30 UTC. A slipping order's estimate moves a day later with each step it takes.
    eta_slip: int = 0
    eta_hour: int = 9

    def next_status(self) -> str | None:
        if self.status in TERMINAL or self.status not in CHAIN:
            return None
        return CHAIN[CHAIN.index(self.status) + 1]


class OrderBook:
    def __init__(self, world: World, seed: int) -> None:
        self.world, self.seed = world, seed
        self.count = world.sizes["qargo_orders"]
        self._index = {stable_uuid(seed, "order", i): i for i in range(1, self.count + 1)}
        self.orders: dict[str, Order] = {}
        self.by_identifier: dict[str, str] = {}  # uploaded orders; pre-existing ones via _preexisting_idents
        self.uploaded: list[str] = []
        self._idents: dict[str, int] | None = None
        self.arrived = 0  # orders that arrived after the start (a living world: sandbox/living.py)

    @property
    def total(self) -> int:
        """Pre-existing orders plus arrivals: indexes 1..total (arrivals are count+1..)."""
        return self.count + self.arrived

    def arrive(self, ordered: datetime, now: datetime) -> Order:
        """A new transport order for the next new ERP order, ordered at `ordered`, entered now (TO_PLAN)."""
        self.arrived += 1
        i = self.total
        order = _generate(self.world, self.seed, i, self.count, ordered=ordered)
        order.status, order.created = "TO_PLAN", now
        self.orders[order.id] = order
        self._index[order.id] = i
        if self._idents is not None:
            self._idents[order.identifier] = i
        return order

    def get(self, order_id: str) -> Order | None:
        if order_id in self.orders:
            return self.orders[order_id]
        i = self._index.get(order_id)
        return self.preexisting(i) if i else None

    def preexisting(self, i: int) -> Order:
        order_id = stable_uuid(self.seed, "order", i)
        if order_id not in self.orders:
            self.orders[order_id] = _generate(self.world, self.seed, i, self.count)
        return self.orders[order_id]

    def by_ident(self, identifier: str) -> Order | None:
        """An uploaded order, or a pre-existing one (Qargo updates and cancels any order by its
        `order_identifier`, whoever created it: the demo acts on orders the dashboard only knows)."""
        order_id = self.by_identifier.get(identifier)
        if order_id:
            return self.orders.get(order_id)
        i = self._preexisting_idents().get(identifier)
        return self.preexisting(i) if i else None

    def _preexisting_idents(self) -> dict[str, int]:
        if self._idents is None:
            self._idents = {preexisting_identifier(self.world, i, self.count): i for i in range(1, self.count + 1)}
        return self._idents

    def add_uploaded(self, order: Order) -> None:
        self.orders[order.id] = order
        self.by_identifier[order.identifier] = order.id
        self.uploaded.append(order.id)

    def all_preexisting(self) -> None:
        """Materialise every pre-existing order (a document id lookup missed the cache)."""
        for i in range(1, self.count + 1):
            self.preexisting(i)


def erp_index(world: World, i: int, count: int) -> int:
    return max(1, world.sizes["erp_orders"] - count + i)


def preexisting_identifier(world: World, i: int, count: int) -> str:
    return f"TMS-{world.order_number(erp_index(world, i, count))}"


def _generate(world: World, seed: int, i: int, count: int, ordered: datetime | None = None) -> Order:
    erp = erp_index(world, i, count)
    rng = world.rng("qargo", "order", i)
    customer = world.order_customer(erp)
    ordered = ordered or world.order_date(erp)
    pickup_day = (ordered + timedelta(days=1)).date()
    order_id = stable_uuid(seed, "order", i)
    warehouse = world.warehouses[rng.randrange(len(world.warehouses))]
    pickup = Stop(stable_uuid(seed, "stop", i, 1), "PICKUP", {
        "name": warehouse.name, "address": f"{rng.randint(1, 90)} Industrieweg", "city": warehouse.city,
        "country": warehouse.country, "code": warehouse.code}, pickup_day, f"P-{world.order_number(erp)}")
    delivery = Stop(stable_uuid(seed, "stop", i, 2), "DELIVERY", customer_location(customer),
                    pickup_day + timedelta(days=rng.randint(1, 3)), f"D-{world.order_number(erp)}")
    goods = [{"description": f"{rng.randint(1, 33)} pallets", "quantity": rng.randint(1, 33)}]
    consignment = Consignment(stable_uuid(seed, "consignment", i), pickup, delivery, goods)
    order = Order(order_id, f"pre/{i}", preexisting_identifier(world, i, count), customer, world.order_number(erp),
                  [consignment], ordered)
    order.eta_slip, order.eta_hour = eta_plan(world, i)
    # A slipping order is that many days behind its plan: still on the road after its planned delivery (late).
    behind = world.anchor - ordered - timedelta(days=order.eta_slip)
    order.status = "CANCELLED" if rng.random() < 0.05 else _status_by_age(behind)
    return order


def eta_plan(world: World, i: int) -> tuple[int, int]:
    """(days the ETA is after the plan, UTC hour of the ETA) for pre-existing order i, from its own stream: one
    order in two slips by 1-3 days, and one ETA in two is at 23:30Z (the next day in Europe, issue 18 point 7)."""
    rng = world.rng("qargo", "eta", i)
    slip = rng.choice((0, 0, 0, 1, 2, 3))
    return slip, rng.choice((8, 23))


def _status_by_age(age: timedelta) -> str:
    """Older orders are further along, so a fresh sandbox shows every stage."""
    for days, status in ((30, "INVOICE_POSTED"), (20, "INVOICED"), (10, "INVOICE_READY"), (5, "COMPLETED"), (3, "IN_TRANSIT"),
                         (2, "DEPARTED"), (1, "PLANNED")):
        if age > timedelta(days=days):
            return status
    return "TO_PLAN"


def customer_location(customer: Customer) -> dict[str, Any]:
    return {"name": customer.name, "address": customer.street, "postal_code": customer.postal_code,
            "city": customer.city, "country": customer.country, "state": customer.region}
