"""The relay against real HTTP receivers on 127.0.0.1: at least once, in each item's order,
signed, retried with backoff, parked, redelivered; bad receivers hurt nobody else."""

import threading
import time
from collections import Counter

import pytest

from stockroom.domain.changes import ItemDraft
from stockroom.domain.webhooks import DeliveryState
from stockroom.service import items, stock, webhooks
from stockroom.service.relay import Relay, RelaySettings
from tests.factories import guid
from tests.receiver import GARBAGE, HANG, Received, Receiver, Redirect

STORE = "relay-store"
RETRY_MAX_MS = 60_000
FAST = RelaySettings(workers=1, timeout_ms=1_000, retry_max_ms=RETRY_MAX_MS, lease_ms=30_000)


@pytest.fixture
def make_relay():
    """Relays that are stopped (or closed) when the test ends."""
    made = []

    def make(storage, **options):
        made.append(Relay(storage, **options))
        return made[-1]

    yield make
    for relay in made:
        relay.__exit__()


def subscribe(inventory, receiver, **options):
    return webhooks.create_webhook(inventory, store_id=STORE, url=receiver.url, **options)


def create(inventory, quantity=10):
    draft = ItemDraft(product_id="p", variant_id=guid(), quantity=quantity)
    return items.create_item(inventory, store_id=STORE, draft=draft)


def sell(inventory, item, units=1):
    stock.decrement_items(inventory, store_id=STORE, lines=[stock.StockLine(item.id, units)])


def log(inventory, hook, **options):
    return webhooks.list_deliveries(inventory, store_id=STORE, webhook_id=hook.id, **options)


def retry_until_settled(relay, clock, rounds=30):
    """Drain, then move the clock past any retry delay, until nothing is left to send."""
    for _ in range(rounds):
        relay.drain()
        clock.advance(RETRY_MAX_MS + 1)
        if not relay.drain():
            return
    raise AssertionError("the relay kept finding work")


def test_every_event_arrives_signed_in_order_with_its_headers(inventory, clock, make_relay):
    with Receiver() as receiver:
        hook = subscribe(inventory, receiver)
        item = create(inventory)
        sell(inventory, item)
        items.delete_item(inventory, store_id=STORE, item_id=item.id)
        feed = webhooks.read_feed(inventory, store_id=STORE).entries

        make_relay(inventory.storage, clock=clock, settings=FAST).drain()

        got = receiver.snapshot()
    assert [r.body.decode() for r in got] == [entry.body for entry in feed]
    assert all(r.verified(hook.secret, now=clock.now / 1000) for r in got)
    assert [r.sequence for r in got] == [1, 2, 3, 4]
    first = got[0]
    assert first.headers["stockroom-event-id"] == first.event["id"]
    assert first.headers["stockroom-event-type"] == feed[0].event_type
    assert first.headers["stockroom-store"] == STORE
    assert first.headers["content-type"] == "application/json"
    assert {d.state for d in log(inventory, hook)} == {DeliveryState.DELIVERED}


def test_a_tampered_body_or_another_secret_fails_verification(inventory, clock, make_relay):
    with Receiver() as receiver:
        hook = subscribe(inventory, receiver)
        other = subscribe(inventory, receiver)
        create(inventory)

        make_relay(inventory.storage, clock=clock, settings=FAST).drain()

        now = clock.now / 1000
        mine = next(r for r in receiver.snapshot() if r.verified(hook.secret, now=now))
    tampered = Received(mine.headers, mine.body.replace(b'"quantity":10', b'"quantity":99'), 204)
    assert not tampered.verified(hook.secret, now=now)
    assert not mine.verified(other.secret, now=now)


def test_a_receiver_that_fails_three_times_gets_the_event_once_it_recovers(
    inventory, clock, make_relay
):
    tries: Counter[str] = Counter()

    def flaky(request):
        tries[request.event["id"]] += 1
        return 500 if tries[request.event["id"]] <= 3 else 200

    with Receiver(flaky) as receiver:
        hook = subscribe(inventory, receiver)
        create(inventory)
        relay = make_relay(inventory.storage, clock=clock, settings=FAST)

        retry_until_settled(relay, clock)

        got = receiver.snapshot()
    assert len(got) == 4
    assert len([r for r in got if r.acknowledged]) == 1
    (delivery,) = log(inventory, hook)
    assert (delivery.state, delivery.attempts, delivery.last_status) == (
        DeliveryState.DELIVERED,
        4,
        200,
    )


