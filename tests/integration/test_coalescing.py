"""Batched stock changes answer every caller exactly as a serial order would.

The buyers here are coroutines on one event loop, as requests are in a server process; the
several-process case is in ``tests/e2e/test_concurrency.py``.
"""

import asyncio
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

from stockroom.domain.errors import InsufficientInventory, NotFound
from stockroom.domain.item import InventoryItem, Preorder
from stockroom.service import coalesce, stock
from stockroom.service.coalesce import MAX_BATCH_LINES, Coalescer
from tests.factories import an_item, guid
from tests.writers import another_writer

STORE = "coalescing"
BUYERS = 24
TRIES = 20


def stocked(inventory, quantity, **fields):
    with inventory.storage.writing(STORE) as tx:
        item = an_item(quantity=quantity, location_id=tx.default_location_id(), **fields)
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
    waiters = MAX_BATCH_LINES + 50

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


def test_a_refused_cart_changes_nothing_while_the_rest_of_its_batch_goes_ahead(inventory):
    coalesced = replace(inventory, coalescer=Coalescer())
    plenty, scarce = stocked(inventory, 10), stocked(inventory, 1)
    carts = [
        [stock.StockLine(plenty.id, 2)],
        [stock.StockLine(plenty.id, 3), stock.StockLine(scarce.id, 2)],  # refused: line 1
        [stock.StockLine(plenty.id, 1), stock.StockLine(guid(), 1)],  # unknown item: alone
        [stock.StockLine(scarce.id, 1), stock.StockLine(plenty.id, 1)],
    ]

    async def checkout():
        blocker = asyncio.ensure_future(buy([stock.StockLine(plenty.id, 1)]))
        await asyncio.sleep(0)  # the blocker's batch starts alone; the carts queue behind it
        answers = await asyncio.gather(*(buy(cart) for cart in carts), return_exceptions=True)
        await blocker
        return answers

    async def buy(lines):
        return await stock.decrement_items_coalesced(coalesced, store_id=STORE, lines=lines)

    first, refused, partly, last = asyncio.run(checkout())

    assert [r.item.quantity for r in first] == [7]
    assert isinstance(refused, InsufficientInventory)
    assert refused.data["originalIndex"] == 1
    assert partly[0].item.quantity == 6
    assert isinstance(partly[1].error, NotFound)
    assert [r.item.quantity for r in last] == [0, 5]
    assert [r.item.revision for r in last] == [2, 5]
    assert (final_state(inventory, plenty).quantity, final_state(inventory, scarce).quantity) == (
        5,
        0,
    )
    assert coalesced.coalescer.batches == 2


def test_concurrent_carts_over_shared_items_sell_no_more_than_the_stock(inventory):
    coalesced = replace(inventory, coalescer=Coalescer())
    shelf = [stocked(inventory, 30) for _ in range(4)]
    sold = dict.fromkeys((item.id for item in shelf), 0)
    refusals = []

    async def shopper(seed):
        for turn in range(10):
            picks = [shelf[(seed + turn + k) % 4] for k in range(1 + (seed + turn) % 3)]
            lines = [stock.StockLine(item.id, 1) for item in picks]
            try:
                await stock.decrement_items_coalesced(coalesced, store_id=STORE, lines=lines)
            except InsufficientInventory as refusal:
                refusals.append(refusal)
            else:
                for item in picks:
                    sold[item.id] += 1

    async def wave():
        await asyncio.gather(*(shopper(seed) for seed in range(16)))

    asyncio.run(wave())

    for item in shelf:
        final = final_state(inventory, item)
        assert final.quantity == 30 - sold[item.id] >= 0
        assert final.revision == 1 + sold[item.id]
    assert refusals  # 16 x 10 carts of 1-3 units want more than the 120 on the shelf
    assert coalesced.coalescer.batches < coalesced.coalescer.changes


