"""Queries at 1M items: the typical filters and sorts, cursor pages at depth, and a mix
of them under concurrency."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Final

from bench.context import Context
from bench.results import Comparison
from bench.seed import LOCATIONS, Catalog, location_id, product_id, variant_id
from bench.server import post_json
from bench.sql import ReadRequest

from .reads import CATALOG_STORE, Read, alone, catalog, iso, mixed, sort_key

__all__ = ["ABOUT", "TITLE", "run"]

TITLE: Final = "Queries at 1M items: filters, sorts and cursor depth"
ABOUT: Final = """\
One store of N items (1,000,000 in the full profile: 50k products x 5 variants x 4
locations; 10% out of stock, 5% tracked by in-stock flag, 2% preorder; creation times over
a year), loaded by the fast path (executemany / COPY), not the API. Each typical query
(`inventory-items/query`, 100 per page) is timed alone from one client; **page N** is the
N-th page of a cursor walk (page 1 is the first request, later pages send only the cursor
from the page before), which must cost the same at any depth. **mix** replays every one of
them at random at 1, 16 and 64 clients. Raw: the SELECT (limit 101) that the server's query
compiler builds for the same request, in a read transaction; for a cursor page, with the
sort-key values of the previous page's last item as the bound. The **mix** rows draw
requests whose costs span a millisecond to a second, so in a few seconds each side draws a
different handful of slow ones: read their ratios loosely, the single-query rows closely."""

_PATH = "/stores/v3/inventory-items/query"
_WALK_LIMIT_S = 600.0
_STRIDE = 1000
_DAY_MS = 24 * 3600 * 1000


def typical(catalog: Catalog) -> list[ReadRequest]:
    """The filters and sorts a storefront or back office sends most."""
    middle = catalog.count // 2
    variant = middle // LOCATIONS
    last = catalog.last_created_ms
    return [
        ReadRequest("default sort (createdDate DESC)", "query", {}),
        ReadRequest("by location", "query", {"filter": {"locationId": location_id(2)}}),
        ReadRequest("by variant", "query", {"filter": {"variantId": variant_id(variant)}}),
        ReadRequest("by product", "query", {"filter": {"productId": product_id(variant // 5)}}),
        ReadRequest("availabilityStatus = OUT_OF_STOCK", "query",
                    {"filter": {"availabilityStatus": "OUT_OF_STOCK"}}),
        ReadRequest("quantity in [10, 20)", "query",
                    {"filter": {"quantity": {"$gte": 10, "$lt": 20}}}),
        ReadRequest("quantity < 5 at one location", "query",
                    {"filter": {"locationId": location_id(1), "quantity": {"$lt": 5}}}),
        ReadRequest("createdDate in the last 7 days", "query",
                    {"filter": {"createdDate": {"$gte": iso(last - 7 * _DAY_MS)}}}),
        ReadRequest("updatedDate in one day", "query",
                    {"filter": {"updatedDate": {"$gte": iso(last - 90 * _DAY_MS),
                                                "$lt": iso(last - 89 * _DAY_MS)}}}),
        ReadRequest("sort by quantity ASC", "query",
                    {"sort": [{"fieldName": "quantity", "order": "ASC"}]}),
        ReadRequest("in stock, sort by quantity DESC", "query",
                    {"filter": {"availabilityStatus": "IN_STOCK"},
                     "sort": [{"fieldName": "quantity", "order": "DESC"}]}),
    ]  # fmt: skip


_WALKS: Final = (
    ReadRequest("walk createdDate DESC", "query", {"cursorPaging": {"limit": 100}}),
    ReadRequest("walk quantity ASC", "query",
                {"sort": [{"fieldName": "quantity", "order": "ASC"}],
                 "cursorPaging": {"limit": 100}}),
)  # fmt: skip


def _walk(ctx: Context, request: ReadRequest, pages: tuple[int, ...]) -> dict[int, Read]:
    """Follow next cursors to each page asked for (page size ``page_size``); for each, the
    cursor that fetches it and the sort key of the item before it. Long stretches are
    crossed 1,000 items a request (a cursor may be sent with a new limit), which lands on
    the same items as 100 at a time, in a tenth of the requests."""
    size = ctx.profile.page_size
    found: dict[int, Read] = {}
    cursor: str | None = None
    skipped = 0
    deadline = time.monotonic() + _WALK_LIMIT_S
    for page in sorted(pages):
        target = (page - 1) * size
        while skipped < target and time.monotonic() < deadline:
            limit = _STRIDE if target - skipped >= _STRIDE else size
            body = request.http_body(cursor, limit=limit)
            status, answer = post_json(ctx.server.url + _PATH, body, store_id=CATALOG_STORE)
            assert status == 200, answer
            cursor = answer["pagingMetadata"]["cursors"].get("next")
            skipped += len(answer["inventoryItems"])
            last_id = answer["inventoryItems"][-1]["id"]
            if cursor is None:
                break
        if skipped != target:
            ctx.note(f"{request.name}: could not reach page {page} (at item {skipped:,})")
            break
        bound = sort_key(ctx, request, last_id) if cursor else None
        found[page] = (request, cursor, bound)
    return found


def run(ctx: Context) -> Iterator[Comparison]:
    reads: list[Read] = [(r, None, None) for r in typical(catalog(ctx))]
    yield from alone(ctx, "queries", [(read[0].name, read) for read in reads])
    for walk in _WALKS:
        pages = _walk(ctx, walk, ctx.profile.cursor_pages)
        yield from alone(ctx, "queries", [(f"{walk.name}: page {n}", r) for n, r in pages.items()])
        reads += pages.values()
    yield from mixed(ctx, "queries", reads)
