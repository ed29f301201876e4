"""Products V3 (the part inventory depends on) and Stores Locations V3, over HTTP."""

from __future__ import annotations

from enum import Enum
from typing import Any

import msgspec

from stockroom.domain.access import Access
from stockroom.domain.catalog import Location, LocationType
from stockroom.domain.errors import StockroomError, ValidationFailed
from stockroom.query.fields import LOCATIONS, PRODUCTS, VARIANTS
from stockroom.query.filter import parse_filter
from stockroom.query.plan import plan_from_cursor, plan_request
from stockroom.service import catalog, jobs
from stockroom.service.queries import CURSOR_KEY, Slice, paginate

from . import wire
from .convert import bulk_response, iso_ms, revision_from_wire
from .products import parse_product, product_to_wire
from .routing import Call, Operation

__all__ = ["LOCATION_OPERATIONS", "PRODUCT_OPERATIONS", "VARIANT_FILTER_OPERATIONS"]

MAX_LOCATIONS_PAGE = 100


# ---- products ----------------------------------------------------------------------------


def create_product(call: Call) -> dict[str, Any]:
    body: wire.ProductRequest = call.body
    product, _ = parse_product(body.product, creating=True)
    view, _ = catalog.create_product(call.inventory, store_id=call.store_id, product=product)
    return {"product": product_to_wire(view)}


def get_product(call: Call) -> dict[str, Any]:
    view = catalog.get_product(
        call.inventory, store_id=call.store_id, product_id=call.path["productId"]
    )
    return {"product": product_to_wire(view)}


def _merged(call: Call, sent: dict[str, Any]) -> dict[str, Any]:
    """PATCH semantics: the fields sent replace the stored ones; the rest stay."""
    current = catalog.get_product(
        call.inventory, store_id=call.store_id, product_id=call.path["productId"]
    )
    return {**product_to_wire(current), **sent}


def update_product(call: Call) -> dict[str, Any]:
    body: wire.ProductRequest = call.body
    revision = revision_from_wire(body.product.get("revision"), field="product.revision")
    product, _ = parse_product(
        _merged(call, body.product), creating=False, product_id=call.path["productId"]
    )
    view, _ = catalog.update_product(
        call.inventory, store_id=call.store_id, product=product, expected_revision=revision
    )
    return {"product": product_to_wire(view)}


def delete_product(call: Call) -> dict[str, Any]:
    catalog.delete_product(
        call.inventory, store_id=call.store_id, product_id=call.path["productId"]
    )
    return {}


def query_products(call: Call) -> dict[str, Any]:
    body: wire.ProductQueryRequest = call.body
    query = body.query or wire.QueryIn()
    plan = _plan(call, "products", query, PRODUCTS, 100)

    def fetch(tx: Any, part: Slice) -> list[catalog.ProductView]:
        products = tx.catalog.select_products(part.condition, part.order_by, part.limit)
        return catalog.views_of(tx, products)

    page = paginate(
        call.inventory,
        store_id=call.store_id,
        plan=plan,
        fetch=fetch,
        key_of=lambda view: _row_key(plan, view.product),
    )
    return {
        "products": [product_to_wire(view) for view in page.items],
        "pagingMetadata": _paging(len(page.items), page.next_cursor, page.prev_cursor),
    }


def _row_key(plan: Any, entity: Any) -> tuple[Any, ...]:
    """An entity's values of the plan's total order; its attributes share the columns' names."""
    values = (getattr(entity, key.field.column) for key in plan.order.total)
    return tuple(value.value if isinstance(value, Enum) else value for value in values)


def _paging(count: int, next_cursor: str | None, prev_cursor: str | None) -> dict[str, Any]:
    cursors = {
        name: cursor for name, cursor in (("next", next_cursor), ("prev", prev_cursor)) if cursor
    }
    return {"count": count, "cursors": cursors}


def _plan(call: Call, kind: Any, query: wire.QueryIn, spec: Any, max_limit: int) -> Any:
    paging = query.cursorPaging or wire.CursorPagingIn()
    if paging.cursor:
        return plan_from_cursor(
            paging.cursor,
            kind=kind,
            store_id=call.store_id,
            key=call.inventory.storage.secret(CURSOR_KEY),
            limit=paging.limit,
            where="query",
            spec=spec,
            max_limit=max_limit,
        )
    return plan_request(
        kind,
        where="query",
        raw_filter=query.filter,
        raw_sort=query.sort,
        raw_search=None,
        limit=paging.limit,
        time_zone=None,
        spec=spec,
        max_limit=max_limit,
    )


