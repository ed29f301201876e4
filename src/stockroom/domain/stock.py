"""Increment and decrement rules (spec 3.11), as pure functions over one item.

Storage applies the same rules as single conditional SQL statements, so that concurrent
changes never read, compute and write back; these functions are the reference those
statements are tested against, and they explain a refusal once the statement reports one.
"""

from __future__ import annotations

from dataclasses import replace

from .errors import (
    InsufficientInventory,
    MaxQuantityLimitReached,
    MinQuantityLimitReached,
    QuantityNotTracked,
)
from .item import (
    PREORDER_COUNTER_MAX,
    QUANTITY_MAX,
    QUANTITY_MIN,
    InventoryItem,
    preorder_capacity,
)

__all__ = ["adjust", "decrement", "increment"]


def increment(item: InventoryItem, by: int, *, now_ms: int) -> InventoryItem:
    """Add ``by`` units.

    Raises ``QuantityNotTracked`` for an in-stock-flag item and ``MaxQuantityLimitReached``
    when the result would pass 99999.
    """
    if item.quantity is None:
        raise _not_tracked(item)
    new_quantity = item.quantity + by
    if new_quantity > QUANTITY_MAX:
        raise MaxQuantityLimitReached(
            f"incrementing by {by} would take the quantity above {QUANTITY_MAX}",
            inventoryItemId=item.id,
            quantity=item.quantity,
            incrementBy=by,
        )
    return item.with_stock(new_quantity, now_ms=now_ms)


def decrement(
    item: InventoryItem,
    by: int,
    *,
    preorder_request: bool,
    restrict: bool,
    now_ms: int,
) -> InventoryItem:
    """Take ``by`` units, as the normative algorithm of spec 3.11.4 says.

    A preorder request on a preorder-enabled item takes what stock there is and books the
    rest against the preorder capacity; otherwise the quantity drops, below zero only when
    ``restrict`` is false.

    Raises ``QuantityNotTracked``, ``InsufficientInventory`` or ``MinQuantityLimitReached``.
    """
    if item.quantity is None:
        raise _not_tracked(item)
    quantity = item.quantity
    if preorder_request and item.preorder.enabled and quantity < by:
        from_stock = max(quantity, 0)
        booked = by - from_stock
        counter = item.preorder.counter + booked
        if booked > preorder_capacity(item) or counter > PREORDER_COUNTER_MAX:
            raise InsufficientInventory(
                f"only {from_stock} in stock and {preorder_capacity(item)} left to preorder; "
                f"{by} requested",
                inventoryItemId=item.id,
                quantity=quantity,
                preorderQuantity=preorder_capacity(item),
                decrementBy=by,
            )
        return item.with_stock(
            quantity - from_stock, now_ms=now_ms, preorder=replace(item.preorder, counter=counter)
        )
    new_quantity = quantity - by
    if restrict and new_quantity < 0:
        raise InsufficientInventory(
            f"only {max(quantity, 0)} in stock; {by} requested",
            inventoryItemId=item.id,
            quantity=quantity,
            decrementBy=by,
        )
    if new_quantity < QUANTITY_MIN:
        raise MinQuantityLimitReached(
            f"decrementing by {by} would take the quantity below {QUANTITY_MIN}",
            inventoryItemId=item.id,
            quantity=quantity,
            decrementBy=by,
        )
    return item.with_stock(new_quantity, now_ms=now_ms)


def _not_tracked(item: InventoryItem) -> QuantityNotTracked:
    return QuantityNotTracked(
        "the item tracks stock with inStock, not a quantity", inventoryItemId=item.id
    )


def adjust(item: InventoryItem, by: int, *, track_untracked: bool, now_ms: int) -> InventoryItem:
    """A by-filter adjustment (spec Appendix A): ``by`` units up (positive) or down.

    Downward adjustments stop at zero, and an item already below zero cannot go lower. An
    item tracked by the in-stock flag fails with ``QuantityNotTracked`` unless
    ``track_untracked``, which switches it to quantity tracking with ``abs(by)`` units.

    Raises ``QuantityNotTracked``, ``InsufficientInventory`` and ``MaxQuantityLimitReached``.
    """
    if item.quantity is None:
        if not track_untracked:
            raise _not_tracked(item)
        return replace(
            item, quantity=abs(by), in_stock=None, revision=item.revision + 1, updated_ms=now_ms
        )
    if by > 0:
        return increment(item, by, now_ms=now_ms)
    if item.quantity < 0:
        raise InsufficientInventory(
            "the quantity is already below zero", inventoryItemId=item.id, quantity=item.quantity
        )
    new_quantity = max(item.quantity + by, 0)
    return item.with_stock(new_quantity, now_ms=now_ms)
