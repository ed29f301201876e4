"""Creating and updating items: the rules of spec 1.2, 1.4, 1.6, 1.7 and 3.1-3.5.

Field paths in the errors raised here are relative to the item ("quantity",
"preorderInfo.limit"); the caller prefixes them with where the item sat in its request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .errors import (
    PreorderValidation,
    QuantityDecreasedBelowZero,
    RevisionMismatch,
    ValidationFailed,
)
from .item import UNSET, InventoryItem, Preorder, Unset

__all__ = [
    "ItemDraft",
    "ItemPatch",
    "PreorderPatch",
    "ProductRules",
    "apply_patch",
    "new_item",
]


@dataclass(frozen=True, slots=True)
class PreorderPatch:
    """Preorder fields as a request gave them: ``UNSET`` keeps, ``None`` clears."""

    enabled: bool | Unset | None = UNSET
    message: str | Unset | None = UNSET
    limit: int | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class ItemDraft:
    """The writable fields of an item to be created."""

    product_id: str
    variant_id: str
    location_id: str | None = None
    quantity: int | None = None
    in_stock: bool | None = None
    preorder: PreorderPatch | None = None
    extended_fields: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ItemPatch:
    """A partial update; every field left ``UNSET`` keeps its stored value."""

    quantity: int | Unset = UNSET
    in_stock: bool | Unset = UNSET
    preorder: PreorderPatch | Unset = UNSET
    extended_fields: Mapping[str, Any] | Unset = UNSET
    product_id: str | Unset = UNSET
    variant_id: str | Unset = UNSET
    location_id: str | Unset = UNSET


@dataclass(frozen=True, slots=True)
class ProductRules:
    """What the catalog says about an item's product that the inventory rules need."""

    preorder_allowed: bool = True
    why_not: str = ""


_ANY_PRODUCT = ProductRules()


def new_item(
    draft: ItemDraft,
    *,
    item_id: str,
    location_id: str,
    now_ms: int,
    product: ProductRules = _ANY_PRODUCT,
) -> InventoryItem:
    """Build a new item at revision 1 from a validated draft.

    Raises ``ValidationFailed`` (one-of tracking, a negative quantity, a preorder limit on
    an untracked item) and ``PreorderValidation``.
    """
    if draft.quantity is not None and draft.in_stock is not None:
        raise _both_tracking_methods()
    if draft.quantity is None and draft.in_stock is None:
        raise ValidationFailed.of(
            "trackingMethod",
            "one of inStock or quantity is required",
            "REQUIRED_FIELD",
        )
    if draft.quantity is not None and draft.quantity < 0:
        raise ValidationFailed.of(
            "quantity",
            "quantity must not be negative when an item is created",
            "MIN",
            "REQUESTED_QUANTITY_MUST_BE_NON_NEGATIVE",
            threshold=0,
        )
    patch = draft.preorder or PreorderPatch()
    if draft.in_stock is not None and isinstance(patch.limit, int):
        raise ValidationFailed.of(
            "preorderInfo.limit",
            "a preorder limit needs quantity tracking",
            "OTHER",
            "PREORDER_LIMIT_NOT_SUPPORTED_FOR_UNTRACKED_INVENTORY",
        )
    preorder = _merge_preorder(Preorder(), patch)
    _check_preorder_allowed(preorder, product)
    return InventoryItem(
        id=item_id,
        variant_id=draft.variant_id,
        location_id=location_id,
        product_id=draft.product_id,
        quantity=draft.quantity,
        in_stock=draft.in_stock,
        preorder=preorder,
        revision=1,
        created_ms=now_ms,
        updated_ms=now_ms,
        extended_fields=draft.extended_fields,
    )


def apply_patch(
    item: InventoryItem,
    patch: ItemPatch,
    *,
    expected_revision: int | None,
    now_ms: int,
    product: ProductRules = _ANY_PRODUCT,
) -> InventoryItem:
    """Apply a partial update and advance the revision by one.

    ``expected_revision`` ``None`` skips the optimistic check (by-filter updates and upserts).

    Raises ``RevisionMismatch``, ``ValidationFailed`` (a changed immutable field, both
    tracking methods), ``QuantityDecreasedBelowZero`` and ``PreorderValidation``.
    """
    if expected_revision is not None and expected_revision != item.revision:
        raise RevisionMismatch(
            f"revision {expected_revision} is stale; the item is at revision {item.revision}",
            inventoryItemId=item.id,
            revision=str(item.revision),
        )
    _check_immutable(item, patch)
    if patch.quantity is not UNSET and patch.in_stock is not UNSET:
        raise _both_tracking_methods()

    quantity, in_stock = item.quantity, item.in_stock
    if patch.quantity is not UNSET:
        if patch.quantity < 0 and (quantity is None or patch.quantity < quantity):
            raise QuantityDecreasedBelowZero(
                "an update may not lower the quantity below zero",
                inventoryItemId=item.id,
                quantity=quantity,
                requestedQuantity=patch.quantity,
            )
        quantity, in_stock = patch.quantity, None
    elif patch.in_stock is not UNSET:
        quantity, in_stock = None, patch.in_stock

    preorder_patch = patch.preorder if patch.preorder is not UNSET else PreorderPatch()
    preorder = _merge_preorder(item.preorder, preorder_patch)
    if quantity is None:
        if isinstance(preorder_patch.limit, int):
            raise PreorderValidation(
                "a preorder limit needs quantity tracking", inventoryItemId=item.id
            )
        # Limits and counters mean nothing without a quantity; switching drops them.
        preorder = replace(preorder, limit=None, counter=0)
    if preorder.enabled and not item.preorder.enabled:
        _check_preorder_allowed(preorder, product, item_id=item.id)

    extended = item.extended_fields
    if patch.extended_fields is not UNSET:
        extended = {**(extended or {}), **patch.extended_fields}

    return replace(
        item,
        quantity=quantity,
        in_stock=in_stock,
        preorder=preorder,
        extended_fields=extended,
        revision=item.revision + 1,
        updated_ms=now_ms,
    )


def _merge_preorder(current: Preorder, patch: PreorderPatch) -> Preorder:
    """Merge per sub-field; the counter restarts when preorder is switched on or re-limited."""
    enabled = current.enabled if patch.enabled is UNSET else bool(patch.enabled)
    message = current.message if patch.message is UNSET else patch.message
    limit = current.limit if patch.limit is UNSET else patch.limit
    counter = current.counter
    if (enabled and not current.enabled) or isinstance(patch.limit, int):
        counter = 0
    return Preorder(enabled=enabled, message=message, limit=limit, counter=counter)


def _check_preorder_allowed(
    preorder: Preorder, product: ProductRules, *, item_id: str | None = None
) -> None:
    if preorder.enabled and not product.preorder_allowed:
        data = {"inventoryItemId": item_id} if item_id else {}
        raise PreorderValidation(product.why_not or "preorder is not allowed here", **data)


def _check_immutable(item: InventoryItem, patch: ItemPatch) -> None:
    for name, sent, stored in (
        ("productId", patch.product_id, item.product_id),
        ("variantId", patch.variant_id, item.variant_id),
        ("locationId", patch.location_id, item.location_id),
    ):
        if sent is not UNSET and sent != stored:
            raise ValidationFailed.of(
                name, f"{name} cannot change after the item is created", "IMMUTABLE"
            )


def _both_tracking_methods() -> ValidationFailed:
    return ValidationFailed.of(
        "trackingMethod", "set either inStock or quantity, not both", "ONE_OF"
    )
