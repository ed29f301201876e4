"""The transactional outbox: every change writes its events (spec 5) in its own transaction,
and nothing else does. Read back through the feed, on every backend."""

import asyncio
import json
from dataclasses import replace

import pytest

from stockroom.domain.catalog import Product, ProductType, Variant
from stockroom.domain.changes import ItemDraft, ItemPatch, PreorderPatch
from stockroom.domain.errors import InsufficientInventory
from stockroom.domain.events import WIX_STORES_APP_ID
from stockroom.domain.item import Reason
from stockroom.domain.jobs import JobKind
from stockroom.domain.rest import item_json
from stockroom.domain.webhooks import DeliveryState, FeedCursorExpired
from stockroom.service import catalog, items, stock, webhooks
from stockroom.service.catalog import VariantInventory
from stockroom.service.coalesce import Coalescer
from stockroom.service.context import Inventory
from stockroom.service.jobs import JobRunner, submit_job, submit_variant_job
from stockroom.service.relay import Relay, RelaySettings
from tests.factories import guid

STORE = "events-store"


def feed(inventory, store=STORE, since=0):
    page = webhooks.read_feed(inventory, store_id=store, since=since, limit=1000)
    return [json.loads(entry.body) for entry in page.entries]


def slugs(events):
    return [event["slug"] for event in events]


def create(inventory, quantity=10, **fields):
    draft = ItemDraft(
        product_id=fields.pop("product_id", "p-1"), variant_id=guid(), quantity=quantity, **fields
    )
    return items.create_item(inventory, store_id=STORE, draft=draft)


def entity(event):
    """The item an event carries, whichever part carries it."""
    for part, key in (
        ("createdEvent", "entityAsJson"),
        ("updatedEvent", "currentEntityAsJson"),
        ("deletedEvent", "deletedEntityAsJson"),
    ):
        if part in event:
            return event[part][key]
    return event["actionEvent"]["bodyAsJson"].get("currentEntity")


# ---- every method produces the right events ------------------------------------------------


def test_creating_an_item_writes_created_with_the_item_as_returned(inventory):
    created = create(inventory)

    (event,) = feed(inventory)

    assert event["slug"] == "created"
    assert event["createdEvent"]["entityAsJson"] == item_json(created)
    assert (event["entityId"], event["entityEventSequence"]) == (created.id, "1")
    assert event["eventTime"] == item_json(created)["createdDate"]


def test_a_bulk_create_writes_created_for_each_element_that_succeeded_only(inventory):
    taken = create(inventory)
    drafts = [
        ItemDraft(product_id="p", variant_id=guid(), quantity=1),
        ItemDraft(product_id="p", variant_id=taken.variant_id, quantity=1),  # taken
        ItemDraft(product_id="p", variant_id=guid(), quantity=2),
    ]

    results = items.bulk_create_items(inventory, store_id=STORE, drafts=drafts)

    events = feed(inventory)[1:]
    assert slugs(events) == ["created", "created"]
    assert [e["entityId"] for e in events] == [results[0].item_id, results[2].item_id]


def test_an_update_writes_updated_with_reason_and_stock_status_when_it_sells_out(inventory, clock):
    item = create(inventory, quantity=4)
    clock.advance(1000)

    updated = items.update_item(
        inventory,
        store_id=STORE,
        update=items.ItemUpdate(item.id, ItemPatch(quantity=0), 1),
        reason=Reason.MANUAL,
    )

    events = feed(inventory)[1:]
    assert slugs(events) == ["updated", "updated_with_reason", "stock_status_updated"]
    assert events[0]["updatedEvent"] == {
        "currentEntityAsJson": item_json(updated),
        "modifiedFields": {
            "revision": "1",
            "updatedDate": item_json(item)["updatedDate"],
            "availabilityStatus": "IN_STOCK",
            "quantity": 4,
        },
    }
    assert events[1]["actionEvent"]["bodyAsJson"] == {
        "currentEntity": item_json(updated),
        "reason": "MANUAL",
        "appId": WIX_STORES_APP_ID,
    }
    assert events[2]["actionEvent"]["bodyAsJson"] == {"inStock": False}
    assert {e["entityEventSequence"] for e in events} == {"2"}


def test_a_bulk_update_writes_events_for_the_elements_that_succeeded(inventory):
    first, second = create(inventory), create(inventory)

    items.bulk_update_items(
        inventory,
        store_id=STORE,
        updates=[
            items.ItemUpdate(first.id, ItemPatch(quantity=11), 1),
            items.ItemUpdate(second.id, ItemPatch(quantity=12), 7),  # stale revision
        ],
        reason=Reason.ORDER,
    )

    events = feed(inventory)[2:]
    assert slugs(events) == ["updated", "updated_with_reason"]
    assert {e["entityId"] for e in events} == {first.id}
    assert events[1]["actionEvent"]["bodyAsJson"]["reason"] == "ORDER"


