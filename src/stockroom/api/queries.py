"""Query, search and count: decode the request, plan it, run it, shape the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from msgspec import UNSET as WIRE_UNSET

from stockroom.domain.access import Access
from stockroom.domain.errors import ValidationFailed
from stockroom.query import aggregate
from stockroom.query.plan import Kind, Plan, plan_from_cursor, plan_request
from stockroom.service import queries
from stockroom.service.queries import CURSOR_KEY, Page

from . import wire
from .convert import item_to_wire
from .routing import Call, Operation

__all__ = ["OPERATIONS"]


def _plan(
    call: Call,
    kind: Kind,
    body: wire.QueryIn | wire.SearchIn,
    *,
    where: str,
    search: object = None,
    time_zone: str | None = None,
) -> Plan:
    paging = body.cursorPaging or wire.CursorPagingIn()
    if paging.cursor:
        if body.filter or body.sort or search:
            raise ValidationFailed.of(
                f"{where}.cursorPaging.cursor",
                "a cursor carries its own filter, sort and search; send it alone",
            )
        return plan_from_cursor(
            paging.cursor,
            kind=kind,
            store_id=call.store_id,
            key=call.inventory.storage.secret(CURSOR_KEY),
            limit=paging.limit,
            where=where,
        )
    return plan_request(
        kind,
        where=where,
        raw_filter=body.filter,
        raw_sort=body.sort,
        raw_search=search,
        limit=paging.limit,
        time_zone=time_zone,
    )


def _cursors(page: Page) -> wire.CursorsOut:
    return wire.CursorsOut(next=page.next_cursor or WIRE_UNSET, prev=page.prev_cursor or WIRE_UNSET)


def query_items(call: Call) -> wire.QueryResponse:
    body: wire.QueryRequest = call.body
    query = body.query or wire.QueryIn()
    if query.paging is not None:
        raise ValidationFailed.of(
            "query.paging", "offset paging is not supported; use cursorPaging"
        )
    plan = _plan(call, "query", query, where="query")
    page = queries.find_page(call.inventory, store_id=call.store_id, plan=plan)
    return wire.QueryResponse(
        inventoryItems=[item_to_wire(item) for item in page.items],
        pagingMetadata=wire.QueryPagingOut(count=len(page.items), cursors=_cursors(page)),
    )


def search_items(call: Call) -> wire.SearchResponse:
    body: wire.SearchRequest = call.body
    search = body.search or wire.SearchIn()
    aggregations = aggregate.parse_aggregations(search.aggregations, where="search.aggregations")
    plan = _plan(
        call, "search", search, where="search", search=search.search, time_zone=search.timeZone
    )
    page = queries.find_page(
        call.inventory, store_id=call.store_id, plan=plan, aggregations=aggregations
    )
    return wire.SearchResponse(
        inventoryItems=[item_to_wire(item) for item in page.items],
        pagingMetadata=wire.SearchPagingOut(
            count=len(page.items), cursors=_cursors(page), hasNext=page.has_next
        ),
        aggregationData=wire.AggregationDataOut(results=page.aggregations),
    )


def count_items(call: Call) -> wire.CountResponse:
    body: wire.CountRequest = call.body
    count = queries.count_items(
        call.inventory, store_id=call.store_id, raw_filter=body.filter, raw_search=body.search
    )
    return wire.CountResponse(count=count)


def _post_and_get(
    name: str,
    path: str,
    handle: Callable[[Call], Any],
    request: type[msgspec.Struct],
    response: type[msgspec.Struct],
    *,
    search: bool = False,
) -> tuple[Operation, Operation]:
    """The documented POST, and the GET with a ``.r`` parameter that the SDK sends."""
    read = Access.INVENTORY_READ
    return (
        Operation(name, "POST", path, handle, request, response, read, search=search),
        Operation(f"{name}ByGet", "GET", path, handle, request, response, read, search=search),
    )


OPERATIONS: tuple[Operation, ...] = (
    *_post_and_get("QueryInventoryItems", "/inventory-items/query", query_items,
                   wire.QueryRequest, wire.QueryResponse),
    *_post_and_get("SearchInventoryItems", "/inventory-items/search", search_items,
                   wire.SearchRequest, wire.SearchResponse, search=True),
    *_post_and_get("CountInventoryItems", "/inventory-items/count", count_items,
                   wire.CountRequest, wire.CountResponse),
)  # fmt: skip