def test_retries_wait_longer_each_time(inventory, clock, make_relay):
    with Receiver(lambda _: 503) as receiver:
        hook = subscribe(inventory, receiver)
        create(inventory)
        relay = make_relay(inventory.storage, clock=clock, settings=FAST)
        waits = []
        for _ in range(4):
            relay.drain()
            (delivery,) = log(inventory, hook)
            waits.append(delivery.next_attempt_ms - clock.now)
            clock.now = delivery.next_attempt_ms

    assert [
        FAST.retry_base_ms * 2**n / 2 <= wait <= FAST.retry_base_ms * 2**n
        for n, wait in enumerate(waits)
    ] == [True] * 4
    assert delivery.last_error == "HTTP 503: receiver says no"


def test_a_failing_event_holds_back_later_events_of_its_item_only(inventory, clock, make_relay):
    stuck = create(inventory)
    healthy = create(inventory)
    broken = {"on": True}

    def picky(request):
        return 500 if broken["on"] and request.event["entityId"] == stuck.id else 204

    with Receiver(picky) as receiver:
        subscribe(inventory, receiver)
        sell(inventory, stuck)
        sell(inventory, healthy)
        relay = make_relay(inventory.storage, clock=clock, settings=FAST)

        relay.drain()
        first_round = [(r.event["entityId"], r.acknowledged) for r in receiver.snapshot()]
        broken["on"] = False
        retry_until_settled(relay, clock)

        delivered = list(receiver.events())
    assert (stuck.id, False) in first_round
    assert [e for e, ok in first_round if e == stuck.id] == [stuck.id]  # only its first, once
    assert {e for e, ok in first_round if ok} == {healthy.id}
    stuck_events = [e["slug"] for e in delivered if e["entityId"] == stuck.id]
    assert stuck_events == ["updated", "updated_with_reason"]
    assert len(delivered) == 4


def test_a_delivery_is_parked_after_its_last_attempt_and_redelivered_on_request(
    inventory, clock, make_relay
):
    down = {"on": True}
    with Receiver(lambda _: 500 if down["on"] else 204) as receiver:
        hook = subscribe(
            inventory, receiver, event_types=["wix.stores.catalog.v3.inventory_item_updated"]
        )
        item = create(inventory)
        sell(inventory, item)
        sell(inventory, item)
        relay = make_relay(
            inventory.storage, clock=clock, settings=RelaySettings(workers=1, max_attempts=3)
        )
        retry_until_settled(relay, clock)
        parked = log(inventory, hook)

        down["on"] = False
        redelivered = webhooks.redeliver(inventory, store_id=STORE, webhook_id=hook.id)
        relay.drain()

        delivered = list(receiver.events())
    assert [(d.sequence, d.state, d.attempts) for d in parked] == [
        (4, DeliveryState.PENDING, 0),  # waits behind the parked one of its item
        (2, DeliveryState.PARKED, 3),
    ]
    assert redelivered == 1  # the parked one; the other was waiting on it, not on a timer
    assert [e["entityEventSequence"] for e in delivered] == ["2", "3"]
    assert {d.state for d in log(inventory, hook)} == {DeliveryState.DELIVERED}


def test_redirects_garbage_and_silence_are_failures_the_log_explains(inventory, clock, make_relay):
    settings = RelaySettings(workers=1, timeout_ms=300)
    with (
        Receiver(lambda _: Redirect("https://elsewhere.example/")) as redirecting,
        Receiver(lambda _: GARBAGE) as garbled,
        Receiver(lambda _: HANG, hang_s=2) as silent,
        Receiver() as healthy,
    ):
        hooks = [subscribe(inventory, r) for r in (redirecting, garbled, silent, healthy)]
        create(inventory)

        make_relay(inventory.storage, clock=clock, settings=settings).drain()

        errors = [log(inventory, hook)[0].last_error or "" for hook in hooks[:3]]
        assert len(healthy.acknowledged()) == 1
    assert "redirect to https://elsewhere.example/ not followed" in errors[0]
    assert "RemoteProtocolError" in errors[1]
    assert errors[2] == "no answer within 300 ms"
    assert [log(inventory, hook)[0].state for hook in hooks] == [DeliveryState.PENDING] * 3 + [
        DeliveryState.DELIVERED
    ]


