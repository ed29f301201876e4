"""Products on the wire (Products V3): reading the fields inventory depends on, keeping the
rest exactly as sent, and writing the read-only inventory summary back in.

A product body is taken as plain JSON so that fields Stockroom does not model (price, media,
options, ...) round-trip untouched; the modelled ones are validated here, each error naming
its field.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any, Final

from stockroom.domain.catalog import Product, ProductType, Variant
from stockroom.domain.changes import ItemDraft, ItemPatch, PreorderPatch
from stockroom.domain.errors import ValidationFailed
from stockroom.domain.item import QUANTITY_MAX, QUANTITY_MIN, UNSET
from stockroom.service.catalog import ProductView, VariantInventory

from .convert import check_depth, iso_ms
from .wire import GUID_PATTERN

__all__ = ["parse_product", "product_to_wire"]

MAX_VARIANTS: Final = 1000
_GUID = re.compile(GUID_PATTERN)
_READ_ONLY: Final = ("id", "revision", "createdDate", "updatedDate", "inventory")


def _invalid(field: str, description: str, rule: str = "OTHER", **data: Any) -> ValidationFailed:
    return ValidationFailed.of(field, description, rule, **data)


def _string(raw: dict[str, Any], key: str, at: str, *, low: int = 0, high: int) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(f"{at}.{key}", f"{key} must be a string")
    if not low <= len(value) <= high:
        rule = "MAX_LENGTH" if len(value) > high else "MIN_LENGTH"
        raise _invalid(f"{at}.{key}", f"{key} is {low} to {high} characters long", rule)
    return value


def _object(raw: Any, at: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _invalid(at, "must be an object")
    return raw


def parse_product(
    raw: Any, *, at: str = "product", creating: bool, product_id: str | None = None
) -> tuple[Product, list[VariantInventory]]:
    """The product a body describes, and any per-variant inventory it carries.

    Variant ids are generated where missing (a product without variants gets one default
    variant). Raises ``ValidationFailed``.
    """
    check_depth(raw, field=at)
    body = copy.deepcopy(_object(raw, at))
    given_id = _string(body, "id", at, low=1, high=36)
    if product_id is not None and given_id not in (None, product_id):
        raise _invalid(f"{at}.id", "the id in the body differs from the id in the path")
    name = _string(body, "name", at, low=1, high=80)
    if creating and name is None:
        raise _invalid(f"{at}.name", "name is required", "REQUIRED_FIELD")
    kind = body.get("productType", "PHYSICAL")
    if kind not in ("PHYSICAL", "DIGITAL"):
        raise _invalid(f"{at}.productType", "productType is PHYSICAL or DIGITAL")
    brand = _object(body.get("brand"), f"{at}.brand")
    categories = _object(body.get("directCategoriesInfo"), f"{at}.directCategoriesInfo")
    listed = categories.get("categories") or []
    if not isinstance(listed, list) or len(listed) > 2000:
        raise _invalid(f"{at}.directCategoriesInfo.categories", "at most 2000 categories")
    category_ids = []
    for index, category in enumerate(listed):
        category_id = _string(
            _object(category, f"{at}.directCategoriesInfo.categories[{index}]"),
            "id",
            f"{at}.directCategoriesInfo.categories[{index}]",
            low=1,
            high=36,
        )
        if category_id:
            category_ids.append(category_id)
    subscriptions = _object(body.get("subscriptionDetails"), f"{at}.subscriptionDetails").get(
        "subscriptions"
    )
    if subscriptions is not None and (
        not isinstance(subscriptions, list) or len(subscriptions) > 6
    ):
        raise _invalid(f"{at}.subscriptionDetails.subscriptions", "at most 6 subscriptions")
    variants, inventory = _variants(body, at)
    for key in _READ_ONLY:
        body.pop(key, None)
    product = Product(
        id=product_id or given_id or str(uuid.uuid4()),
        name=name,
        product_type=ProductType(kind),
        variants=tuple(variants),
        revision=0,
        created_ms=0,
        updated_ms=0,
        brand_id=_string(brand, "id", f"{at}.brand", low=1, high=36),
        brand_name=_string(brand, "name", f"{at}.brand", high=50),
        category_ids=tuple(category_ids),
        has_subscriptions=bool(subscriptions),
        document=body,
    )
    return product, [_with_product(entry, product.id) for entry in inventory]


def _with_product(entry: VariantInventory, product_id: str) -> VariantInventory:
    if entry.draft is None:
        return entry
    draft = entry.draft
    return VariantInventory(
        entry.variant_id,
        ItemDraft(
            product_id=product_id,
            variant_id=draft.variant_id,
            quantity=draft.quantity,
            in_stock=draft.in_stock,
            preorder=draft.preorder,
        ),
    )


def _variants(body: dict[str, Any], at: str) -> tuple[list[Variant], list[VariantInventory]]:
    info = _object(body.get("variantsInfo"), f"{at}.variantsInfo")
    listed = info.get("variants")
    if listed is None:
        listed = [{}]  # a product without options still has its one default variant
    if not isinstance(listed, list) or not 1 <= len(listed) <= MAX_VARIANTS:
        raise _invalid(
            f"{at}.variantsInfo.variants", f"a product has 1 to {MAX_VARIANTS} variants", "MAX_SIZE"
        )
    variants, inventory, seen = [], [], set()
    for index, raw in enumerate(listed):
        here = f"{at}.variantsInfo.variants[{index}]"
        variant = _object(raw, here)
        variant_id = _string(variant, "id", here, low=1, high=36) or str(uuid.uuid4())
        if not _GUID.match(variant_id):
            raise _invalid(f"{here}.id", "a variant id is a GUID", "FORMAT")
        if variant_id in seen:
            raise _invalid(f"{here}.id", "variant ids repeat within the product")
        seen.add(variant_id)
        visible = variant.get("visible", True)
        if not isinstance(visible, bool):
            raise _invalid(f"{here}.visible", "visible is true or false")
        variants.append(
            Variant(
                id=variant_id,
                name=_variant_name(variant.get("choices"), here),
                sku=_string(variant, "sku", here, low=1, high=40),
                barcode=_string(variant, "barcode", here, low=1, high=40),
                visible=visible,
            )
        )
        if "inventoryItem" in variant and variant["inventoryItem"] is not None:
            inventory.append(_variant_inventory(variant["inventoryItem"], variant_id, here))
        variant.pop("inventoryItem", None)
        variant.pop("inventoryStatus", None)
        variant["id"] = variant_id
        listed[index] = variant
    if "variantsInfo" in body or listed:
        body["variantsInfo"] = {**info, "variants": listed}
    return variants, inventory


def _variant_name(choices: Any, at: str) -> str | None:
    if choices is None:
        return None
    if not isinstance(choices, list):
        raise _invalid(f"{at}.choices", "choices is an array")
    names = []
    for choice in choices:
        named = _object(choice, f"{at}.choices").get("optionChoiceNames")
        if isinstance(named, dict) and isinstance(named.get("choiceName"), str):
            names.append(named["choiceName"])
    return " / ".join(names)[:250] or None


def _variant_inventory(raw: Any, variant_id: str, at: str) -> VariantInventory:
    here = f"{at}.inventoryItem"
    item = _object(raw, here)
    quantity, in_stock = item.get("quantity"), item.get("inStock")
    if quantity is not None and (
        isinstance(quantity, bool)
        or not isinstance(quantity, int)
        or not QUANTITY_MIN <= quantity <= QUANTITY_MAX
    ):
        raise _invalid(
            f"{here}.quantity", f"quantity is a whole number from {QUANTITY_MIN} to {QUANTITY_MAX}"
        )
    if in_stock is not None and not isinstance(in_stock, bool):
        raise _invalid(f"{here}.inStock", "inStock is true or false")
    preorder = _object(item.get("preorderInfo"), f"{here}.preorderInfo")
    patch = (
        PreorderPatch(
            enabled=preorder.get("enabled", UNSET),
            message=preorder.get("message", UNSET),
            limit=preorder.get("limit", UNSET),
        )
        if preorder
        else None
    )
    item_id = item.get("id")
    if item_id is not None:
        if not isinstance(item_id, str) or not _GUID.match(item_id):
            raise _invalid(f"{here}.id", "an item id is a GUID", "FORMAT")
        return VariantInventory(
            variant_id,
            item_id=item_id,
            patch=ItemPatch(
                quantity=UNSET if quantity is None else quantity,
                in_stock=UNSET if in_stock is None else in_stock,
                preorder=patch or UNSET,
            ),
        )
    draft = ItemDraft(
        product_id="", variant_id=variant_id, quantity=quantity, in_stock=in_stock, preorder=patch
    )
    return VariantInventory(variant_id, draft=draft)


def product_to_wire(view: ProductView) -> dict[str, Any]:
    """The product as sent, with its ids, revision, dates and inventory summary filled in."""
    product = view.product
    body = copy.deepcopy(dict(product.document))
    variants = body.get("variantsInfo", {}).get("variants", [])
    for variant in variants:
        status = view.variant_statuses.get(variant.get("id", ""))
        if status is not None:
            variant["inventoryStatus"] = {
                "inStock": status.in_stock,
                "preorderEnabled": status.preorder_enabled,
            }
    return {
        **body,
        "id": product.id,
        "revision": str(product.revision),
        "createdDate": iso_ms(product.created_ms),
        "updatedDate": iso_ms(product.updated_ms),
        "productType": product.product_type.value,
        "inventory": view.inventory,
    }