def test_a_preorder_booking_is_batched_like_any_line(inventory):
    coalesced = replace(inventory, coalescer=Coalescer())
    item = stocked(inventory, 1, preorder=Preorder(enabled=True, limit=5))
    line = stock.StockLine(item.id, 3, preorder_request=True)

    answer = asyncio.run(stock.decrement_items_coalesced(coalesced, store_id=STORE, lines=[line]))

    assert answer is not None
    booked = answer[0].item
    assert booked is not None
    assert (booked.quantity, booked.preorder.counter) == (0, 2)


def test_a_failing_write_reaches_every_waiter(inventory, monkeypatch):
    coalesced = replace(inventory, coalescer=Coalescer())
    item = stocked(inventory, 10)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk is gone")

    monkeypatch.setattr("stockroom.service.coalesce._apply_in", broken)

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


def test_an_embedded_batch_runs_on_the_event_loop_unless_another_writer_holds_the_lock(
    inventory, monkeypatch
):
    """SQLite: on the loop's own thread when the write lock is free; on a worker thread,
    leaving the loop free meanwhile, when another writer holds it. PostgreSQL: always on a
    worker thread."""
    coalesced = replace(inventory, coalescer=Coalescer())
    item = stocked(inventory, 10)
    threads: list[int] = []
    apply_in = coalesce._apply_in

    def recorded(*args, **kwargs):
        threads.append(threading.get_ident())
        return apply_in(*args, **kwargs)

    monkeypatch.setattr("stockroom.service.coalesce._apply_in", recorded)
    line = stock.StockLine(item.id, 1)

    async def run() -> int:
        await stock.decrement_items_coalesced(coalesced, store_id=STORE, lines=[line])
        with another_writer(inventory.storage, STORE, locking=[item.id]):
            waiting = asyncio.ensure_future(
                stock.decrement_items_coalesced(coalesced, store_id=STORE, lines=[line])
            )
            for _ in range(5):  # the loop goes on while the batch waits for the lock
                await asyncio.sleep(0.01)
            assert not waiting.done()
        await waiting
        return threading.get_ident()

    loop_thread = asyncio.run(run())

    embedded = inventory.storage.engine.dialect.name == "sqlite"
    assert (threads[0] == loop_thread) is embedded
    assert threads[1] != loop_thread
    assert final_state(inventory, item).quantity == 8


def test_on_postgresql_a_batch_begins_while_the_one_before_commits_and_still_follows_it(
    inventory, monkeypatch
):
    """Where a transaction holds only its rows, the next batch need not wait for the commit
    of the one before: it begins once that one holds its locks, and waits on the shared
    item's lock, so the units still go in arrival order. SQLite's batches hold the whole database
    and run one after the other."""
    coalesced = replace(inventory, coalescer=Coalescer())
    item = stocked(inventory, 10)
    steps: list[str] = []
    writing = inventory.storage.writing

    @contextmanager
    def slow_first_commit(store_id):
        batch = steps.count("begin") + 1
        steps.append("begin")
        with writing(store_id) as tx:
            yield tx
            if batch == 1:
                time.sleep(0.3)
            steps.append(f"commit {batch}")

    monkeypatch.setattr(inventory.storage, "writing", slow_first_commit)

    async def buy():
        line = stock.StockLine(item.id, 1)
        return await stock.decrement_items_coalesced(coalesced, store_id=STORE, lines=[line])

    async def sale():
        first = asyncio.ensure_future(buy())  # starts a batch alone
        await asyncio.sleep(0.1)
        queued = [asyncio.ensure_future(buy()) for _ in range(4)]
        return await asyncio.gather(first, *queued)

    answers = asyncio.run(sale())

    assert [a[0].item.quantity for a in answers] == [9, 8, 7, 6, 5]
    assert coalesced.coalescer.batches == 2
    if inventory.storage.locks_rows:
        assert steps == ["begin", "begin", "commit 1", "commit 2"]
    else:
        assert steps == ["begin", "commit 1", "begin", "commit 2"]
    assert final_state(inventory, item).quantity == 5
