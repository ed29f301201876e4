"""A query or search request, validated: what to match, in which order, which page.

A ``Plan`` is built either from a first request (filter, sort, search, page size) or from a
cursor, which carries the same parts plus the sort values to continue from. Both paths go
through the same validation, so a cursor can never smuggle in what a request could not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from stockroom.domain.errors import ValidationFailed
from stockroom.domain.item import InventoryItem

from .cursor import decode_cursor, encode_cursor
from .evaluate import value_of
from .fields import INVENTORY, Spec
from .filter import Node, parse_filter, parse_time_zone
from .search import TextSearch, parse_search
from .sorting import Order, parse_sort

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Plan", "plan_from_cursor", "plan_request"]

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000

Kind = Literal["query", "search", "products", "locations"]


@dataclass(frozen=True, slots=True)
class Plan:
    kind: Kind
    filter: Node
    order: Order
    search: TextSearch | None
    limit: int
    raw_filter: Any = None
    time_zone: str | None = None
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None
    spec: Spec = INVENTORY

    def key_of(self, item: InventoryItem) -> tuple[Any, ...]:
        """The item's values of every key of the total order."""
        return tuple(value_of(item, key.field) for key in self.order.total)

    def cursor(
        self,
        store_id: str,
        key: bytes,
        *,
        after: tuple[Any, ...] | None = None,
        before: tuple[Any, ...] | None = None,
    ) -> str:
        payload = {
            "k": self.kind,
            "s": store_id,
            "f": self.raw_filter,
            "o": self.order.to_json(),
            "q": self.search.to_json() if self.search else None,
            "z": self.time_zone,
            "l": self.limit,
            "a": list(after) if after is not None else None,
            "b": list(before) if before is not None else None,
        }
        return encode_cursor(payload, key=key)


def _limit(raw: Any, where: str, maximum: int = MAX_LIMIT) -> int:
    if raw is None:
        return min(DEFAULT_LIMIT, maximum)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValidationFailed.of(where, "limit must be a whole number")
    if raw < 1:
        raise ValidationFailed.of(where, "limit is at least 1", "MIN", threshold=1)
    if raw > maximum:
        raise ValidationFailed.of(where, f"limit is at most {maximum}", "MAX", threshold=maximum)
    return raw


def plan_request(
    kind: Kind,
    *,
    where: str,
    raw_filter: Any,
    raw_sort: Any,
    raw_search: Any,
    limit: Any,
    time_zone: str | None,
    spec: Spec = INVENTORY,
    max_limit: int = MAX_LIMIT,
) -> Plan:
    """The plan of a first page. ``where`` prefixes field paths in errors (``query``)."""
    zone = parse_time_zone(time_zone, at=f"{where}.timeZone")
    return Plan(
        kind=kind,
        filter=parse_filter(raw_filter, where=f"{where}.filter", time_zone=zone, spec=spec),
        order=parse_sort(raw_sort, where=f"{where}.sort", spec=spec),
        search=parse_search(raw_search, where=f"{where}.search") if spec is INVENTORY else None,
        limit=_limit(limit, f"{where}.cursorPaging.limit", max_limit),
        raw_filter=raw_filter,
        time_zone=time_zone,
        spec=spec,
    )


def plan_from_cursor(
    cursor: str,
    *,
    kind: Kind,
    store_id: str,
    key: bytes,
    limit: Any,
    where: str,
    spec: Spec = INVENTORY,
    max_limit: int = MAX_LIMIT,
) -> Plan:
    """The plan a cursor continues. Raises ``ValidationFailed`` for a cursor that is forged,
    altered, from another store, or from another kind of request."""
    at = f"{where}.cursorPaging.cursor"
    payload = decode_cursor(cursor, key=key, where=at)
    if payload.get("s") != store_id or payload.get("k") != kind:
        raise ValidationFailed.of(at, "the cursor belongs to another request", "FORMAT")
    plan = plan_request(
        kind,
        where=where,
        raw_filter=payload.get("f"),
        raw_sort=payload.get("o"),
        raw_search=payload.get("q"),
        limit=payload.get("l"),
        time_zone=payload.get("z"),
        spec=spec,
        max_limit=max_limit,
    )
    after, before = payload.get("a"), payload.get("b")
    width = len(plan.order.total)
    for bound in (after, before):
        if bound is not None and (not isinstance(bound, list) or len(bound) != width):
            raise ValidationFailed.of(at, "the cursor is not one this service issued", "FORMAT")
    return replace(
        plan,
        limit=(
            plan.limit if limit is None else _limit(limit, f"{where}.cursorPaging.limit", max_limit)
        ),
        after=tuple(after) if after is not None else None,
        before=tuple(before) if before is not None else None,
    )