def test_deleting_writes_deleted_with_the_last_state_one_past_its_revision(inventory):
    doomed, other = create(inventory), create(inventory)

    items.delete_item(inventory, store_id=STORE, item_id=doomed.id)
    items.bulk_delete_items(inventory, store_id=STORE, item_ids=[other.id, guid()])

    events = feed(inventory)[2:]
    assert slugs(events) == ["deleted", "deleted"]
    assert events[0]["deletedEvent"] == {"deletedEntityAsJson": item_json(doomed)}
    assert events[0]["entityEventSequence"] == "2"
    assert events[1]["entityId"] == other.id


def test_an_upsert_writes_created_for_new_items_and_updated_for_existing_ones(inventory):
    existing = create(inventory, product_id="p")
    location = existing.location_id
    entries = [
        items.UpsertEntry(
            ItemDraft(product_id="p", variant_id=existing.variant_id, location_id=location),
            ItemPatch(quantity=3),
        ),
        items.UpsertEntry(
            ItemDraft(product_id="p", variant_id=guid(), quantity=5), ItemPatch(quantity=5)
        ),
    ]

    items.upsert_items(inventory, store_id=STORE, entries=entries)

    assert sorted(slugs(feed(inventory)[1:])) == ["created", "updated", "updated_with_reason"]


def test_stock_changes_write_events_with_their_reason_and_previous_quantity(inventory):
    item = create(inventory, quantity=3)

    stock.decrement_items(
        inventory, store_id=STORE, lines=[stock.StockLine(item.id, 3)], reason=Reason.ORDER
    )
    stock.increment_variants(
        inventory,
        store_id=STORE,
        lines=[stock.VariantStockLine(item.variant_id, 2)],
        reason=Reason.REVERT_INVENTORY_CHANGE,
    )

    events = feed(inventory)[1:]
    assert slugs(events) == ["updated", "updated_with_reason", "stock_status_updated"] * 2
    assert events[0]["updatedEvent"]["modifiedFields"]["quantity"] == 3
    assert entity(events[0])["quantity"] == 0
    assert events[3]["updatedEvent"]["modifiedFields"]["quantity"] == 0
    assert entity(events[3])["quantity"] == 2
    reasons = [e["actionEvent"]["bodyAsJson"]["reason"] for e in events[1::3]]
    assert reasons == ["ORDER", "REVERT_INVENTORY_CHANGE"]
    assert [e["actionEvent"]["bodyAsJson"].get("inStock") for e in events[2::3]] == [False, True]


def test_the_same_item_twice_in_one_request_writes_two_changes_in_order(inventory):
    item = create(inventory, quantity=10)

    stock.decrement_items(
        inventory,
        store_id=STORE,
        lines=[stock.StockLine(item.id, 2), stock.StockLine(item.id, 3)],
    )

    updated = [e for e in feed(inventory) if e["slug"] == "updated"]
    assert [e["entityEventSequence"] for e in updated] == ["2", "3"]
    assert [e["updatedEvent"]["modifiedFields"]["quantity"] for e in updated] == [10, 8]
    assert [entity(e)["quantity"] for e in updated] == [8, 5]


def test_coalesced_changes_each_write_their_own_events_in_order(storage, clock):
    inventory = Inventory(storage=storage, clock=clock, coalescer=Coalescer())
    item = create(inventory, quantity=20)

    async def buy():
        line = stock.StockLine(item.id, 1)
        await stock.decrement_items_coalesced(
            inventory, store_id=STORE, lines=[line], reason=Reason.ORDER
        )

    async def sale():
        await asyncio.gather(*(buy() for _ in range(8)))

    asyncio.run(sale())
    assert inventory.coalescer is not None
    assert inventory.coalescer.batches < 8

    updated = [e for e in feed(inventory) if e["slug"] == "updated"]
    assert [e["entityEventSequence"] for e in updated] == [str(n) for n in range(2, 10)]
    assert [e["updatedEvent"]["modifiedFields"]["quantity"] for e in updated] == list(
        range(20, 12, -1)
    )
    assert [entity(e)["quantity"] for e in updated] == list(range(19, 11, -1))
    assert slugs(feed(inventory)[1:]) == ["updated", "updated_with_reason"] * 8


def test_a_preorder_booking_writes_the_counter_change(inventory):
    item = create(inventory, quantity=0, preorder=PreorderPatch(enabled=True, limit=5))

    stock.decrement_items(
        inventory, store_id=STORE, lines=[stock.StockLine(item.id, 2, preorder_request=True)]
    )

    (updated,) = [e for e in feed(inventory) if e["slug"] == "updated"]
    assert updated["updatedEvent"]["modifiedFields"]["preorderInfo"]["counter"] == 0
    assert entity(updated)["preorderInfo"]["counter"] == 2
    assert "quantity" not in updated["updatedEvent"]["modifiedFields"]


