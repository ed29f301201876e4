"""Small factories for test data with unique ids."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from stockroom.domain.item import InventoryItem, Preorder


def guid() -> str:
    return str(uuid.uuid4())


def an_item(**changes: Any) -> InventoryItem:
    """A quantity-tracked item with 10 units; keyword arguments override any field."""
    item = InventoryItem(
        id=guid(),
        variant_id=guid(),
        location_id=guid(),
        product_id=guid(),
        quantity=10,
        in_stock=None,
        preorder=Preorder(),
        revision=1,
        created_ms=1_700_000_000_000,
        updated_ms=1_700_000_000_000,
    )
    return replace(item, **changes)


def a_flag_item(in_stock: bool = True, **changes: Any) -> InventoryItem:
    """An item tracked by the in-stock flag."""
    return an_item(quantity=None, in_stock=in_stock, **changes)
