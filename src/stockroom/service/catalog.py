"""Use cases of the catalog: products (with their inventory) and locations.

A product's changes reach its items in the same transaction: their read-only ``product``
summary is rewritten, items of variants the product no longer has are deleted, and
deleting the product deletes all its items. The product's own inventory summary is derived
from the default location's items whenever a product is read, so it is never out of step.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from stockroom.domain.catalog import (
    Location,
    LocationType,
    Product,
    VariantStatus,
    inventory_summary,
)
from stockroom.domain.changes import ItemDraft, ItemPatch
from stockroom.domain.errors import (
    Conflict,
    FailedPrecondition,
    NotFound,
    RevisionMismatch,
    StockroomError,
)
from stockroom.domain.item import InventoryItem
from stockroom.storage.base import Transaction
from stockroom.storage.schema import inventory_items

from .context import Inventory, ItemResult
from .items import ItemUpdate, create_within, update_within

__all__ = [
    "LocationHoldsStock",
    "ProductView",
    "VariantInventory",
    "archive_location",
    "create_location",
    "create_product",
    "delete_product",
    "get_location",
    "get_product",
    "rename_location",
    "update_product",
]


class LocationHoldsStock(FailedPrecondition):
    code = "LOCATION_HOLDS_STOCK"


class DefaultLocationRequired(FailedPrecondition):
    code = "DEFAULT_LOCATION_CANNOT_BE_ARCHIVED"


class VariantTaken(Conflict):
    code = "VARIANT_ALREADY_EXISTS"


@dataclass(frozen=True, slots=True)
class ProductView:
    """A product with its derived inventory summary (default location only)."""

    product: Product
    inventory: dict[str, str]
    variant_statuses: dict[str, VariantStatus]


@dataclass(frozen=True, slots=True)
class VariantInventory:
    """Inventory to create (no ``item_id``) or update for one variant, with the product."""

    variant_id: str
    draft: ItemDraft | None = None
    item_id: str | None = None
    patch: ItemPatch | None = None


# ---- products ----------------------------------------------------------------------------


def create_product(
    inventory: Inventory,
    *,
    store_id: str,
    product: Product,
    with_inventory: Sequence[VariantInventory] = (),
) -> tuple[ProductView, list[ItemResult]]:
    """Create a product and, in the same transaction, items at the default location.

    Raises ``Conflict`` when the product id or a variant id is taken; item failures are
    reported per variant.
    """
    now = inventory.clock()
    product = replace(product, revision=1, created_ms=now, updated_ms=now)
    with inventory.storage.writing(store_id) as tx:
        if tx.catalog.get_product(product.id) is not None:
            raise Conflict(f"product {product.id} already exists", productId=product.id)
        _refuse_taken_variants(tx, product)
        tx.catalog.insert_product(product)
        results = _apply_inventory(inventory, tx, with_inventory)
        return _view(tx, product), results


def get_product(inventory: Inventory, *, store_id: str, product_id: str) -> ProductView:
    with inventory.storage.reading(store_id) as tx:
        product = tx.catalog.get_product(product_id)
        if product is None:
            raise _product_not_found(product_id)
        return _view(tx, product)


def update_product(
    inventory: Inventory,
    *,
    store_id: str,
    product: Product,
    expected_revision: int,
    with_inventory: Sequence[VariantInventory] = (),
) -> tuple[ProductView, list[ItemResult]]:
    """Replace a product's fields and variants, guarded by its revision.

    Items of removed variants are deleted; the others' summaries follow the new details.
    """
    with inventory.storage.writing(store_id) as tx:
        current = tx.catalog.get_product(product.id, lock=True)
        if current is None:
            raise _product_not_found(product.id)
        if current.revision != expected_revision:
            raise RevisionMismatch(
                f"revision {expected_revision} is stale; the product is at {current.revision}",
                productId=product.id,
                revision=str(current.revision),
            )
        product = replace(
            product,
            revision=current.revision + 1,
            created_ms=current.created_ms,
            updated_ms=inventory.clock(),
        )
        _refuse_taken_variants(tx, product)
        tx.catalog.save_product(product)
        for item_id in tx.catalog.orphaned_item_ids(product):
            tx.delete_item(item_id)
        tx.catalog.refresh_item_summaries(product)
        results = _apply_inventory(inventory, tx, with_inventory)
        return _view(tx, product), results


def delete_product(inventory: Inventory, *, store_id: str, product_id: str) -> None:
    """Delete a product, its variants and every inventory item of it."""
    with inventory.storage.writing(store_id) as tx:
        if tx.catalog.get_product(product_id, lock=True) is None:
            raise _product_not_found(product_id)
        for item_id in tx.catalog.item_ids_of(product_id):
            tx.delete_item(item_id)
        tx.catalog.delete_product(product_id)


def views_of(tx: Transaction, found: Sequence[Product]) -> list[ProductView]:
    return [_view(tx, product) for product in found]


def _refuse_taken_variants(tx: Transaction, product: Product) -> None:
    owners = tx.catalog.variant_owners(v.id for v in product.variants)
    for variant_id, owner in owners.items():
        if owner != product.id:
            raise VariantTaken(
                f"variant {variant_id} belongs to product {owner}",
                variantId=variant_id,
                productId=owner,
            )


def _apply_inventory(
    inventory: Inventory, tx: Transaction, wanted: Sequence[VariantInventory]
) -> list[ItemResult]:
    results: list[ItemResult] = []
    for entry in wanted:
        try:
            if entry.item_id is not None:
                current = tx.get_item(entry.item_id, lock=True)
                if current is None or current.variant_id != entry.variant_id:
                    raise NotFound(
                        f"inventory item {entry.item_id} of variant {entry.variant_id} "
                        "does not exist",
                        inventoryItemId=entry.item_id,
                    )
                item = update_within(
                    inventory,
                    tx,
                    ItemUpdate(current.id, entry.patch or ItemPatch(), current.revision),
                )
            else:
                assert entry.draft is not None
                item = create_within(inventory, tx, entry.draft)
        except StockroomError as error:
            results.append(ItemResult(entry.item_id, error=error))
        else:
            results.append(ItemResult(item.id, item))
    return results


def _view(tx: Transaction, product: Product) -> ProductView:
    default_location = tx.default_location_id()
    items = tx.select_page(
        (inventory_items.c.product_id == product.id)
        & (inventory_items.c.location_id == default_location),
        None,
        [inventory_items.c.id],
        len(product.variants) + 1,
    )
    at_default: Mapping[str, InventoryItem] = {item.variant_id: item for item in items}
    summary, statuses = inventory_summary(product, at_default)
    return ProductView(product, summary, statuses)


def _product_not_found(product_id: str) -> NotFound:
    return NotFound(f"product {product_id} does not exist", productId=product_id)


# ---- locations ---------------------------------------------------------------------------


def get_location(inventory: Inventory, *, store_id: str, location_id: str | None) -> Location:
    """One location; ``None`` asks for the store's default location. Raises ``NotFound``."""
    with inventory.storage.reading(store_id) as tx:
        found = tx.catalog.get_location(location_id or tx.default_location_id())
    if found is None:
        raise NotFound(f"location {location_id} does not exist", locationId=location_id)
    return found


