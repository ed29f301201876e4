"""Coalescing of concurrent single-line stock changes to one item (the flash-sale path).

Requests wait on the event loop, not in worker threads. A change that finds its item idle
starts a batch at once, alone, exactly as it would run without coalescing, so a quiet
store pays nothing. Changes that arrive while the item is being written queue in arrival
order; when the write ends, all of them are applied together in one worker thread: the
item is read under its lock, the domain rules walk the queued lines one by one in arrival
order (each succeeds or is refused exactly as it would have been alone), and the outcome
is written in one statement and one commit, with every change's events. Each caller gets
its own answer: its own resulting quantity and revision, or its own refusal.

A hot item therefore costs one worker thread and one transaction per batch, however many
buyers wait on it, where it used to cost a thread per buyer.

The database still decides: the batch is computed under the item's lock (SQLite's write
lock, PostgreSQL's row lock) and written with a compare-and-set on the revision, so batches
from several processes interleave safely. Requests carrying an idempotency key run inside a
request transaction and are never coalesced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

import anyio.to_thread
from anyio import CapacityLimiter

from stockroom.domain import stock
from stockroom.domain.errors import NotFound, StockroomError
from stockroom.domain.item import InventoryItem, Reason

from .context import ItemResult

if TYPE_CHECKING:
    from .context import Inventory

__all__ = ["MAX_BATCH", "Change", "Coalescer"]

Kind = Literal["increment", "decrement"]

MAX_BATCH: Final = 500
"""The most changes one transaction takes; later arrivals wait for the next batch."""


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
    answer: asyncio.Future[ItemResult] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Coalescer:
    """Per-process queues of changes, one per item being written, kept by the event loop.

    ``limiter`` bounds the worker threads batches run in (share the server's, so that the
    database pool is never asked for more connections than it has).
    """

    def __init__(self, limiter: CapacityLimiter | None = None) -> None:
        self._limiter = limiter
        self._queues: dict[tuple[str, str], list[_Waiting]] = {}
        self._writers: set[asyncio.Task[None]] = set()
        self.batches = 0
        """Batches written so far; with ``changes``, how much coalescing saves."""
        self.changes = 0

    async def apply(self, inventory: Inventory, store_id: str, change: Change) -> ItemResult:
        """Apply one change, together with any that wait for the same item.

        Raises the change's own ``StockroomError`` (a 428 refusal). Cancelling the caller
        before its batch starts withdraws the change; once started, it is applied.
        """
        key = (store_id, change.item_id)
        me = _Waiting(change)
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(me)
        else:
            self._queues[key] = [me]
            writer = asyncio.get_running_loop().create_task(self._write(inventory, key))
            self._writers.add(writer)  # the loop keeps only a weak reference to a task
            writer.add_done_callback(self._writers.discard)
        return await me.answer

    async def _write(self, inventory: Inventory, key: tuple[str, str]) -> None:
        """Write the item's queued changes, batch after batch, until none is left."""
        queue = self._queues[key]
        try:
            while queue:
                batch = [w for w in queue[:MAX_BATCH] if not w.answer.cancelled()]
                del queue[:MAX_BATCH]
                if batch:
                    await self._run(inventory, key[0], batch)
        finally:
            del self._queues[key]
            for waiting in queue:  # only if this task itself was cancelled
                waiting.answer.cancel()

    async def _run(self, inventory: Inventory, store_id: str, batch: list[_Waiting]) -> None:
        self.batches += 1
        self.changes += len(batch)
        changes = [waiting.change for waiting in batch]
        try:
            outcomes = await anyio.to_thread.run_sync(
                _apply_batch, inventory, store_id, changes, limiter=self._limiter
            )
        except asyncio.CancelledError:
            for waiting in batch:
                waiting.answer.cancel()
            raise
        except Exception as error:  # every waiter must hear of it, whatever it is
            for waiting in batch:
                if not waiting.answer.done():
                    waiting.answer.set_exception(error)
            return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if waiting.answer.done():  # its caller went away meanwhile
                continue
            if isinstance(outcome, StockroomError):
                waiting.answer.set_exception(outcome)
            else:
                waiting.answer.set_result(outcome)


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
