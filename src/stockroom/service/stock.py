"""Use cases that change stock: increments and decrements, by item id or by variant.

A request is atomic: every line is applied inside one transaction, and the first line that
breaks a rule (spec 3.11: not tracked, insufficient, past a limit) aborts the whole request
with that error, its ``originalIndex`` attached, so nothing is applied. Lines naming an
unknown item id are the exception: they fail on their own and the rest goes ahead.

Each line is one conditional UPDATE; only when the database refuses a line is the item
read, to let the domain rules name the reason. A request by id can instead wait on the
event loop for its store's next batch (``*_coalesced``, ``coalesce.py``), which applies
the same rules to many requests in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stockroom.domain import stock
from stockroom.domain.errors import NotFound, StockroomError, VariantNotStocked
from stockroom.domain.item import InventoryItem, Reason
from stockroom.storage.base import Transaction

from .coalesce import Change, StockLine
from .context import Inventory, ItemResult

__all__ = [
    "StockLine",
    "VariantStockLine",
    "decrement_items",
    "decrement_items_coalesced",
    "decrement_variants",
    "increment_items",
    "increment_items_coalesced",
    "increment_variants",
]


@dataclass(frozen=True, slots=True)
class VariantStockLine:
    """Change the item of a variant at a location (the default location when ``None``)."""

    variant_id: str
    amount: int
    location_id: str | None = None
    preorder_request: bool = False


def increment_items(
    inventory: Inventory,
    *,
    store_id: str,
    lines: Sequence[StockLine],
    reason: Reason | None = None,
) -> list[ItemResult]:
    """Add stock to items by id. Raises the first 428 rule a line breaks."""
    with inventory.storage.writing(store_id) as tx:
        tx.lock_items([line.item_id for line in lines])
        return [
            _by_id(tx, index, line, lambda t, ln: _increment(inventory, t, ln, reason))
            for index, line in enumerate(lines)
        ]


def decrement_items(
    inventory: Inventory,
    *,
    store_id: str,
    lines: Sequence[StockLine],
    restrict: bool = True,
    reason: Reason | None = None,
) -> list[ItemResult]:
    """Take stock from items by id. Raises the first 428 rule a line breaks."""
    with inventory.storage.writing(store_id) as tx:
        tx.lock_items([line.item_id for line in lines])
        return [
            _by_id(tx, index, line, lambda t, ln: _decrement(inventory, t, ln, restrict, reason))
            for index, line in enumerate(lines)
        ]


async def increment_items_coalesced(
    inventory: Inventory,
    *,
    store_id: str,
    lines: Sequence[StockLine],
    reason: Reason | None = None,
) -> list[ItemResult] | None:
    """``increment_items`` for the event loop: the request joins its store's next batch
    (``coalesce.py``). ``None`` when batching is turned off; then call ``increment_items``
    in a worker thread."""
    if inventory.coalescer is None:
        return None
    change = Change("increment", lines, reason=reason)
    return await inventory.coalescer.apply(inventory, store_id, change)


async def decrement_items_coalesced(
    inventory: Inventory,
    *,
    store_id: str,
    lines: Sequence[StockLine],
    restrict: bool = True,
    reason: Reason | None = None,
) -> list[ItemResult] | None:
    """``decrement_items`` for the event loop, as ``increment_items_coalesced`` is."""
    if inventory.coalescer is None:
        return None
    change = Change("decrement", lines, restrict, reason)
    return await inventory.coalescer.apply(inventory, store_id, change)


def increment_variants(
    inventory: Inventory,
    *,
    store_id: str,
    lines: Sequence[VariantStockLine],
    reason: Reason | None = None,
) -> list[ItemResult]:
    """Add stock to the items of variants at locations. A missing item aborts the request."""
    with inventory.storage.writing(store_id) as tx:
        resolved = _resolve_variants(tx, lines)
        tx.lock_items([line.item_id for line in resolved])
        return [
            _by_id(tx, index, line, lambda t, ln: _increment(inventory, t, ln, reason))
            for index, line in enumerate(resolved)
        ]


def decrement_variants(
    inventory: Inventory,
    *,
    store_id: str,
    lines: Sequence[VariantStockLine],
    restrict: bool = True,
    reason: Reason | None = None,
) -> list[ItemResult]:
    """Take stock from the items of variants at locations. A missing item aborts the request."""
    with inventory.storage.writing(store_id) as tx:
        resolved = _resolve_variants(tx, lines)
        tx.lock_items([line.item_id for line in resolved])
        return [
            _by_id(tx, index, line, lambda t, ln: _decrement(inventory, t, ln, restrict, reason))
            for index, line in enumerate(resolved)
        ]


_Apply = Callable[[Transaction, "StockLine"], InventoryItem]


def _resolve_variants(tx: Transaction, lines: Sequence[VariantStockLine]) -> list[StockLine]:
    default_location = None
    resolved = []
    for index, line in enumerate(lines):
        if line.location_id is None:
            default_location = default_location or tx.default_location_id()
        location_id = line.location_id or default_location
        assert location_id is not None
        item = tx.find_item(line.variant_id, location_id)
        if item is None:
            raise VariantNotStocked(
                f"variant {line.variant_id} has no inventory item at location {location_id}",
                variantId=line.variant_id,
                locationId=location_id,
                originalIndex=index,
            )
        resolved.append(StockLine(item.id, line.amount, line.preorder_request))
    return resolved


def _by_id(tx: Transaction, index: int, line: StockLine, apply: _Apply) -> ItemResult:
    try:
        return ItemResult(line.item_id, apply(tx, line))
    except NotFound as error:
        return ItemResult(line.item_id, error=error)
    except StockroomError as error:
        raise error.with_data(originalIndex=index) from None


def _increment(
    inventory: Inventory, tx: Transaction, line: StockLine, reason: Reason | None
) -> InventoryItem:
    now = inventory.clock()
    changed = tx.increment(line.item_id, line.amount, now_ms=now, reason=reason)
    if changed is not None:
        return changed
    current = _locked(tx, line.item_id)
    stock.increment(current, line.amount, now_ms=now)  # raises the reason for the refusal
    return _refused_then_allowed(tx.increment(line.item_id, line.amount, now_ms=now, reason=reason))


def _decrement(
    inventory: Inventory,
    tx: Transaction,
    line: StockLine,
    restrict: bool,
    reason: Reason | None,
) -> InventoryItem:
    now = inventory.clock()

    def attempt() -> InventoryItem | None:
        return tx.decrement(
            line.item_id,
            line.amount,
            preorder_request=line.preorder_request,
            restrict=restrict,
            now_ms=now,
            reason=reason,
        )

    changed = attempt()
    if changed is not None:
        return changed
    current = _locked(tx, line.item_id)
    stock.decrement(  # raises the reason for the refusal
        current, line.amount, preorder_request=line.preorder_request, restrict=restrict, now_ms=now
    )
    return _refused_then_allowed(attempt())


def _locked(tx: Transaction, item_id: str) -> InventoryItem:
    current = tx.get_item(item_id, lock=True)
    if current is None:
        raise NotFound(f"inventory item {item_id} does not exist", inventoryItemId=item_id)
    return current


def _refused_then_allowed(changed: InventoryItem | None) -> InventoryItem:
    """The statement refused a change the rules allow; with the row now locked, the
    second attempt must succeed, and a second refusal means the two disagree."""
    if changed is None:
        raise RuntimeError("the stock statement and the domain rules disagree")
    return changed