def test_a_relay_killed_mid_batch_loses_only_its_lease(inventory, clock, make_relay):
    with Receiver() as receiver:
        hook = subscribe(inventory, receiver)
        for _ in range(3):
            create(inventory)
        with inventory.storage.relaying() as queue:  # a relay claims, then dies
            claimed = queue.claim(
                owner="dead", now_ms=clock.now, lease_until_ms=clock.now + 5_000, limit=10
            )
        survivor = make_relay(inventory.storage, clock=clock, settings=FAST)

        before_expiry = survivor.drain()
        clock.advance(5_001)
        after_expiry = survivor.drain()

        assert len(receiver.acknowledged()) == 3
    assert (len(claimed), before_expiry, after_expiry) == (3, 0, 3)
    assert {d.state for d in log(inventory, hook)} == {DeliveryState.DELIVERED}


@pytest.mark.slow
def test_relays_running_side_by_side_deliver_each_event_exactly_once(inventory, clock, make_relay):
    with Receiver() as receiver:
        subscribe(inventory, receiver)
        products = [create(inventory, quantity=1000) for _ in range(20)]
        for _ in range(5):
            stock.decrement_items(
                inventory, store_id=STORE, lines=[stock.StockLine(p.id, 1) for p in products]
            )
        expected = webhooks.read_feed(inventory, store_id=STORE, limit=1000).latest
        relays = [
            make_relay(inventory.storage, clock=clock, settings=RelaySettings(workers=2, batch=25))
            for _ in range(3)
        ]
        for relay in relays:
            relay.start()

        receiver.wait_for(lambda got: len(got) >= expected)
        time.sleep(0.5)  # anything sent twice would arrive by now
        for relay in relays:
            relay.stop()

        sequences = [r.sequence for r in receiver.snapshot()]
    assert sorted(sequences) == list(range(1, expected + 1))


@pytest.mark.slow
def test_a_hanging_receiver_holds_up_neither_stock_changes_nor_other_subscriptions(
    inventory, clock, make_relay
):
    with Receiver(lambda _: HANG, hang_s=6) as hanging, Receiver() as healthy:
        subscribe(inventory, hanging)
        subscribe(inventory, healthy)
        products = [create(inventory) for _ in range(10)]
        relay = make_relay(
            inventory.storage, clock=clock, settings=RelaySettings(workers=2, timeout_ms=500)
        )
        relay.start()
        try:
            hanging.wait_for(lambda got: len(got) >= 1)
            took = []
            for product in products:
                started = time.monotonic()
                sell(inventory, product)
                took.append(time.monotonic() - started)
            expected = webhooks.read_feed(inventory, store_id=STORE, limit=1000).latest

            started = time.monotonic()
            healthy.wait_for(lambda got: len(got) >= expected, timeout=10)
            caught_up = time.monotonic() - started
        finally:
            stopping = threading.Thread(target=relay.stop)
            stopping.start()
        stopping.join()

    assert max(took) < 0.5  # the relay waits 0.5 s for the hanging receiver; changes never do
    assert caught_up < 5  # well before the hanging receiver would have answered once


def test_a_round_says_whether_it_found_events_to_number(inventory, make_relay):
    """The relay looks again soon (``numbering_ms``) after a round that numbered events, and
    only after ``idle_ms`` otherwise. SQLite's writers number their own events, so only
    PostgreSQL's outbox ever holds any."""
    relay = make_relay(inventory.storage, settings=FAST)
    create(inventory)
    numbers_later = inventory.storage.engine.dialect.name == "postgresql"

    first = relay._round()
    second = relay._round()

    assert first == (0, numbers_later)  # no webhook: nothing to send either way
    assert second == (0, False)  # the first round numbered them all
