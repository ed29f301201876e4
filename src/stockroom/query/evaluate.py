"""The query language over items in memory: the reference the SQL compiler is tested against.

Nothing here touches a database. ``matches`` says whether an item passes a filter,
``sort_key`` orders items exactly as the compiled ``ORDER BY`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cmp_to_key
from typing import Any, Final

from stockroom.domain.item import InventoryItem

from .fields import Field, Kind
from .filter import All, AnyOf, Compare, Node, Not
from .sorting import Order

__all__ = ["matches", "sort_items", "value_of"]


def _product(attribute: str) -> Callable[[InventoryItem], Any]:
    def read(item: InventoryItem) -> Any:
        return None if item.product is None else getattr(item.product, attribute)

    return read


def _categories(item: InventoryItem) -> Any:
    if item.product is None:
        return None
    return item.product.direct_category_ids or None  # stored as NULL when empty


_READERS: Final[dict[str, Callable[[InventoryItem], Any]]] = {
    "id": lambda i: i.id,
    "variantId": lambda i: i.variant_id,
    "locationId": lambda i: i.location_id,
    "productId": lambda i: i.product_id,
    "createdDate": lambda i: i.created_ms,
    "updatedDate": lambda i: i.updated_ms,
    "quantity": lambda i: i.quantity,
    "inStock": lambda i: i.in_stock,
    "trackQuantity": lambda i: i.track_quantity,
    "availabilityStatus": lambda i: i.availability.value,
    "preorderInfo.enabled": lambda i: i.preorder.enabled,
    "product.name": _product("name"),
    "product.variantName": _product("variant_name"),
    "product.variantSku": _product("variant_sku"),
    "product.variantBarcode": _product("variant_barcode"),
    "product.brand.id": _product("brand_id"),
    "product.directCategoryIds": _categories,
}


def value_of(item: InventoryItem, field: Field) -> Any:
    """The item's value of a queryable field, ``None`` when it has none."""
    return _READERS[field.path](item)


def matches(item: InventoryItem, node: Node) -> bool:
    """Whether ``item`` passes the filter ``node``."""
    if isinstance(node, All):
        return all(matches(item, part) for part in node.parts)
    if isinstance(node, AnyOf):
        return any(matches(item, part) for part in node.parts)
    if isinstance(node, Not):
        return not matches(item, node.part)
    return _compare(value_of(item, node.field), node)


def _compare(x: Any, node: Compare) -> bool:
    op, value = node.op, node.value
    if op == "$exists":
        return bool((x is not None) == value)
    if op == "$isEmpty":
        return bool((x is None or len(x) == 0) == value)
    if op == "$eq":
        return x is None if value is None else bool(x is not None and x == value)
    if op == "$ne":
        return x is not None if value is None else bool(x is None or x != value)
    if op == "$nin":
        return x is None or x not in value
    if x is None:
        return False
    if op == "$in" or (op == "$hasSome" and node.field.kind is not Kind.ARRAY):
        return x in value
    if op == "$hasSome":
        return any(v in x for v in value)
    if op == "$hasAll":
        return bool(value) and all(v in x for v in value)
    if op == "$startsWith":
        return bool(x.lower().startswith(value.lower()))
    return bool(_RANGE[op](x, value))


_RANGE: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "$gt": lambda x, v: x > v,
    "$gte": lambda x, v: x >= v,
    "$lt": lambda x, v: x < v,
    "$lte": lambda x, v: x <= v,
}


def sort_items(items: list[InventoryItem], order: Order) -> list[InventoryItem]:
    """``items`` in ``order``: missing values first ascending, last descending, then by id."""
    keys = order.total

    def compare(a: InventoryItem, b: InventoryItem) -> int:
        for key in keys:
            x, y = value_of(a, key.field), value_of(b, key.field)
            if x == y:
                continue
            before = x is None if x is None or y is None else x < y  # missing values first
            result = -1 if before else 1
            return result if key.direction == "ASC" else -result
        return 0

    return sorted(items, key=cmp_to_key(compare))