def test_products_with_inventory_write_the_events_of_their_items(inventory, clock):
    product = Product(
        id=guid(),
        name="Scarf",
        product_type=ProductType.PHYSICAL,
        variants=(Variant(guid(), "Red"), Variant(guid(), "Blue")),
        revision=0,
        created_ms=0,
        updated_ms=0,
    )
    _, made = catalog.create_product(
        inventory,
        store_id=STORE,
        product=product,
        with_inventory=[
            VariantInventory(v.id, draft=ItemDraft(product.id, v.id, quantity=1))
            for v in product.variants
        ],
    )
    red, blue = (result.item for result in made)
    assert red is not None
    assert blue is not None
    clock.advance(10)
    catalog.update_product(
        inventory,
        store_id=STORE,
        product=replace(product, variants=product.variants[:1]),  # Blue goes
        expected_revision=1,
        with_inventory=[
            VariantInventory(red.variant_id, item_id=red.id, patch=ItemPatch(quantity=4))
        ],
    )
    catalog.delete_product(inventory, store_id=STORE, product_id=product.id)

    events = feed(inventory)
    assert [(e["slug"], e["entityId"]) for e in events if e["slug"] != "updated_with_reason"] == [
        ("created", red.id),
        ("created", blue.id),
        ("deleted", blue.id),
        ("updated", red.id),
        ("deleted", red.id),
    ]


def test_by_filter_jobs_write_the_events_of_every_item_they_change(inventory):
    shirts = [create(inventory, product_id="shirts") for _ in range(3)]
    submit_job(
        inventory,
        store_id=STORE,
        kind=JobKind.UPDATE_BY_FILTER,
        raw_filter={"productId": "shirts"},
        raw_search=None,
        action={"inStock": True},
    )
    submit_job(
        inventory,
        store_id=STORE,
        kind=JobKind.DELETE_BY_FILTER,
        raw_filter={"id": shirts[0].id},
        raw_search=None,
        action={},
    )
    JobRunner(inventory).run_once()
    JobRunner(inventory).run_once()

    events = feed(inventory)[3:]
    changed = [e["entityId"] for e in events if e["slug"] == "updated"]
    assert sorted(changed) == sorted(item.id for item in shirts)
    assert [e["entityId"] for e in events if e["slug"] == "deleted"] == [shirts[0].id]
    with_reason = [
        e["actionEvent"]["bodyAsJson"] for e in events if e["slug"] == "updated_with_reason"
    ]
    assert len(with_reason) == 3
    assert all("reason" not in body for body in with_reason)  # by-filter requests have none


def test_creating_items_by_variant_filter_writes_created_events(inventory):
    variant = Variant(guid(), "Only")
    product = Product(guid(), "Hat", ProductType.PHYSICAL, (variant,), 0, 0, 0)
    catalog.create_product(inventory, store_id=STORE, product=product)
    location = catalog.get_location(inventory, store_id=STORE, location_id=None)
    submit_variant_job(
        inventory, store_id=STORE, raw_filter={}, location_id=location.id, quantity=3
    )

    JobRunner(inventory).run_once()

    (event,) = feed(inventory)
    assert event["slug"] == "created"
    assert event["createdEvent"]["entityAsJson"]["variantId"] == variant.id


# ---- no change without its events, no event without its change ------------------------


def test_a_refused_stock_request_writes_no_event_at_all(inventory):
    plenty, scarce = create(inventory, quantity=10), create(inventory, quantity=1)

    with pytest.raises(InsufficientInventory):
        stock.decrement_items(
            inventory,
            store_id=STORE,
            lines=[stock.StockLine(plenty.id, 1), stock.StockLine(scarce.id, 2)],
        )

    assert slugs(feed(inventory)) == ["created", "created"]


def test_a_transaction_that_rolls_back_takes_its_events_with_it(storage):
    class Boom(Exception):
        pass

    inventory = Inventory(storage=storage)
    item = create(inventory)

    def change_then_fail():
        with storage.writing(STORE) as tx:
            tx.increment(item.id, 5, now_ms=1)
            tx.delete_item(item.id)
            raise Boom

    with pytest.raises(Boom):
        change_then_fail()

    assert slugs(feed(inventory)) == ["created"]
    with storage.reading(STORE) as tx:
        assert tx.get_item(item.id) == item


