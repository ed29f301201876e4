"""Coalesced stock changes answer every caller exactly as a serial order would.

The buyers here are coroutines on one event loop, as requests are in a server process; the
several-process case is in ``tests/e2e/test_concurrency.py``.
"""

import asyncio
from dataclasses import replace

import pytest

from stockroom.domain.errors import InsufficientInventory, NotFound
from stockroom.domain.item import InventoryItem
from stockroom.service import stock
from stockroom.service.coalesce import MAX_BATCH, Coalescer
from tests.factories import an_item, guid

STORE = "coalescing"
BUYERS = 24
TRIES = 20


def stocked(inventory, quantity):
    with inventory.storage.writing(STORE) as tx:
        item = an_item(quantity=quantity, location_id=tx.default_location_id())
        tx.insert_item(item)
    return item


def final_state(inventory, item):
    with inventory.storage.reading(STORE) as tx:
        return tx.get_item(item.id)


def test_concurrent_buyers_get_a_serial_story_in_fewer_writes(inventory):
    coalesced = replace(inventory, coalescer=Coalescer())
    item = stocked(inventory, 300)
    sold: list[InventoryItem] = []
    refused: list[InsufficientInventory] = []

    async def buyer():
        for _ in range(TRIES):
            line = stock.StockLine(item.id, 1)
            try:
                answer = await stock.decrement_items_coalesced(
                    coalesced, store_id=STORE, lines=[line]
                )
            except InsufficientInventory as refusal:
                refused.append(refusal)
            else:
                assert answer is not None
                assert answer[0].item is not None
                sold.append(answer[0].item)

    async def sale():
        await asyncio.gather(*(buyer() for _ in range(BUYERS)))

    asyncio.run(sale())

    final = final_state(inventory, item)
    assert (len(sold), len(refused)) == (300, BUYERS * TRIES - 300)
    assert sorted(s.quantity or 0 for s in sold) == list(range(300))
    assert sorted(s.revision for s in sold) == list(range(2, 302))
    assert all(r.data["originalIndex"] == 0 for r in refused)
    assert (final.quantity, final.revision) == (0, 301)
    assert coalesced.coalescer.changes == BUYERS * TRIES
    assert coalesced.coalescer.batches < coalesced.coalescer.changes  # writes were shared


def test_arrival_order_decides_who_buys_the_last_units(inventory):
    """Changes queued behind a write are applied in the order they arrived."""
    coalesced = replace(inventory, coalescer=Coalescer())
    item = stocked(inventory, 5)

    async def sale():
        first = asyncio.ensure_future(buy())  # starts a batch alone
        await asyncio.sleep(0)
        queued = [asyncio.ensure_future(buy()) for _ in range(9)]
        return await asyncio.gather(first, *queued, return_exceptions=True)

    async def buy():
        line = stock.StockLine(item.id, 1)
        return await stock.decrement_items_coalesced(coalesced, store_id=STORE, lines=[line])

    outcomes = asyncio.run(sale())

    quantities = [o[0].item.quantity for o in outcomes if not isinstance(o, Exception)]
    assert quantities == [4, 3, 2, 1, 0]
    assert all(isinstance(o, InsufficientInventory) for o in outcomes[5:])
    assert coalesced.coalescer.batches == 2


def test_a_coalesced_batch_mixes_increments_and_unrestricted_decrements(inventory):
    coalesced = replace(inventory, coalescer=Coalescer())
    item = stocked(inventory, 0)

    async def worker(index):
        for _ in range(10):
            line = stock.StockLine(item.id, 2)
            if index % 2:
                await stock.increment_items_coalesced(coalesced, store_id=STORE, lines=[line])
            else:
                await stock.decrement_items_coalesced(
                    coalesced, store_id=STORE, lines=[line], restrict=False
                )

    async def run():
        await asyncio.gather(*(worker(i) for i in range(16)))

    asyncio.run(run())

    final = final_state(inventory, item)
    assert (final.quantity, final.revision) == (0, 161)


def test_more_waiters_than_a_batch_holds_are_written_in_several(inventory):
    coalesced = replace(inventory, coalescer=Coalescer())
    item = stocked(inventory, 0)
    waiters = MAX_BATCH + 50

    async def run():
        line = stock.StockLine(item.id, 1)
        return await asyncio.gather(
            *(
                stock.increment_items_coalesced(coalesced, store_id=STORE, lines=[line])
                for _ in range(waiters)
            )
        )

    answers = asyncio.run(run())

    assert sorted(a[0].item.quantity for a in answers) == list(range(1, waiters + 1))
    assert final_state(inventory, item).quantity == waiters
    assert coalesced.coalescer.batches >= 2


def test_a_missing_item_is_answered_per_line_not_raised(inventory):
    coalesced = replace(inventory, coalescer=Coalescer())
    line = stock.StockLine(guid(), 1)

    answer = asyncio.run(stock.decrement_items_coalesced(coalesced, store_id=STORE, lines=[line]))

    assert answer is not None
    assert isinstance(answer[0].error, NotFound)


@pytest.mark.parametrize(
    "lines",
    [
        [stock.StockLine("a", 1), stock.StockLine("b", 1)],
        [stock.StockLine("a", 1, preorder_request=True)],
    ],
    ids=["several lines", "preorder"],
)
def test_requests_the_coalescer_does_not_take_are_handed_back(inventory, lines):
    coalesced = replace(inventory, coalescer=Coalescer())

    answer = asyncio.run(stock.decrement_items_coalesced(coalesced, store_id=STORE, lines=lines))

    assert answer is None
    assert coalesced.coalescer.changes == 0


def test_a_failing_write_reaches_every_waiter(inventory, monkeypatch):
    coalesced = replace(inventory, coalescer=Coalescer())
    item = stocked(inventory, 10)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk is gone")

    monkeypatch.setattr("stockroom.service.coalesce._apply_batch", broken)

    async def run():
        line = stock.StockLine(item.id, 1)
        return await asyncio.gather(
            *(
                stock.decrement_items_coalesced(coalesced, store_id=STORE, lines=[line])
                for _ in range(5)
            ),
            return_exceptions=True,
        )

    outcomes = asyncio.run(run())

    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert final_state(inventory, item).quantity == 10
