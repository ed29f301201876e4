"""Use cases that read many items: query, search (with aggregations) and count.

Pages are cut by keyset, never by offset: the next page starts strictly after the last row's
sort values, so rows inserted or deleted between pages neither repeat nor vanish, and a page
deep in a large result costs the same as the first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_

from stockroom.domain.item import InventoryItem
from stockroom.query import aggregate
from stockroom.query.compile import after_key, order_by, where
from stockroom.query.filter import All, parse_filter, parse_time_zone
from stockroom.query.plan import Plan
from stockroom.query.search import TextSearch, parse_search, search_where
from stockroom.storage.base import Transaction

from .context import Inventory

__all__ = [
    "CURSOR_KEY",
    "Page",
    "Rows",
    "Slice",
    "count_items",
    "find_page",
    "matching",
    "paginate",
]

CURSOR_KEY = "cursor-signing"


@dataclass(frozen=True, slots=True)
class Page:
    items: list[InventoryItem]
    next_cursor: str | None
    prev_cursor: str | None
    aggregations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def matching(plan_filter: Any, search: TextSearch | None, dialect: str) -> ColumnElement[bool]:
    """The WHERE condition of a filter tree and an optional free-text search."""
    condition = where(plan_filter, dialect)
    if search is not None:
        condition = and_(condition, search_where(search, dialect))
    return condition


def find_page(
    inventory: Inventory,
    *,
    store_id: str,
    plan: Plan,
    aggregations: Sequence[aggregate.Aggregation] = (),
) -> Page:
    """One page of the items a plan matches, with cursors to its neighbours."""
    results: list[dict[str, Any]] = []

    filtered = plan.search is not None or not _matches_all(plan.filter)

    def fetch(tx: Transaction, part: Slice) -> list[InventoryItem]:
        if aggregations:
            results.extend(_aggregate(tx, part.matched, aggregations, plan.time_zone))
        matched = part.matched if filtered else None
        return tx.select_page(matched, part.after, part.order_by, part.limit)

    page = paginate(inventory, store_id=store_id, plan=plan, fetch=fetch, key_of=plan.key_of)
    return Page(page.items, page.next_cursor, page.prev_cursor, results)


def _matches_all(node: Any) -> bool:
    """Whether a filter tree is the empty filter (every item)."""
    return isinstance(node, All) and not node.parts


Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class Slice:
    """What a page reads: rows meeting ``matched``, strictly after the cursor's bound
    ``after`` (None on a first page), in order, at most ``limit``."""

    matched: ColumnElement[bool]
    after: ColumnElement[bool] | None
    order_by: list[Any]
    limit: int

    @property
    def condition(self) -> ColumnElement[bool]:
        """``matched`` and the bound, in one condition."""
        return self.matched if self.after is None else and_(self.matched, self.after)


@dataclass(frozen=True, slots=True)
class Rows(Generic[Row]):
    items: list[Row]
    next_cursor: str | None
    prev_cursor: str | None


def paginate(
    inventory: Inventory,
    *,
    store_id: str,
    plan: Plan,
    fetch: Callable[[Transaction, Slice], list[Row]],
    key_of: Callable[[Row], tuple[Any, ...]],
) -> Rows[Row]:
    """One keyset page of whatever ``fetch`` selects, in the plan's order, with cursors.

    ``fetch(tx, slice)`` runs the select in one read transaction; ``key_of(row)`` gives a
    row's values of the plan's total order, which cursors carry.
    """
    key = inventory.storage.secret(CURSOR_KEY)
    backwards = plan.before is not None
    order = plan.order.reversed() if backwards else plan.order
    bound = plan.before if backwards else plan.after
    with inventory.storage.reading(store_id) as tx:
        after = None if bound is None else after_key(order, bound)
        matched = matching(plan.filter, plan.search, tx.dialect)
        rows = fetch(tx, Slice(matched, after, order_by(order), plan.limit + 1))
    more = len(rows) > plan.limit
    rows = rows[: plan.limit]
    if backwards:
        rows.reverse()
    first, last = (key_of(rows[0]), key_of(rows[-1])) if rows else (None, None)
    if backwards:
        next_cursor = plan.cursor(store_id, key, after=last) if last else None
        prev_cursor = plan.cursor(store_id, key, before=first) if more and first else None
    else:
        next_cursor = plan.cursor(store_id, key, after=last) if more and last else None
        prev_cursor = (
            plan.cursor(store_id, key, before=first) if plan.after is not None and first else None
        )
    return Rows(rows, next_cursor, prev_cursor)


def count_items(
    inventory: Inventory,
    *,
    store_id: str,
    raw_filter: Any,
    raw_search: Any,
    where_prefix: str = "",
) -> int:
    """How many items match a filter and search (spec Appendix A, CountInventoryItems)."""
    prefix = f"{where_prefix}." if where_prefix else ""
    node = parse_filter(raw_filter, where=f"{prefix}filter")
    search = parse_search(raw_search, where=f"{prefix}search")
    with inventory.storage.reading(store_id) as tx:
        return tx.count_items(matching(node, search, tx.dialect))


def _aggregate(
    tx: Transaction,
    condition: ColumnElement[bool],
    aggregations: Sequence[aggregate.Aggregation],
    time_zone: str | None,
) -> list[dict[str, Any]]:
    zone = parse_time_zone(time_zone)
    results = []
    for aggregation in aggregations:
        grouping = aggregate.Grouping(aggregation)
        columns, group_by = grouping.columns()
        found = tx.select_rows(columns, condition, group_by=group_by)
        rows = aggregate.rows_from_sql(grouping, found)
        results.append(aggregate.shape(aggregation, rows, zone))
    return results
