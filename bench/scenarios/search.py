"""Search with aggregations at 1M items: the back-office overview pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from bench.context import Context
from bench.results import Comparison
from bench.seed import location_id
from bench.sql import ReadRequest

from .reads import Read, alone, catalog, mixed

__all__ = ["ABOUT", "TITLE", "run"]

TITLE: Final = "Search with aggregations at 1M items"
ABOUT: Final = """\
`inventory-items/search` over the same N-item store as the queries: a page of 100 plus
aggregations, each of which the server computes with one grouped SELECT over every match.
Each search is timed alone from one client, then all of them at random at 1, 16 and 64
clients (**mix**). Raw: the page SELECT and the aggregation SELECTs the server's compiler
builds, in one read transaction. A search here takes up to seconds, so each timed run
completes few of them and the **mix** rows compare different draws: read them loosely."""

_STATUS = {"name": "byStatus", "type": "VALUE", "fieldPath": "availabilityStatus"}
_QUANTITIES = {"name": "byQuantity", "type": "RANGE", "fieldPath": "quantity",
               "range": {"buckets": [{"to": 1}, {"from": 1, "to": 10}, {"from": 10, "to": 100},
                                     {"from": 100}]}}  # fmt: skip
_UNITS = {"name": "units", "type": "SCALAR", "fieldPath": "quantity", "scalar": {"type": "SUM"}}
_MONTHS = {"name": "byMonth", "type": "DATE_HISTOGRAM", "fieldPath": "createdDate",
           "dateHistogram": {"interval": "MONTH"}}  # fmt: skip

SEARCHES: Final = (
    ReadRequest("status counts, whole store", "search", {"aggregations": [_STATUS]}),
    ReadRequest("one location: status, quantity ranges, units", "search",
                {"filter": {"locationId": location_id(3)},
                 "aggregations": [_STATUS, _QUANTITIES, _UNITS]}),
    ReadRequest("out of stock by month", "search",
                {"filter": {"availabilityStatus": "OUT_OF_STOCK"}, "aggregations": [_MONTHS]}),
    ReadRequest("text 'scarf' + status counts", "search",
                {"search": {"expression": "scarf"}, "aggregations": [_STATUS]}),
    ReadRequest("text 'red mug', no aggregations", "search",
                {"search": {"expression": "red mug", "mode": "AND"}}),
)  # fmt: skip


def run(ctx: Context) -> Iterator[Comparison]:
    catalog(ctx)
    reads: list[Read] = [(r, None, None) for r in SEARCHES]
    yield from alone(ctx, "search", [(r[0].name, r) for r in reads])
    yield from mixed(ctx, "search", reads)
