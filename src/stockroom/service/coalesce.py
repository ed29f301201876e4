"""Coalescing of concurrent single-line stock changes to one item (the flash-sale path).

A change that finds its item idle runs at once, alone, exactly as it would without
coalescing, so a quiet store pays nothing. Changes that arrive while the item is being
written wait in arrival order; when the write ends, all of them are applied together: the
item is read under its lock, the domain rules walk the waiting lines one by one in arrival
order (each succeeds or is refused exactly as it would have been alone), and the outcome is
written in one statement and one commit, with every change's events. Each caller gets its
own answer: its own resulting quantity and revision, or its own refusal.

The database still decides: the batch is computed under the item's lock (SQLite's write
lock, PostgreSQL's row lock) and written with a compare-and-set on the revision, so batches
from several processes interleave safely. Requests carrying an idempotency key run inside a
request transaction and are never coalesced.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from stockroom.domain import stock
from stockroom.domain.errors import NotFound, StockroomError
from stockroom.domain.item import InventoryItem, Reason

from .context import ItemResult

if TYPE_CHECKING:
    from .context import Inventory

__all__ = ["Change", "Coalescer"]

Kind = Literal["increment", "decrement"]


@dataclass(frozen=True, slots=True)
class Change:
    """One single-line stock change waiting for its turn."""

    item_id: str
    kind: Kind
    amount: int
    restrict: bool = True
    reason: Reason | None = None


@dataclass(slots=True)
class _Waiting:
    change: Change
    done: threading.Event = field(default_factory=threading.Event)
    result: ItemResult | None = None
    error: StockroomError | None = None
    crashed: BaseException | None = None
    leads: list[_Waiting] | None = None  # set when this caller must run the next batch


class Coalescer:
    """Per-process queues of changes, one per item being written."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[tuple[str, str], list[_Waiting]] = {}
        self.batches = 0
        """Batches written so far; with ``changes``, how much coalescing saves."""
        self.changes = 0

    def apply(self, inventory: Inventory, store_id: str, change: Change) -> ItemResult:
        """Apply one change, together with any that wait for the same item.

        Raises the change's own ``StockroomError`` (a 428 refusal).
        """
        key = (store_id, change.item_id)
        me = _Waiting(change)
        with self._lock:
            queue = self._queues.get(key)
            if queue is None:
                self._queues[key] = []
                batch: list[_Waiting] | None = [me]
            else:
                queue.append(me)
                batch = None
        if batch is None:
            me.done.wait()
            if me.leads is None:
                return _answer(me)
            batch = me.leads
        self._run(inventory, store_id, batch)
        self._hand_over(key)
        return _answer(me)

    def _hand_over(self, key: tuple[str, str]) -> None:
        """Give the changes that queued meanwhile to the first of them to run."""
        with self._lock:
            waiting = self._queues.pop(key)
            if waiting:
                self._queues[key] = []
                waiting[0].leads = waiting
                waiting[0].done.set()

    def _run(self, inventory: Inventory, store_id: str, batch: list[_Waiting]) -> None:
        with self._lock:
            self.batches += 1
            self.changes += len(batch)
        try:
            outcomes = _apply_batch(inventory, store_id, [w.change for w in batch])
        except BaseException as error:  # every waiter must hear of it, whatever it is
            for waiting in batch:
                waiting.crashed = error
                waiting.done.set()
            return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, StockroomError):
                waiting.error = outcome
            else:
                waiting.result = outcome
            if waiting is not batch[0]:
                waiting.done.set()


def _apply_batch(
    inventory: Inventory, store_id: str, changes: Sequence[Change]
) -> list[ItemResult | StockroomError]:
    """Walk the changes in arrival order under the item's lock; write once."""
    item_id = changes[0].item_id
    clock = inventory.clock
    with inventory.storage.writing(store_id) as tx:
        current = tx.get_item(item_id, lock=True)
        if current is None:
            missing = NotFound(f"inventory item {item_id} does not exist", inventoryItemId=item_id)
            return [ItemResult(item_id, error=missing) for _ in changes]
        outcomes: list[ItemResult | StockroomError] = []
        steps: list[tuple[InventoryItem, Reason | None]] = []
        state = current
        now = clock()
        for change in changes:
            try:
                state = _step(state, change, now)
            except StockroomError as refusal:
                outcomes.append(refusal.with_data(originalIndex=0))
            else:
                steps.append((state, change.reason))
                outcomes.append(ItemResult(item_id, state))
        if steps and not tx.write_steps(current, steps):
            raise RuntimeError(f"item {item_id} changed under its lock")
    return outcomes


def _step(item: InventoryItem, change: Change, now_ms: int) -> InventoryItem:
    if change.kind == "increment":
        return stock.increment(item, change.amount, now_ms=now_ms)
    return stock.decrement(
        item, change.amount, preorder_request=False, restrict=change.restrict, now_ms=now_ms
    )


def _answer(waiting: _Waiting) -> ItemResult:
    if waiting.crashed is not None:
        raise waiting.crashed
    if waiting.error is not None:
        raise waiting.error
    assert waiting.result is not None
    return waiting.result
