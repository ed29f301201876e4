"""The catalog around inventory: products, their variants, and stores' locations.

Only what the inventory rules need is modelled (spec 7.1, 7.2); a product's other fields
travel untouched in ``document``. The product's read-only inventory summary is derived
from the items at the store's default location (spec 1.8, 7.2, Q10), here and only here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .changes import ProductRules
from .item import Availability, InventoryItem, ProductSummary, preorder_capacity

__all__ = [
    "Location",
    "LocationType",
    "Product",
    "ProductType",
    "Variant",
    "inventory_summary",
    "item_summary",
    "preorder_rules",
]


class ProductType(StrEnum):
    PHYSICAL = "PHYSICAL"
    DIGITAL = "DIGITAL"


class LocationType(StrEnum):
    VIRTUAL = "VIRTUAL"
    PHYSICAL = "PHYSICAL"


@dataclass(frozen=True, slots=True)
class Variant:
    id: str
    name: str | None = None
    sku: str | None = None
    barcode: str | None = None
    visible: bool = True


@dataclass(frozen=True, slots=True)
class Product:
    """A product as inventory sees it; ``document`` keeps every field as the client sent it."""

    id: str
    name: str | None
    product_type: ProductType
    variants: tuple[Variant, ...]
    revision: int
    created_ms: int
    updated_ms: int
    brand_id: str | None = None
    brand_name: str | None = None
    category_ids: tuple[str, ...] = ()
    has_subscriptions: bool = False
    document: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def variant(self, variant_id: str) -> Variant | None:
        return next((v for v in self.variants if v.id == variant_id), None)


@dataclass(frozen=True, slots=True)
class Location:
    id: str
    name: str
    location_type: LocationType
    is_default: bool
    archived: bool
    revision: int
    created_ms: int
    updated_ms: int


def preorder_rules(product: Product | None) -> ProductRules:
    """Whether items of ``product`` may take preorders (spec 1.4)."""
    if product is None:
        return ProductRules()
    if product.product_type is ProductType.DIGITAL:
        return ProductRules(False, "preorder cannot be enabled for a digital product")
    if product.has_subscriptions:
        return ProductRules(False, "preorder cannot be enabled for a product with subscriptions")
    return ProductRules()


def item_summary(product: Product, variant: Variant) -> ProductSummary:
    """The read-only ``product`` field of an item of ``variant`` (spec 2.3)."""
    return ProductSummary(
        name=product.name,
        variant_name=variant.name,
        variant_sku=variant.sku,
        variant_visible=variant.visible,
        variant_barcode=variant.barcode,
        brand_id=product.brand_id,
        brand_name=product.brand_name,
        direct_category_ids=product.category_ids,
    )


@dataclass(frozen=True, slots=True)
class VariantStatus:
    in_stock: bool
    preorder_enabled: bool


def inventory_summary(
    product: Product, default_items: Mapping[str, InventoryItem]
) -> tuple[dict[str, str], dict[str, VariantStatus]]:
    """The product's ``inventory`` summary and each variant's ``inventoryStatus``, from the
    items at the default location keyed by variant id (a variant without one is out of
    stock and not on preorder)."""
    statuses: dict[str, VariantStatus] = {}
    available_for_preorder = []
    for variant in product.variants:
        item = default_items.get(variant.id)
        in_stock = item is not None and item.availability is Availability.IN_STOCK
        enabled = item is not None and item.preorder.enabled
        statuses[variant.id] = VariantStatus(in_stock, enabled)
        available_for_preorder.append(
            enabled
            and (item is not None and (not item.track_quantity or preorder_capacity(item) > 0))
        )
    flags = [s.in_stock for s in statuses.values()]
    enabled_flags = [s.preorder_enabled for s in statuses.values()]
    summary = {
        "availabilityStatus": _all_some_none(
            flags, "IN_STOCK", "PARTIALLY_OUT_OF_STOCK", "OUT_OF_STOCK"
        ),
        "preorderStatus": _all_some_none(enabled_flags, "ENABLED", "PARTIALLY_ENABLED", "DISABLED"),
        "preorderAvailability": _all_some_none(
            available_for_preorder, "ALL_VARIANTS", "SOME_VARIANTS", "NO_VARIANTS"
        ),
    }
    return summary, statuses


def _all_some_none(flags: list[bool], every: str, some: str, none: str) -> str:
    if flags and all(flags):
        return every
    return some if any(flags) else none
