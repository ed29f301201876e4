"""An inventory item as the contract's REST JSON (spec 2.1, 2.5): the one mapping.

HTTP responses and event bodies (spec 5) both carry this shape, so it lives here, where
both can reach it: ``api.convert`` turns it into the response struct, and ``domain.events``
embeds it in events. Fields without a value are omitted, Wix style (spec 2.1 notes).
"""

from __future__ import annotations

import functools
import time
from typing import Any

from .item import PREORDER_LIMIT_DEFAULT, InventoryItem, ProductSummary, preorder_capacity

__all__ = ["iso_ms", "item_json"]


def iso_ms(ms: int) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2024-06-27T09:33:47.432Z``."""
    seconds, millis = divmod(ms, 1000)
    return f"{_iso_second(seconds)}.{millis:03d}Z"


@functools.lru_cache(maxsize=1024)
def _iso_second(seconds: int) -> str:
    # Every item answered or evented in one second shares its timestamps' formatting.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def item_json(item: InventoryItem) -> dict[str, Any]:
    """The REST ``InventoryItem`` of spec 2.1, as JSON-ready builtins."""
    preorder = item.preorder
    preorder_json: dict[str, Any] = {"enabled": preorder.enabled}
    if preorder.message is not None:
        preorder_json["message"] = preorder.message
    if item.quantity is not None:
        preorder_json["limit"] = (
            PREORDER_LIMIT_DEFAULT if preorder.limit is None else preorder.limit
        )
        preorder_json["counter"] = preorder.counter
        preorder_json["quantity"] = preorder_capacity(item)
    body: dict[str, Any] = {
        "id": item.id,
        "revision": str(item.revision),
        "createdDate": iso_ms(item.created_ms),
        "updatedDate": iso_ms(item.updated_ms),
        "variantId": item.variant_id,
        "locationId": item.location_id,
        "productId": item.product_id,
        "trackQuantity": item.track_quantity,
        "availabilityStatus": item.availability.value,
        "preorderInfo": preorder_json,
    }
    if item.quantity is not None:
        body["quantity"] = item.quantity
    if item.in_stock is not None:
        body["inStock"] = item.in_stock
    if item.product is not None:
        body["product"] = _product_json(item.product)
    if item.extended_fields is not None:
        body["extendedFields"] = {"namespaces": dict(item.extended_fields)}
    return body


def _product_json(product: ProductSummary) -> dict[str, Any]:
    details = (
        ("name", product.name),
        ("variantName", product.variant_name),
        ("variantSku", product.variant_sku),
        ("variantVisible", product.variant_visible),
        ("variantBarcode", product.variant_barcode),
    )
    body: dict[str, Any] = {
        "directCategoryIds": list(product.direct_category_ids),
        **{name: value for name, value in details if value is not None},
    }
    if product.brand_id or product.brand_name:
        brand = {"id": product.brand_id, "name": product.brand_name}
        body["brand"] = {key: value for key, value in brand.items() if value is not None}
    return body
