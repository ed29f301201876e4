"""Translation between wire structs and domain values, in both directions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from msgspec import UNSET as WIRE_UNSET

from stockroom.domain import item as domain
from stockroom.domain.changes import ItemDraft, ItemPatch, PreorderPatch
from stockroom.domain.errors import StockroomError, ValidationFailed
from stockroom.domain.item import InventoryItem, Reason

from . import wire

__all__ = [
    "bulk_response",
    "draft_from_wire",
    "iso_ms",
    "item_to_wire",
    "patch_from_wire",
    "reason_from_wire",
    "revision_from_wire",
]


def iso_ms(ms: int) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2024-06-27T09:33:47.432Z``."""
    seconds, millis = divmod(ms, 1000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{millis:03d}Z"


def _unset(value: Any) -> Any:
    return domain.UNSET if value is WIRE_UNSET else value


def _preorder_patch(preorder: wire.PreorderInfoIn | None) -> PreorderPatch | None:
    if preorder is None:
        return None
    return PreorderPatch(
        enabled=_unset(preorder.enabled),
        message=_unset(preorder.message),
        limit=_unset(preorder.limit),
    )


def draft_from_wire(body: wire.ItemCreateIn) -> ItemDraft:
    return ItemDraft(
        product_id=body.productId,
        variant_id=body.variantId,
        location_id=body.locationId,
        quantity=body.quantity,
        in_stock=body.inStock,
        preorder=_preorder_patch(body.preorderInfo),
        extended_fields=body.extendedFields.namespaces if body.extendedFields else None,
    )


def patch_from_wire(body: wire.ItemUpdateIn | wire.UpsertItemIn) -> ItemPatch:
    """A patch of the fields the body sent; ``null`` for a tracking field means "not sent"."""
    preorder = body.preorderInfo
    extended = body.extendedFields
    return ItemPatch(
        quantity=domain.UNSET if body.quantity in (None, WIRE_UNSET) else body.quantity,
        in_stock=domain.UNSET if body.inStock in (None, WIRE_UNSET) else body.inStock,
        preorder=(
            domain.UNSET
            if preorder is WIRE_UNSET
            else (
                _preorder_patch(preorder) or PreorderPatch(enabled=None, message=None, limit=None)
            )
        ),
        extended_fields=(
            domain.UNSET
            if extended is WIRE_UNSET
            else (extended.namespaces if extended is not None else {})
        ),
        product_id=_unset(body.productId),
        variant_id=_unset(body.variantId),
        location_id=_unset(body.locationId) if body.locationId is not None else domain.UNSET,
    )


def revision_from_wire(revision: str | int | Any | None, *, field: str) -> int:
    """The revision a client sent, as an integer. Raises ``ValidationFailed`` if it is absent."""
    if revision is None or revision is WIRE_UNSET:
        raise ValidationFailed.of(field, "revision must not be empty", "REQUIRED_FIELD")
    return int(revision)


def reason_from_wire(reason: str | None) -> Reason | None:
    return None if reason is None else Reason(reason)


def item_to_wire(item: InventoryItem) -> wire.InventoryItemOut:
    preorder = item.preorder
    if item.quantity is not None:
        preorder_out = wire.PreorderInfoOut(
            enabled=preorder.enabled,
            message=preorder.message if preorder.message is not None else WIRE_UNSET,
            limit=domain.PREORDER_LIMIT_DEFAULT if preorder.limit is None else preorder.limit,
            counter=preorder.counter,
            quantity=domain.preorder_capacity(item),
        )
    else:
        preorder_out = wire.PreorderInfoOut(
            enabled=preorder.enabled,
            message=preorder.message if preorder.message is not None else WIRE_UNSET,
        )
    return wire.InventoryItemOut(
        id=item.id,
        revision=str(item.revision),
        createdDate=iso_ms(item.created_ms),
        updatedDate=iso_ms(item.updated_ms),
        variantId=item.variant_id,
        locationId=item.location_id,
        productId=item.product_id,
        trackQuantity=item.track_quantity,
        availabilityStatus=item.availability.value,
        preorderInfo=preorder_out,
        quantity=item.quantity if item.quantity is not None else WIRE_UNSET,
        inStock=item.in_stock if item.in_stock is not None else WIRE_UNSET,
        product=_product_to_wire(item.product) if item.product else WIRE_UNSET,
        extendedFields=(
            wire.ExtendedFieldsOut(namespaces=dict(item.extended_fields))
            if item.extended_fields is not None
            else WIRE_UNSET
        ),
    )


def _product_to_wire(product: domain.ProductSummary) -> wire.ProductOut:
    def given(value: Any) -> Any:
        return WIRE_UNSET if value is None else value

    brand: Any = WIRE_UNSET
    if product.brand_id or product.brand_name:
        brand = wire.BrandOut(id=given(product.brand_id), name=given(product.brand_name))
    return wire.ProductOut(
        directCategoryIds=list(product.direct_category_ids),
        name=given(product.name),
        variantName=given(product.variant_name),
        variantSku=given(product.variant_sku),
        variantVisible=given(product.variant_visible),
        variantBarcode=given(product.variant_barcode),
        brand=brand,
    )


def application_error(error: StockroomError) -> wire.ApplicationErrorOut:
    code = error.rule_code if isinstance(error, ValidationFailed) else error.code
    data: Mapping[str, Any] = error.data
    if isinstance(error, ValidationFailed):
        first = error.violations[0]
        data = {**first.data, "field": first.field, "violatedRule": first.violated_rule}
    return wire.ApplicationErrorOut(code=code, description=error.description, data=dict(data))


def bulk_response(results: Any, *, return_entity: bool) -> wire.BulkItemsResponse:
    """The bulk envelope of spec 3.0.4 from a list of ``ItemResult``."""
    out = []
    failures = 0
    for index, result in enumerate(results):
        if result.error is not None:
            failures += 1
            metadata = wire.ItemMetadataOut(
                originalIndex=index,
                success=False,
                id=result.item_id if result.item_id is not None else WIRE_UNSET,
                error=application_error(result.error),
            )
            out.append(wire.BulkItemResultOut(itemMetadata=metadata))
            continue
        metadata = wire.ItemMetadataOut(originalIndex=index, success=True, id=result.item_id)
        item = item_to_wire(result.item) if return_entity and result.item else WIRE_UNSET
        out.append(wire.BulkItemResultOut(itemMetadata=metadata, item=item))
    return wire.BulkItemsResponse(
        results=out,
        bulkActionMetadata=wire.BulkActionMetadataOut(
            totalSuccesses=len(out) - failures, totalFailures=failures
        ),
    )