def test_a_rolled_back_savepoint_drops_only_its_own_events(inventory):
    kept, undone = create(inventory), create(inventory)

    def change_then_fail(tx):
        with tx.savepoint():
            tx.increment(undone.id, 1, now_ms=5)
            raise RuntimeError

    with inventory.storage.writing(STORE) as tx:
        tx.increment(kept.id, 1, now_ms=5)
        with pytest.raises(RuntimeError):
            change_then_fail(tx)
        tx.increment(kept.id, 1, now_ms=6)

    changed = [(e["entityId"], e["entityEventSequence"]) for e in feed(inventory)[2:]]
    assert set(changed) == {(kept.id, "2"), (kept.id, "3")}


def test_sequences_run_one_by_one_per_store(inventory):
    create(inventory)
    items.create_item(inventory, store_id="other-store", draft=ItemDraft("p", guid(), quantity=1))
    create(inventory, quantity=0)

    mine = webhooks.read_feed(inventory, store_id=STORE)
    theirs = webhooks.read_feed(inventory, store_id="other-store")

    assert [entry.sequence for entry in mine.entries] == [1, 2]
    assert [entry.sequence for entry in theirs.entries] == [1]
    assert (mine.latest, mine.has_more) == (2, False)


# ---- deliveries are made with the events ------------------------------------------------


def test_each_active_subscription_gets_a_delivery_of_each_event_type_it_takes(inventory):
    every = webhooks.create_webhook(inventory, store_id=STORE, url="http://a.example/h")
    deletions = webhooks.create_webhook(
        inventory,
        store_id=STORE,
        url="http://b.example/h",
        event_types=["wix.stores.catalog.v3.inventory_item_deleted"],
    )
    paused = webhooks.create_webhook(
        inventory, store_id=STORE, url="http://c.example/h", active=False
    )
    item = create(inventory)
    items.delete_item(inventory, store_id=STORE, item_id=item.id)
    late = webhooks.create_webhook(inventory, store_id=STORE, url="http://d.example/h")

    def log(hook):
        return webhooks.list_deliveries(inventory, store_id=STORE, webhook_id=hook.id)

    assert [d.sequence for d in log(every)] == [2, 1]
    assert [(d.sequence, d.event_type.slug) for d in log(deletions)] == [(2, "deleted")]
    assert log(paused) == log(late) == []
    assert {d.state for d in log(every)} == {DeliveryState.PENDING}


def test_the_feed_pages_with_since_and_refuses_a_cursor_behind_what_was_pruned(inventory, clock):
    for _ in range(5):
        create(inventory)
    first = webhooks.read_feed(inventory, store_id=STORE, since=0, limit=2)
    second = webhooks.read_feed(inventory, store_id=STORE, since=first.next_since, limit=10)

    clock.advance(8 * 86_400_000)
    create(inventory)
    with Relay(inventory.storage, clock=clock, settings=RelaySettings()) as relay:
        pruned = relay.prune()

    assert [e.sequence for e in first.entries] == [1, 2]
    assert (first.next_since, first.has_more) == (2, True)
    assert [e.sequence for e in second.entries] == [3, 4, 5]
    assert pruned == 5
    with pytest.raises(FeedCursorExpired) as expired:
        webhooks.read_feed(inventory, store_id=STORE, since=0)
    assert expired.value.data["prunedThrough"] == 5
    assert [e.sequence for e in webhooks.read_feed(inventory, store_id=STORE, since=5).entries] == [
        6
    ]


def test_pruning_takes_the_events_made_before_the_cutoff_at_most_a_limit_at_a_time(
    inventory, clock
):
    for _ in range(7):
        create(inventory)
    clock.advance(1000)
    cutoff = clock.now
    for _ in range(3):
        create(inventory)
    feed(inventory)  # numbers them into the stream (on PostgreSQL, from the outbox)

    def prune(through: int, limit: int) -> int:
        with inventory.storage.relaying() as queue:
            pruned: int = queue.retention.prune_stream(
                STORE, through=through, cutoff_ms=cutoff, limit=limit
            )
            return pruned

    assert prune(through=0, limit=4) == 4
    assert prune(through=4, limit=100) == 3
    assert prune(through=7, limit=100) == 0
    assert [e.sequence for e in webhooks.read_feed(inventory, store_id=STORE, since=7).entries] == [
        8,
        9,
        10,
    ]


def test_pruning_keeps_events_a_subscription_has_yet_to_receive(inventory, clock):
    hook = webhooks.create_webhook(inventory, store_id=STORE, url="http://nowhere.invalid/")
    create(inventory)
    clock.advance(8 * 86_400_000)

    with Relay(inventory.storage, clock=clock) as relay:
        relay.prune()

    (delivery,) = webhooks.list_deliveries(inventory, store_id=STORE, webhook_id=hook.id)
    assert delivery.event_type is not None  # the event is still there to send
