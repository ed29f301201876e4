"""Translation between wire structs and domain values, in both directions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from msgspec import UNSET as WIRE_UNSET

from stockroom.domain import item as domain
from stockroom.domain.changes import ItemDraft, ItemPatch, PreorderPatch
from stockroom.domain.errors import StockroomError, ValidationFailed
from stockroom.domain.item import InventoryItem, Reason
from stockroom.domain.rest import iso_ms, item_json

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
    if body.extendedFields is not None:
        check_depth(body.extendedFields.namespaces, field="extendedFields.namespaces")
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
    if isinstance(extended, wire.ExtendedFieldsIn):
        check_depth(extended.namespaces, field="extendedFields.namespaces")
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
    """The response struct of an item, from the one mapping events use too."""
    return msgspec.convert(item_json(item), wire.InventoryItemOut)


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


MAX_JSON_DEPTH = 32


def check_depth(value: Any, *, field: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse free-form JSON (extended fields, product documents) nested deeper than
    ``limit``. Raises ``ValidationFailed``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            raise ValidationFailed.of(
                field, f"nested deeper than {limit} levels", "MAX", threshold=limit
            )
        if isinstance(current, dict):
            stack.extend((child, depth + 1) for child in current.values())
        elif isinstance(current, list):
            stack.extend((child, depth + 1) for child in current)
