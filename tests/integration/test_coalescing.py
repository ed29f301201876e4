"""Coalesced stock changes answer every caller exactly as a serial order would."""

import threading
from dataclasses import replace

from stockroom.domain.errors import InsufficientInventory
from stockroom.domain.item import InventoryItem
from stockroom.service import stock
from stockroom.service.coalesce import Coalescer
from tests.factories import an_item

STORE = "coalescing"
BUYERS = 24
TRIES = 20


def test_concurrent_buyers_get_a_serial_story_in_fewer_writes(inventory):
    coalesced = replace(inventory, coalescer=Coalescer())
    with inventory.storage.writing(STORE) as tx:
        item = an_item(quantity=300, location_id=tx.default_location_id())
        tx.insert_item(item)
    sold: list[InventoryItem] = []
    refused: list[InsufficientInventory] = []
    lock = threading.Lock()
    start = threading.Barrier(BUYERS)

    def buyer():
        start.wait()
        for _ in range(TRIES):
            line = stock.StockLine(item.id, 1)
            try:
                (result,) = stock.decrement_items(coalesced, store_id=STORE, lines=[line])
            except InsufficientInventory as refusal:
                with lock:
                    refused.append(refusal)
            else:
                assert result.item is not None
                with lock:
                    sold.append(result.item)

    threads = [threading.Thread(target=buyer) for _ in range(BUYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with inventory.storage.reading(STORE) as tx:
        final = tx.get_item(item.id)
    assert (len(sold), len(refused)) == (300, BUYERS * TRIES - 300)
    assert sorted(s.quantity or 0 for s in sold) == list(range(300))
    assert sorted(s.revision for s in sold) == list(range(2, 302))
    assert (final.quantity, final.revision) == (0, 301)
    assert coalesced.coalescer.changes == BUYERS * TRIES
    assert coalesced.coalescer.batches < coalesced.coalescer.changes  # writes were shared


def test_a_coalesced_batch_mixes_increments_and_unrestricted_decrements(inventory):
    coalesced = replace(inventory, coalescer=Coalescer())
    with inventory.storage.writing(STORE) as tx:
        item = an_item(quantity=0, location_id=tx.default_location_id())
        tx.insert_item(item)
    start = threading.Barrier(16)

    def worker(index):
        start.wait()
        for _ in range(10):
            line = stock.StockLine(item.id, 2)
            if index % 2:
                stock.increment_items(coalesced, store_id=STORE, lines=[line])
            else:
                stock.decrement_items(coalesced, store_id=STORE, lines=[line], restrict=False)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with inventory.storage.reading(STORE) as tx:
        final = tx.get_item(item.id)
    assert (final.quantity, final.revision) == (0, 161)
