"""The sequencer numbers events after their writers commit: a feed reader polling while
writers and sequencers run side by side still sees every event once, with no gap, and each
item's events in the order of its changes. On every backend (on PostgreSQL the writers of
one store really commit in parallel)."""

import json
import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from stockroom.domain.changes import ItemDraft
from stockroom.domain.item import Reason
from stockroom.service import items, stock, webhooks
from stockroom.storage.schema import outbox
from tests.factories import guid

STORE = "sequencer-store"
ITEMS = 12
WRITERS = 8
CHANGES_PER_WRITER = 40


def test_a_reader_polling_during_concurrent_writes_sees_every_event_once_in_item_order(
    inventory,
):
    hook = webhooks.create_webhook(inventory, store_id=STORE, url="http://a.example/h")
    created = [
        items.create_item(inventory, store_id=STORE, draft=ItemDraft("p", guid(), quantity=0))
        for _ in range(ITEMS)
    ]
    writing = threading.Event()
    writing.set()
    seen: list[tuple[int, dict[str, Any]]] = []

    def write(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(CHANGES_PER_WRITER):
            lines = [stock.StockLine(item.id, 1) for item in rng.sample(created, 2)]
            stock.increment_items(inventory, store_id=STORE, lines=lines, reason=Reason.ORDER)

    def sequence() -> None:
        while writing.is_set():
            with inventory.storage.relaying() as queue:
                numbered = queue.sequence(wait=False)
            if not numbered:
                time.sleep(0.002)

    def read() -> None:
        since, done = 0, False
        while not done:
            done = not writing.is_set()  # one more full read after the writers finish
            page = webhooks.read_feed(inventory, store_id=STORE, since=since, limit=500)
            seen.extend((entry.sequence, json.loads(entry.body)) for entry in page.entries)
            since = page.next_since
            while page.has_more:
                page = webhooks.read_feed(inventory, store_id=STORE, since=since, limit=500)
                seen.extend((entry.sequence, json.loads(entry.body)) for entry in page.entries)
                since = page.next_since

    with ThreadPoolExecutor(WRITERS + 3) as pool:
        helpers = [pool.submit(sequence), pool.submit(sequence), pool.submit(read)]
        writers = [pool.submit(write, seed) for seed in range(WRITERS)]
        try:
            for writer in writers:
                writer.result()
        finally:
            writing.clear()
        for helper in helpers:
            helper.result()

    changes = WRITERS * CHANGES_PER_WRITER * 2  # two lines each: updated, updated_with_reason
    expected = ITEMS + 2 * changes + ITEMS  # created; two per line; in stock once per item
    assert [sequence for sequence, _ in seen] == list(range(1, expected + 1))
    assert len({event["id"] for _, event in seen}) == expected
    revisions: defaultdict[str, list[int]] = defaultdict(list)
    for _, event in seen:
        if event["slug"] in ("created", "updated"):
            revisions[event["entityId"]].append(int(event["entityEventSequence"]))
    assert all(found == sorted(found) for found in revisions.values()), revisions
    assert sum(len(found) for found in revisions.values()) == ITEMS + changes
    delivered: list[int] = []
    before = None
    while page := webhooks.list_deliveries(
        inventory, store_id=STORE, webhook_id=hook.id, before=before, limit=100
    ):
        delivered += [delivery.sequence for delivery in page]
        before = page[-1].sequence
    assert sorted(delivered) == list(range(1, expected + 1))


def test_events_waiting_in_the_outbox_are_numbered_after_the_stream_and_removed(inventory):
    items.create_item(inventory, store_id=STORE, draft=ItemDraft("p", guid(), quantity=1))
    before = webhooks.read_feed(inventory, store_id=STORE).latest
    rows = [
        {"store_id": STORE, "event_id": guid(), "entity_id": guid(), "event_type": "t",
         "body": json.dumps({"n": n}), "created_ms": 1}
        for n in range(1_000)
    ]  # fmt: skip
    with inventory.storage.engine.begin() as conn:
        conn.execute(outbox.insert(), rows)

    page = webhooks.read_feed(inventory, store_id=STORE, since=before, limit=1000)

    assert [json.loads(entry.body)["n"] for entry in page.entries] == list(range(1_000))
    assert [entry.sequence for entry in page.entries] == list(range(before + 1, before + 1_001))
    with inventory.storage.relaying() as queue:
        assert not queue.events_waiting()