def _inventory_results(results: Any, return_entity: bool) -> Any:
    return msgspec.to_builtins(bulk_response(results, return_entity=return_entity))


def create_product_with_inventory(call: Call) -> dict[str, Any]:
    body: wire.ProductRequest = call.body
    product, inventory = parse_product(body.product, creating=True)
    view, results = catalog.create_product(
        call.inventory, store_id=call.store_id, product=product, with_inventory=inventory
    )
    return {
        "product": product_to_wire(view),
        "inventoryResults": _inventory_results(results, body.returnEntity),
    }


def update_product_with_inventory(call: Call) -> dict[str, Any]:
    body: wire.ProductRequest = call.body
    revision = revision_from_wire(body.product.get("revision"), field="product.revision")
    product, inventory = parse_product(
        _merged(call, body.product), creating=False, product_id=call.path["productId"]
    )
    view, results = catalog.update_product(
        call.inventory,
        store_id=call.store_id,
        product=product,
        expected_revision=revision,
        with_inventory=inventory,
    )
    return {
        "product": product_to_wire(view),
        "inventoryResults": _inventory_results(results, body.returnEntity),
    }


def bulk_create_products_with_inventory(call: Call) -> dict[str, Any]:
    body: wire.BulkProductsRequest = call.body
    parsed = [
        parse_product(raw, at=f"products[{index}]", creating=True)
        for index, raw in enumerate(body.products)
    ]
    results = []
    for index, (product, inventory) in enumerate(parsed):
        try:
            view, item_results = catalog.create_product(
                call.inventory, store_id=call.store_id, product=product, with_inventory=inventory
            )
        except StockroomError as error:
            results.append({"itemMetadata": _failed(index, product.id, error)})
            continue
        entry: dict[str, Any] = {
            "itemMetadata": {"id": product.id, "originalIndex": index, "success": True},
            "inventoryResults": _inventory_results(item_results, body.returnEntity),
        }
        if body.returnEntity:
            entry["item"] = product_to_wire(view)
        results.append(entry)
    failures = sum(1 for r in results if not r["itemMetadata"]["success"])
    return {
        "results": results,
        "bulkActionMetadata": {
            "totalSuccesses": len(results) - failures,
            "totalFailures": failures,
            "undetailedFailures": 0,
        },
    }


def _failed(index: int, product_id: str, error: Any) -> dict[str, Any]:
    return {
        "id": product_id,
        "originalIndex": index,
        "success": False,
        "error": {"code": error.code, "description": error.description, "data": error.data},
    }


# ---- locations ---------------------------------------------------------------------------


def _location_to_wire(location: Location) -> dict[str, Any]:
    return {
        "id": location.id,
        "revision": str(location.revision),
        "createdDate": iso_ms(location.created_ms),
        "updatedDate": iso_ms(location.updated_ms),
        "wixLocationId": location.id,
        "locationType": location.location_type.value,
        "name": location.name,
        "defaultLocation": location.is_default,
        "archived": location.archived,
    }


def get_location(call: Call) -> dict[str, Any]:
    location = catalog.get_location(
        call.inventory, store_id=call.store_id, location_id=call.path.get("storesLocationId")
    )
    return {"storesLocation": _location_to_wire(location)}


def query_locations(call: Call) -> dict[str, Any]:
    body: wire.LocationQueryRequest = call.body
    plan = _plan(call, "locations", body.query or wire.QueryIn(), LOCATIONS, MAX_LOCATIONS_PAGE)
    page = paginate(
        call.inventory,
        store_id=call.store_id,
        plan=plan,
        fetch=lambda tx, part: tx.catalog.select_locations(
            part.condition, part.order_by, part.limit
        ),
        key_of=lambda location: _row_key(plan, location),
    )
    return {
        "storesLocations": [_location_to_wire(location) for location in page.items],
        "pagingMetadata": _paging(len(page.items), page.next_cursor, page.prev_cursor),
    }


def create_location(call: Call) -> dict[str, Any]:
    body: wire.LocationRequest = call.body
    if body.storesLocation.name is None:
        raise ValidationFailed.of("storesLocation.name", "name is required", "REQUIRED_FIELD")
    location = catalog.create_location(
        call.inventory,
        store_id=call.store_id,
        name=body.storesLocation.name,
        location_type=LocationType(body.storesLocation.locationType),
    )
    return {"storesLocation": _location_to_wire(location)}


