"""The InventoryService operations: each decodes its request, calls one use case, and
shapes the response. No rule and no SQL lives here."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET as WIRE_UNSET

from stockroom.domain.access import Access
from stockroom.domain.errors import ValidationFailed
from stockroom.service import items, stock
from stockroom.service.context import ItemResult

from . import wire
from .convert import (
    bulk_response,
    draft_from_wire,
    item_to_wire,
    patch_from_wire,
    reason_from_wire,
    revision_from_wire,
)
from .masks import masked
from .routing import Call, Operation

__all__ = ["OPERATIONS"]


def create_item(call: Call) -> wire.ItemResponse:
    body: wire.CreateRequest = call.body
    try:
        draft = draft_from_wire(body.inventoryItem)
        created = items.create_item(call.inventory, store_id=call.store_id, draft=draft)
    except ValidationFailed as error:
        raise error.prefixed("inventoryItem") from None
    return wire.ItemResponse(inventoryItem=item_to_wire(created))


def bulk_create_items(call: Call) -> wire.BulkItemsResponse:
    body: wire.BulkCreateRequest = call.body
    drafts = [draft_from_wire(element) for element in body.inventoryItems]
    results = items.bulk_create_items(call.inventory, store_id=call.store_id, drafts=drafts)
    return bulk_response(results, return_entity=body.returnEntity)


def get_item(call: Call) -> wire.ItemResponse:
    item = items.get_item(
        call.inventory, store_id=call.store_id, item_id=call.path["inventoryItemId"]
    )
    return wire.ItemResponse(inventoryItem=item_to_wire(item))


def update_item(call: Call) -> wire.ItemResponse:
    body: wire.UpdateRequest = call.body
    item_id = call.path["inventoryItemId"]
    sent = body.inventoryItem
    if sent.id is not WIRE_UNSET and sent.id != item_id:
        raise ValidationFailed.of(
            "inventoryItem.id", "the id in the body differs from the id in the path", "OTHER"
        )
    try:
        update = items.ItemUpdate(
            item_id=item_id,
            patch=patch_from_wire(masked(sent, body.fieldMask)),
            expected_revision=revision_from_wire(sent.revision, field="revision"),
        )
        updated = items.update_item(
            call.inventory,
            store_id=call.store_id,
            update=update,
            reason=reason_from_wire(body.reason),
        )
    except ValidationFailed as error:
        raise error.prefixed("inventoryItem") from None
    return wire.ItemResponse(inventoryItem=item_to_wire(updated))


def bulk_update_items(call: Call) -> wire.BulkItemsResponse:
    body: wire.BulkUpdateRequest = call.body
    for index, element in enumerate(body.inventoryItems):
        sent = element.inventoryItem
        if sent.id is WIRE_UNSET:
            raise ValidationFailed.of(
                f"inventoryItems[{index}].inventoryItem.id", "id is required", "REQUIRED_FIELD"
            )
        revision_from_wire(sent.revision, field=f"inventoryItems[{index}].inventoryItem.revision")
    updates = [
        items.ItemUpdate(
            item_id=str(element.inventoryItem.id),
            patch=patch_from_wire(masked(element.inventoryItem, element.fieldMask)),
            expected_revision=revision_from_wire(element.inventoryItem.revision, field=""),
        )
        for element in body.inventoryItems
    ]
    results = items.bulk_update_items(
        call.inventory,
        store_id=call.store_id,
        updates=updates,
        reason=reason_from_wire(body.reason),
    )
    return bulk_response(results, return_entity=body.returnEntity)


def delete_item(call: Call) -> dict[str, Any]:
    items.delete_item(call.inventory, store_id=call.store_id, item_id=call.path["inventoryItemId"])
    return {}


def bulk_delete_items(call: Call) -> wire.BulkDeleteResponse:
    body: wire.BulkDeleteRequest = call.body
    results = items.bulk_delete_items(
        call.inventory, store_id=call.store_id, item_ids=body.inventoryItemIds
    )
    envelope = bulk_response(results, return_entity=False)
    return wire.BulkDeleteResponse(
        results=[wire.BulkDeleteResultOut(itemMetadata=r.itemMetadata) for r in envelope.results],
        bulkActionMetadata=envelope.bulkActionMetadata,
    )


def bulk_upsert_items(call: Call) -> wire.BulkItemsResponse:
    body: wire.BulkUpsertRequest = call.body
    entries = []
    for element in body.inventoryItems:
        sent = element.inventoryItem
        patch = patch_from_wire(masked(sent, element.fieldMask))
        entries.append(
            items.UpsertEntry(
                draft=draft_from_wire(
                    wire.ItemCreateIn(
                        productId=sent.productId,
                        variantId=sent.variantId,
                        locationId=sent.locationId,
                        quantity=None if sent.quantity is WIRE_UNSET else sent.quantity,
                        inStock=None if sent.inStock is WIRE_UNSET else sent.inStock,
                        preorderInfo=None if sent.preorderInfo is WIRE_UNSET else sent.preorderInfo,
                        extendedFields=(
                            None if sent.extendedFields is WIRE_UNSET else sent.extendedFields
                        ),
                    )
                ),
                patch=patch,
            )
        )
    results = items.upsert_items(call.inventory, store_id=call.store_id, entries=entries)
    return bulk_response(results, return_entity=body.returnEntity)


def bulk_increment_items(call: Call) -> wire.BulkItemsResponse:
    body: wire.BulkIncrementRequest = call.body
    results = stock.increment_items(
        call.inventory,
        store_id=call.store_id,
        lines=_increment_lines(body),
        reason=reason_from_wire(body.reason),
    )
    return bulk_response(results, return_entity=body.returnEntity)


async def bulk_increment_items_coalesced(call: Call) -> wire.BulkItemsResponse | None:
    body: wire.BulkIncrementRequest = call.body
    results = await stock.increment_items_coalesced(
        call.inventory,
        store_id=call.store_id,
        lines=_increment_lines(body),
        reason=reason_from_wire(body.reason),
    )
    return None if results is None else bulk_response(results, return_entity=body.returnEntity)


def bulk_decrement_items(call: Call) -> wire.BulkItemsResponse:
    body: wire.BulkDecrementRequest = call.body
    results = stock.decrement_items(
        call.inventory,
        store_id=call.store_id,
        lines=_decrement_lines(body),
        restrict=body.restrictInventory is not False,
        reason=reason_from_wire(body.reason),
    )
    return bulk_response(results, return_entity=body.returnEntity)


async def bulk_decrement_items_coalesced(call: Call) -> wire.BulkItemsResponse | None:
    body: wire.BulkDecrementRequest = call.body
    results = await stock.decrement_items_coalesced(
        call.inventory,
        store_id=call.store_id,
        lines=_decrement_lines(body),
        restrict=body.restrictInventory is not False,
        reason=reason_from_wire(body.reason),
    )
    return None if results is None else bulk_response(results, return_entity=body.returnEntity)


def _increment_lines(body: wire.BulkIncrementRequest) -> list[stock.StockLine]:
    return [stock.StockLine(d.inventoryItemId, d.incrementBy) for d in body.incrementData]


def _decrement_lines(body: wire.BulkDecrementRequest) -> list[stock.StockLine]:
    return [
        stock.StockLine(d.inventoryItemId, d.decrementBy, bool(d.preorderRequest))
        for d in body.decrementData
    ]


def bulk_increment_by_variant(call: Call) -> wire.BulkItemsResponse:
    body: wire.BulkIncrementByVariantRequest = call.body
    lines = [
        stock.VariantStockLine(d.variantId, d.incrementBy, d.locationId) for d in body.incrementData
    ]
    results = stock.increment_variants(
        call.inventory, store_id=call.store_id, lines=lines, reason=reason_from_wire(body.reason)
    )
    return bulk_response(results, return_entity=body.returnEntity)


def bulk_decrement_by_variant(call: Call) -> wire.BulkItemsResponse:
    body: wire.BulkDecrementByVariantRequest = call.body
    lines = [
        stock.VariantStockLine(d.variantId, d.decrementBy, d.locationId, bool(d.preorderRequest))
        for d in body.decrementData
    ]
    results: list[ItemResult] = stock.decrement_variants(
        call.inventory,
        store_id=call.store_id,
        lines=lines,
        restrict=body.restrictInventory is not False,
        reason=reason_from_wire(body.reason),
    )
    return bulk_response(results, return_entity=body.returnEntity)


_ITEM = "/inventory-items/{inventoryItemId}"
_BULK = "/bulk/inventory-items"

OPERATIONS: tuple[Operation, ...] = (
    Operation("CreateInventoryItem", "POST", "/inventory-items", create_item,
              wire.CreateRequest, wire.ItemResponse, Access.INVENTORY_WRITE),
    Operation("BulkCreateInventoryItems", "POST", f"{_BULK}/create", bulk_create_items,
              wire.BulkCreateRequest, wire.BulkItemsResponse, Access.INVENTORY_WRITE),
    Operation("GetInventoryItem", "GET", _ITEM, get_item,
              None, wire.ItemResponse, Access.INVENTORY_READ),
    Operation("UpdateInventoryItem", "PATCH", _ITEM, update_item,
              wire.UpdateRequest, wire.ItemResponse, Access.INVENTORY_WRITE),
    Operation("BulkUpdateInventoryItems", "POST", f"{_BULK}/update", bulk_update_items,
              wire.BulkUpdateRequest, wire.BulkItemsResponse, Access.INVENTORY_WRITE),
    Operation("DeleteInventoryItem", "DELETE", _ITEM, delete_item,
              None, None, Access.INVENTORY_WRITE),
    Operation("BulkDeleteInventoryItems", "POST", f"{_BULK}/delete", bulk_delete_items,
              wire.BulkDeleteRequest, wire.BulkDeleteResponse, Access.INVENTORY_WRITE),
    Operation("BulkUpsertInventoryItems", "POST", f"{_BULK}/upsert", bulk_upsert_items,
              wire.BulkUpsertRequest, wire.BulkItemsResponse, Access.INVENTORY_WRITE),
    Operation("BulkIncrementInventoryItems", "POST", f"{_BULK}/increment", bulk_increment_items,
              wire.BulkIncrementRequest, wire.BulkItemsResponse, Access.INVENTORY_WRITE,
              on_loop=bulk_increment_items_coalesced),
    Operation("BulkDecrementInventoryItems", "POST", f"{_BULK}/decrement", bulk_decrement_items,
              wire.BulkDecrementRequest, wire.BulkItemsResponse, Access.INVENTORY_WRITE,
              on_loop=bulk_decrement_items_coalesced),
    Operation("BulkIncrementInventoryItemsByVariantAndLocation", "POST",
              f"{_BULK}/increment-by-variant-and-location", bulk_increment_by_variant,
              wire.BulkIncrementByVariantRequest, wire.BulkItemsResponse, Access.INVENTORY_WRITE),
    Operation("BulkDecrementInventoryItemsByVariantAndLocation", "POST",
              f"{_BULK}/decrement-by-variant-and-location", bulk_decrement_by_variant,
              wire.BulkDecrementByVariantRequest, wire.BulkItemsResponse, Access.INVENTORY_WRITE),
)  # fmt: skip
