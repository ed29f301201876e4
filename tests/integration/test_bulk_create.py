"""Bulk create works on the whole request at once, yet every element ends exactly as it would
have on its own: the same item or the same error, in request order, with the same events."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from stockroom.domain.catalog import Location, LocationType, Product, ProductType, Variant
from stockroom.domain.changes import ItemDraft, PreorderPatch
from stockroom.domain.errors import StockroomError
from stockroom.service import items, webhooks
from stockroom.service.context import Inventory, ItemResult
from tests.factories import an_item, guid

NOW = 1_800_000_000_000
examples = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def counting_ids(prefix: int) -> Any:
    """An id source that gives the same ids in the same order to every run."""
    counter = itertools.count()
    return lambda: f"00000000-0000-4000-8000-{prefix:04d}{next(counter):08d}"


def an_inventory(storage, prefix=0):
    return Inventory(storage=storage, clock=lambda: NOW, new_id=counting_ids(prefix))


@dataclass(frozen=True)
class World:
    """What a store holds before the bulk request: a catalog (or none), locations, items."""

    products: tuple[Product, ...]
    live_location: str
    archived_location: str
    existing: tuple[ItemDraft, ...]


def a_product(product_type=ProductType.PHYSICAL, variants=3):
    return Product(
        id=guid(),
        name="Lamp",
        product_type=product_type,
        variants=tuple(Variant(id=guid(), name=f"v{n}", sku=f"sku-{n}") for n in range(variants)),
        revision=1,
        created_ms=NOW,
        updated_ms=NOW,
        brand_name="Acme",
    )


def a_location(location_id, *, archived=False):
    return Location(
        id=location_id,
        name=location_id[:8],
        location_type=LocationType.PHYSICAL,
        is_default=False,
        archived=archived,
        revision=1,
        created_ms=NOW,
        updated_ms=NOW,
    )


def build(storage, store_id, world):
    """Make ``world`` in ``store_id``; of the existing items, those that may be are created."""
    with storage.writing(store_id) as tx:
        for product in world.products:
            tx.catalog.insert_product(product)
        tx.catalog.insert_location(a_location(world.live_location))
        tx.catalog.insert_location(a_location(world.archived_location, archived=True))
    one_at_a_time(an_inventory(storage, prefix=9999), store_id, world.existing)


def outcomes(storage, store_id, results: list[ItemResult]):
    """Results as plain text, errors included, so runs in two stores can be compared (each
    store's default location has an id of its own)."""
    plain = [
        ("ok", r.item_id, r.item)
        if r.error is None
        else (type(r.error).__name__, r.error.code, r.error.description, r.error.data, r.item_id)
        for r in results
    ]
    return without_default_location(storage, store_id, plain)


def without_default_location(storage, store_id, value):
    with storage.reading(store_id) as tx:
        default = tx.default_location_id()
    return repr(value).replace(default, "<default location>")


def one_at_a_time(inventory, store_id, drafts):
    results = []
    for draft in drafts:
        try:
            item = items.create_item(inventory, store_id=store_id, draft=draft)
        except StockroomError as error:
            results.append(ItemResult(None, error=error))
        else:
            results.append(ItemResult(item.id, item))
    return results


def feed(inventory, store_id):
    page = webhooks.read_feed(inventory, store_id=store_id, since=0, limit=1000)
    bodies = [json.loads(entry.body) for entry in page.entries]
    return [(body["slug"], body["entityId"]) for body in bodies]


def stored(storage, store_id):
    with storage.reading(store_id) as tx:
        return list(tx.iter_items())


@st.composite
def worlds_and_drafts(draw):
    uses_catalog = draw(st.booleans())
    products = (a_product(), a_product(), a_product(ProductType.DIGITAL)) if uses_catalog else ()
    live, archived = guid(), guid()
    known = [(p.id, v.id) for p in products for v in p.variants] or [(guid(), guid())]
    unknown = [(guid(), guid()) for _ in range(3)]
    wrong_product = [(guid(), variant) for _, variant in known[:3]]
    keys = st.sampled_from(known + unknown + wrong_product)
    places = st.sampled_from([None, None, live, archived, guid()])
    tracking = st.sampled_from([(5, None), (0, None), (None, True), (-1, None), (3, True)])
    preorder = st.sampled_from([None, None, PreorderPatch(enabled=True, limit=4)])

    @st.composite
    def drafts(draw):
        product_id, variant_id = draw(keys)
        quantity, in_stock = draw(tracking)
        return ItemDraft(
            product_id=product_id,
            variant_id=variant_id,
            location_id=draw(places),
            quantity=quantity,
            in_stock=in_stock,
            preorder=draw(preorder),
        )

    existing = draw(st.lists(drafts(), max_size=4))
    requested = draw(st.lists(drafts(), min_size=1, max_size=25))
    # Repeat some elements, so a request often names the same variant and location twice.
    repeats = draw(st.lists(st.sampled_from(requested), max_size=4))
    order = draw(st.permutations(requested + repeats))
    return World(products, live, archived, tuple(existing)), order


@examples
@given(case=worlds_and_drafts())
def test_bulk_create_ends_each_element_as_creating_them_one_at_a_time_would(storage, case):
    world, drafts = case
    bulk_store, single_store = guid(), guid()
    build(storage, bulk_store, world)
    build(storage, single_store, world)

    in_bulk = items.bulk_create_items(an_inventory(storage), store_id=bulk_store, drafts=drafts)
    singly = one_at_a_time(an_inventory(storage), single_store, drafts)

    assert outcomes(storage, bulk_store, in_bulk) == outcomes(storage, single_store, singly)
    assert without_default_location(
        storage, bulk_store, stored(storage, bulk_store)
    ) == without_default_location(storage, single_store, stored(storage, single_store))
    setup = an_inventory(storage)
    assert feed(setup, bulk_store) == feed(setup, single_store)


def test_bulk_create_mixing_new_existing_and_repeated_items_reports_each_in_order(storage):
    inventory = an_inventory(storage)
    store_id = guid()
    taken = ItemDraft("p-1", guid(), quantity=1)
    items.create_item(inventory, store_id=store_id, draft=taken)
    new = ItemDraft("p-1", guid(), quantity=2)
    drafts = [new, taken, ItemDraft("p-1", new.variant_id, quantity=3), ItemDraft("p-2", guid())]

    results = items.bulk_create_items(inventory, store_id=store_id, drafts=drafts)

    assert [r.error.code if r.error else "ok" for r in results] == [
        "ok",
        "ITEM_ALREADY_EXISTS",
        "ITEM_ALREADY_EXISTS",
        "INVALID_ARGUMENT",
    ]
    assert results[0].item is not None
    assert results[0].item.quantity == 2
    assert len(stored(storage, store_id)) == 2


def test_bulk_create_names_each_unknown_variant_wrong_product_and_unknown_location(storage):
    inventory = an_inventory(storage)
    store_id = guid()
    product = a_product()
    with storage.writing(store_id) as tx:
        tx.catalog.insert_product(product)
    variant = product.variants[0].id
    missing_location = guid()
    drafts = [
        ItemDraft(product.id, guid(), quantity=1),
        ItemDraft(guid(), variant, quantity=1),
        ItemDraft(product.id, variant, location_id=missing_location, quantity=1),
        ItemDraft(product.id, variant, quantity=1),
    ]

    results = items.bulk_create_items(inventory, store_id=store_id, drafts=drafts)

    assert [r.error.code if r.error else "ok" for r in results] == [
        "NOT_FOUND",
        "NOT_FOUND",
        "NOT_FOUND",
        "ok",
    ]
    assert "is not in the catalog" in str(results[0].error)
    assert "is not a variant of product" in str(results[1].error)
    assert results[2].error is not None
    assert results[2].error.data == {"locationId": missing_location}
    assert [item.variant_id for item in stored(storage, store_id)] == [variant]


def test_a_thousand_item_bulk_create_takes_a_handful_of_statements(storage):
    inventory = an_inventory(storage)
    store_id = guid()
    items.create_item(inventory, store_id=store_id, draft=ItemDraft("p", guid(), quantity=1))
    product = a_product(variants=1000)
    location = guid()
    with storage.writing(store_id) as tx:
        tx.catalog.insert_product(product)
        tx.catalog.insert_location(a_location(location))
    drafts = [
        ItemDraft(product.id, v.id, location_id=location if n % 2 else None, quantity=1)
        for n, v in enumerate(product.variants)
    ]
    statements: list[str] = []

    def count(conn, cursor, statement, *_):
        statements.append(statement)

    event.listen(storage.engine, "before_cursor_execute", count)
    try:
        results = items.bulk_create_items(inventory, store_id=store_id, drafts=drafts)
    finally:
        event.remove(storage.engine, "before_cursor_execute", count)

    assert all(r.ok for r in results)
    assert len(statements) <= 12, statements


@pytest.mark.parametrize("count", [1, 2_500])
def test_insert_items_inserts_every_new_item_and_skips_the_taken_ones(storage, count):
    with storage.writing("store-a") as tx:
        location = tx.default_location_id()
        batch = [an_item(location_id=location) for _ in range(count)]
        assert tx.insert_items(batch) == {item.id for item in batch}
    taken = [
        an_item(variant_id=item.variant_id, location_id=location) for item in batch[: count // 2]
    ]
    fresh = an_item(location_id=location)

    with storage.writing("store-a") as tx:
        inserted = tx.insert_items([*taken, fresh])

    assert inserted == {fresh.id}
    assert len(stored(storage, "store-a")) == count + 1