def create_location(
    inventory: Inventory, *, store_id: str, name: str, location_type: LocationType
) -> Location:
    now = inventory.clock()
    location = Location(
        id=str(uuid.uuid4()),
        name=name,
        location_type=location_type,
        is_default=False,
        archived=False,
        revision=1,
        created_ms=now,
        updated_ms=now,
    )
    with inventory.storage.writing(store_id) as tx:
        tx.catalog.insert_location(location)
    return location


def rename_location(
    inventory: Inventory,
    *,
    store_id: str,
    location_id: str,
    name: str,
    expected_revision: int | None = None,
) -> Location:
    """Rename a location. Raises ``NotFound`` and ``RevisionMismatch``."""
    return _change_location(
        inventory, store_id, location_id, expected_revision, lambda loc: replace(loc, name=name)
    )


def archive_location(inventory: Inventory, *, store_id: str, location_id: str) -> Location:
    """Archive a location that holds no stock; no new items can be created there.

    Raises ``NotFound``, ``DefaultLocationRequired`` and ``LocationHoldsStock``.
    """

    def archived(location: Location) -> Location:
        if location.is_default:
            raise DefaultLocationRequired(
                "the default location cannot be archived", locationId=location_id
            )
        return replace(location, archived=True)

    return _change_location(inventory, store_id, location_id, None, archived, check_stock=True)


def _change_location(
    inventory: Inventory,
    store_id: str,
    location_id: str,
    expected_revision: int | None,
    change: Callable[[Location], Location],
    *,
    check_stock: bool = False,
) -> Location:
    with inventory.storage.writing(store_id) as tx:
        current = tx.catalog.get_location(location_id)
        if current is None:
            raise NotFound(f"location {location_id} does not exist", locationId=location_id)
        if expected_revision is not None and expected_revision != current.revision:
            raise RevisionMismatch(
                f"revision {expected_revision} is stale; the location is at {current.revision}",
                locationId=location_id,
                revision=str(current.revision),
            )
        changed: Location = change(current)
        if check_stock and tx.catalog.location_holds_stock(location_id):
            raise LocationHoldsStock(
                "the location still holds stock; move or zero it first", locationId=location_id
            )
        changed = replace(changed, revision=current.revision + 1, updated_ms=inventory.clock())
        tx.catalog.save_location(changed, expected_revision=current.revision)
    return changed
