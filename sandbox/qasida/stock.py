"""Warehouses, products and stock cards (one card per warehouse and product: 4x120 small, 50x10,000 large).

Stock card i (1-based) is warehouse (i-1)//P + 1 and product (i-1)%P + 1 for P products, so the cards of
one warehouse are a contiguous id range and `warehouseId` needs no scan.
"""

from __future__ import annotations

import random
from datetime import datetime
from functools import cached_property
from typing import Any

from sandbox.context import SandboxContext
from sandbox.qasida.table import Table, mix
from sandbox.qasida.wire import money, naive, quantity_text, yes_no
from sandbox.world import Product, Warehouse

_DAY = 86_400
_UNIT_NAMES = {"pcs": "Pieces", "kg": "Kilogram", "box": "Box"}
_STOCK, _PRODUCT, _WAREHOUSE, _VALIDITY = 11, 21, 41, 22  # hash salts, one per record family


class Stock:
    def __init__(self, ctx: SandboxContext) -> None:
        self.world, self.clock = ctx.world, ctx.clock
        self.seed = ctx.world.seed
        self.mandant = int(ctx.config.credentials.qasida_mandant_id)
        self.n_products = ctx.world.sizes["products"]
        self.n_warehouses = ctx.world.sizes["warehouses"]
        anchor = ctx.world.anchor
        self.cards = Table(self.n_warehouses * self.n_products, anchor, self._card_age)
        self.products = Table(self.n_products, anchor, lambda p: _DAY + mix(self.seed, _PRODUCT, p) % (300 * _DAY))
        self.warehouses = Table(self.n_warehouses, anchor, lambda w: 400 * _DAY + w * 3600)

    # -- stock cards -----------------------------------------------------------------------------
    def _card_age(self, i: int) -> int:
        return 3600 + mix(self.seed, _STOCK, i, 1) % (90 * _DAY)

    def levels(self, i: int) -> tuple[int, int]:
        """(quantity, reserved) of card i: the overlay if a tick moved it, else the seeded level."""
        over = self.cards.overlay.get(i)
        if over:
            return over["quantity"], over["reserve"]
        h = mix(self.seed, _STOCK, i)
        quantity = 0 if h % 13 == 0 else (h >> 8) % 400
        reserve = 0 if (h >> 20) % 3 else min(quantity, (h >> 24) % 40)
        return quantity, reserve

    def warehouse_range(self, warehouse_id: int) -> range:
        if not 1 <= warehouse_id <= self.n_warehouses:
            return range(0)
        start = (warehouse_id - 1) * self.n_products + 1
        return range(start, start + self.n_products)

    def card(self, i: int) -> dict[str, Any]:
        w, p = divmod(i - 1, self.n_products)
        quantity, reserve = self.levels(i)
        product = self.world.products[p]
        return {
            "id": i, "totalValue": money(quantity * product.price_cents),
            "quantity": quantity_text(quantity), "quantity2": quantity, "reserveQuantity": reserve,
            "key": f"{self.world.warehouses[w].code}/{product.sku}", "unitPrice": money(product.price_cents),
            **self._warehouse_part[w], **self._product_part[p],
            "priceInCurrency": money(product.price_cents), "availableQuantity": quantity - reserve,
            # Not in the doc (sandbox extension): the change stamp `since` uses. No reorder level: the ERP
            # has none (issue 9 point 4); opsdash keeps its own.
            "lastChange": naive(self.cards.changed(i), micro=True),
        }

    @cached_property
    def _warehouse_part(self) -> list[dict[str, Any]]:
        return [{"warehouseId": w.id, "warehouseNumber": w.code, "warehouseName": w.name, "warehouseType": "S",
                 "mandantId": self.mandant, "isPaletteWarehouse": False} for w in self.world.warehouses]

    @cached_property
    def _product_part(self) -> list[dict[str, Any]]:
        return [self._product_fields(p) for p in self.world.products]

    def _product_fields(self, p: Product) -> dict[str, Any]:
        return {
            "productId": p.id, "productCode": p.sku, "productName": p.name, "productType": "GOODS",
            "coefUnit2": 1, "productValidity": self.valid(p.id),  # a boolean here, "Y"/"N" on Product
            "unit1Code": p.unit, "unit1Shortcut": p.unit, "unit1Name": _UNIT_NAMES[p.unit],
            "unit2Code": None, "unit2Shortcut": None, "unit2Name": None,
            "accountingGroupCode": "132", "accountingGroupName": "Goods in stock", "accountingGroupShortcut": "GDS",
        }

    def valid(self, product_id: int) -> bool:
        return mix(self.seed, _VALIDITY, product_id) % 33 != 0

    # -- products and warehouses -----------------------------------------------------------------
    def product(self, p: int) -> dict[str, Any]:
        item = self.world.products[p - 1]
        return {
            "productId": item.id, "mandantId": self.mandant, "productName": item.name, "productCode": item.sku,
            "productType": "GOODS", "vat": 21, "vatId": 1, "vatName": "Standard rate",
            "accountingGroup": "132", "unit1Code": item.unit, "unit1Shortcut": item.unit,
            "unit2Code": None, "unit2Shortcut": None, "coefUnit2": 1, "weight": item.weight_kg,
            "categoryId": 1 + item.id % 10, "categoryCode": f"CAT{1 + item.id % 10:02d}",
            "productValidity": yes_no(self.valid(item.id)), "stockItem": "Y", "negativeQuantityAllowed": "N",
            "description": None, "edited": naive(self.products.changed(p)),
            "alternativeProductCodes": [], "optionalData": [],
        }

    def warehouse(self, w: int) -> dict[str, Any]:
        item: Warehouse = self.world.warehouses[w - 1]
        return {
            "id": item.id, "number": item.code, "name": item.name, "type": "S", "mandantId": self.mandant,
            "organizationStructureId": 1, "organizationStructureName": f"{item.city} ({item.country})",
            "isLocked": False, "isPaletteWarehouse": False, "isManufacturingWarehouse": False,
            "identification": f"{item.country}-{item.city}", "isAccountingWarehouse": True,
            "isBranchWarehouse": item.id > 1, "isValid": True, "isExternal": False,
        }

    # -- tick ------------------------------------------------------------------------------------
    def tick(self, rng: random.Random, now: datetime, moves: int = 5, living: bool = False) -> list[int]:
        """Move a few stock levels (goods in, picks, reservations); returns the changed card ids.
        Living (sandbox/living.py): picks twice as often as goods in, and a card below its product's reorder
        threshold (the world's buyer's rule; the ERP has no level) is replenished one time in four."""
        changed = []
        for _ in range(moves):
            i = rng.randint(1, self.cards.n)
            quantity, reserve = self.levels(i)
            step = rng.choice((-1, -1, 1) if living else (-1, 1)) * rng.randint(1, 30)
            threshold = self.world.products[(i - 1) % self.n_products].reorder_threshold
            if living and quantity < threshold and rng.random() < 0.25:
                step = 2 * threshold  # goods in: a replenishment order arrived
            quantity = max(0, quantity + step)
            reserve = min(quantity, max(0, reserve + rng.randint(-5, 5)))
            self.cards.touch(i, now, quantity=quantity, reserve=reserve)
            changed.append(i)
        return changed
