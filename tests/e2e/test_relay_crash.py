"""A relay killed with SIGKILL in the middle of a burst loses nothing.

Over ten thousand events wait in the outbox for one subscription. ``stockroom relay`` runs
as a process of its own and is killed the hard way once part of the burst has arrived; a
new one starts and finishes. Every event reaches the receiver at least once, none is
missing, and each item's events arrive in order (counting each event where it first
arrived: a delivery in flight at the kill may arrive twice).
"""

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict

import pytest

from stockroom.domain.changes import ItemDraft
from stockroom.domain.webhooks import DeliveryState
from stockroom.service import items, stock, webhooks
from stockroom.service.context import Inventory, now_ms
from stockroom.storage import open_storage
from tests.conftest import BACKENDS, database_url
from tests.factories import guid
from tests.receiver import Receiver

pytestmark = pytest.mark.slow

ITEMS = 100
ROUNDS = 50  # each: one request incrementing every item, two events per item
LEASE_MS = 3_000


def start_relay(url, log):
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "stockroom", "relay", "--database", url,
             "--lease-ms", str(LEASE_MS), "--timeout-ms", "1000", "--batch", "200"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=os.environ | {"STOCKROOM_MIGRATE_ON_START": "false"},
        )  # fmt: skip


def burst(inventory, store):
    made = [
        items.create_item(inventory, store_id=store, draft=ItemDraft("p", guid(), quantity=0))
        for _ in range(ITEMS)
    ]
    for _ in range(ROUNDS):
        lines = [stock.StockLine(item.id, 1) for item in made]
        stock.increment_items(inventory, store_id=store, lines=lines)
    return webhooks.read_feed(inventory, store_id=store, limit=1).latest


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_relay_killed_mid_burst_loses_nothing_and_keeps_each_items_order(
    request, tmp_path, backend
):
    url = database_url(request, backend, tmp_path)
    storage = open_storage(url, now_ms=now_ms)
    inventory = Inventory(storage=storage)
    store = guid()
    log = tmp_path / "relay.log"
    relays: list[subprocess.Popen[bytes]] = []
    with Receiver() as receiver:
        webhooks.create_webhook(inventory, store_id=store, url=receiver.url)
        total = burst(inventory, store)
        try:
            relays.append(start_relay(url, log))
            at_kill = receiver.wait_for(lambda got: len(got) >= total // 3, timeout=60)
            relays[0].send_signal(signal.SIGKILL)
            relays[0].wait(timeout=10)
            killed_with = len({r.sequence for r in receiver.acknowledged()})

            relays.append(start_relay(url, log))
            started = time.monotonic()
            receiver.wait_for(
                lambda got: len({r.sequence for r in got if r.acknowledged}) >= total, timeout=90
            )
            finished_in = time.monotonic() - started
            relays[1].send_signal(signal.SIGTERM)
            assert relays[1].wait(timeout=30) == 0, log.read_text()
        finally:
            for relay in relays:
                if relay.poll() is None:
                    relay.kill()
                    relay.wait(timeout=10)
        got = receiver.acknowledged()
    with storage.reading(store) as tx:
        states = {d.state for d in tx.events.list_deliveries(
            tx.events.list_webhooks()[0].id, states=(), before=None, limit=total
        )}  # fmt: skip
    storage.close()

    assert total > 10_000
    assert len(at_kill) < total  # killed in the middle of the burst
    assert killed_with < total
    assert {r.sequence for r in got} == set(range(1, total + 1))  # none missing
    assert states == {DeliveryState.DELIVERED}
    seen, by_item = set(), defaultdict(list)
    for delivered in got:  # each event where it first arrived
        if delivered.sequence not in seen:
            seen.add(delivered.sequence)
            by_item[delivered.event["entityId"]].append(delivered.sequence)
    assert all(sequences == sorted(sequences) for sequences in by_item.values())
    assert len(by_item) == ITEMS
    duplicates = len(got) - total
    print(
        f"\n{backend}: {total} events; killed after {killed_with}; restart finished in "
        f"{finished_in:.1f} s; {duplicates} delivered twice"
    )