def rename_location(call: Call) -> dict[str, Any]:
    body: wire.LocationRequest = call.body
    sent = body.storesLocation
    if sent.name is None:
        raise ValidationFailed.of("storesLocation.name", "name is required", "REQUIRED_FIELD")
    location = catalog.rename_location(
        call.inventory,
        store_id=call.store_id,
        location_id=call.path["storesLocationId"],
        name=sent.name,
        expected_revision=None if sent.revision is None else int(sent.revision),
    )
    return {"storesLocation": _location_to_wire(location)}


def archive_location(call: Call) -> dict[str, Any]:
    location = catalog.archive_location(
        call.inventory, store_id=call.store_id, location_id=call.path["storesLocationId"]
    )
    return {"storesLocation": _location_to_wire(location)}


# ---- inventory from variants -------------------------------------------------------------


def create_by_variant_filter(call: Call) -> wire.JobIdResponse:
    body: wire.CreateByVariantFilterRequest = call.body
    if body.filter is None:
        raise ValidationFailed.of("filter", "filter is required", "REQUIRED_FIELD")
    parse_filter(body.filter, where="filter", spec=VARIANTS)
    job = jobs.submit_variant_job(
        call.inventory,
        store_id=call.store_id,
        raw_filter=body.filter,
        location_id=body.locationId,
        quantity=body.inventoryCreationData.quantity,
    )
    call.wake_jobs()
    return wire.JobIdResponse(jobId=job.id)


_P = "/products/{productId}"

PRODUCT_OPERATIONS: tuple[Operation, ...] = (
    Operation("QueryProducts", "POST", "/products/query", query_products,
              wire.ProductQueryRequest, None, Access.CATALOG_READ),
    Operation("QueryProductsByGet", "GET", "/products/query", query_products,
              wire.ProductQueryRequest, None, Access.CATALOG_READ),
    Operation("CreateProduct", "POST", "/products", create_product,
              wire.ProductRequest, None, Access.CATALOG_WRITE),
    Operation("GetProduct", "GET", _P, get_product, None, None, Access.CATALOG_READ),
    Operation("UpdateProduct", "PATCH", _P, update_product,
              wire.ProductRequest, None, Access.CATALOG_WRITE),
    Operation("DeleteProduct", "DELETE", _P, delete_product, None, None, Access.CATALOG_WRITE),
    Operation("CreateProductWithInventory", "POST", "/products-with-inventory",
              create_product_with_inventory, wire.ProductRequest, None, Access.CATALOG_WRITE),
    Operation("UpdateProductWithInventory", "PATCH", "/products-with-inventory/{productId}",
              update_product_with_inventory, wire.ProductRequest, None, Access.CATALOG_WRITE),
    Operation("BulkCreateProductsWithInventory", "POST", "/bulk/products-with-inventory/create",
              bulk_create_products_with_inventory, wire.BulkProductsRequest, None,
              Access.CATALOG_WRITE),
)  # fmt: skip

_L = "/locations/{storesLocationId}"

LOCATION_OPERATIONS: tuple[Operation, ...] = (
    Operation("GetDefaultStoresLocation", "GET", "/locations/default", get_location,
              None, None, Access.CATALOG_READ),
    Operation("QueryStoresLocations", "POST", "/locations/query", query_locations,
              wire.LocationQueryRequest, None, Access.CATALOG_READ),
    Operation("CreateStoresLocation", "POST", "/locations", create_location,
              wire.LocationRequest, None, Access.CATALOG_WRITE),
    Operation("GetStoresLocation", "GET", _L, get_location, None, None, Access.CATALOG_READ),
    Operation("RenameStoresLocation", "PATCH", _L, rename_location,
              wire.LocationRequest, None, Access.CATALOG_WRITE),
    Operation("ArchiveStoresLocation", "POST", f"{_L}/archive", archive_location,
              None, None, Access.CATALOG_WRITE),
)  # fmt: skip

VARIANT_FILTER_OPERATIONS: tuple[Operation, ...] = (
    Operation("BulkCreateInventoryItemsByVariantFilter", "POST",
              "/bulk/inventory-items/create-by-variant-filter", create_by_variant_filter,
              wire.CreateByVariantFilterRequest, wire.JobIdResponse, Access.INVENTORY_WRITE),
)  # fmt: skip
