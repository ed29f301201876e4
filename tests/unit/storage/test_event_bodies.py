from dataclasses import fields, replace

import msgspec
import pytest

from stockroom.domain.events import WIX_STORES_APP_ID, body_of, kinds_of
from stockroom.domain.item import InventoryItem, Preorder, ProductSummary, Reason
from stockroom.storage.event_bodies import _fields, _item, rendered, stored
from tests.factories import a_flag_item, an_item

NOW = 1_800_000_000_000

_ITEM = replace(
    an_item(quantity=3),
    preorder=Preorder(enabled=True, message="ships in May", limit=40, counter=2),
    extended_fields={"@shop/extra": {"aisle": 7, "weight": 0.25, "tags": ["a", None]}},
    product=ProductSummary(
        name="Mug",
        variant_name="Blue",
        variant_sku="MUG-B",
        variant_visible=True,
        brand_id="b-1",
        brand_name="Potter & Co",
        direct_category_ids=("c-1", "c-2"),
    ),
)

_FLAG = a_flag_item(in_stock=False)

CHANGES = {
    "created": (None, _ITEM, None),
    "deleted": (_ITEM, None, None),
    "sold": (_ITEM, _ITEM.with_stock(2, now_ms=NOW), Reason.ORDER),
    "sold out": (_ITEM, _ITEM.with_stock(0, now_ms=NOW), None),
    "everything changed": (
        _ITEM,
        InventoryItem(
            id=_ITEM.id,
            variant_id="v-2",
            location_id="l-2",
            product_id="p-2",
            quantity=None,
            in_stock=True,
            preorder=Preorder(),
            revision=_ITEM.revision + 1,
            created_ms=_ITEM.created_ms,
            updated_ms=NOW,
            extended_fields=None,
            product=None,
        ),
        Reason.REVERT_INVENTORY_CHANGE,
    ),
    "flag flipped": (
        _FLAG,
        replace(_FLAG, in_stock=True, revision=_FLAG.revision + 1, updated_ms=NOW),
        Reason.MANUAL,
    ),
}


@pytest.mark.parametrize(("before", "after", "reason"), CHANGES.values(), ids=CHANGES.keys())
def test_a_stored_change_renders_each_of_its_events_as_the_domain_makes_it(before, after, reason):
    body = stored(before, after, reason=reason, app_id=WIX_STORES_APP_ID, time_ms=NOW)

    for number, kind in enumerate(kinds_of(before, after)):
        event_id = f"event-{number}"
        made = body_of(
            kind, event_id, before, after, reason=reason, app_id=WIX_STORES_APP_ID, time_ms=NOW
        )
        assert rendered(kind.value, event_id, body) == msgspec.json.encode(made).decode()


@pytest.mark.parametrize("app_id", [WIX_STORES_APP_ID, "0c4b6b2e-app-of-the-caller"])
def test_the_calling_app_is_kept(app_id):
    before, after, reason = CHANGES["sold"]
    body = stored(before, after, reason=reason, app_id=app_id, time_ms=NOW)

    made = rendered("wix.stores.catalog.v3.inventory_item_updated_with_reason", "e-1", body)

    assert msgspec.json.decode(made)["actionEvent"]["bodyAsJson"]["appId"] == app_id


def test_a_change_stored_in_format_1_is_read():
    """Format 1 stored both items whole, as JSON objects."""
    before, after, reason = CHANGES["sold"]
    body = msgspec.json.encode((1, before, after, reason, "app-1", NOW)).decode()

    for kind in kinds_of(before, after):
        made = body_of(kind, "e-1", before, after, reason=reason, app_id="app-1", time_ms=NOW)
        assert rendered(kind.value, "e-1", body) == msgspec.json.encode(made).decode()


def test_an_item_is_stored_with_every_one_of_its_fields():
    """A field added to the item, its preorder or its product summary must be added to the
    stored array too."""
    stored_item = _fields(_ITEM)

    assert len(stored_item) == len(fields(InventoryItem))
    assert len(stored_item[6]) == len(fields(Preorder))
    assert len(stored_item[11]) == len(fields(ProductSummary))
    read = _item(msgspec.json.decode(msgspec.json.encode(stored_item)))
    assert (read, read.product) == (_ITEM, _ITEM.product)  # an item's == skips its product


def test_a_sale_stores_a_few_hundred_bytes():
    before, after, reason = CHANGES["sold"]

    assert len(stored(before, after, reason=reason, app_id=WIX_STORES_APP_ID, time_ms=NOW)) < 600


def test_rendering_is_the_same_every_time():
    before, after, reason = CHANGES["sold"]
    body = stored(before, after, reason=reason, app_id="app-1", time_ms=NOW)

    first = rendered("wix.stores.catalog.v3.inventory_item_updated", "e-1", body)

    assert rendered("wix.stores.catalog.v3.inventory_item_updated", "e-1", body) == first


def test_a_body_stored_whole_is_read_as_it_is():
    body = '{"id": "e-1", "slug": "updated"}'

    assert rendered("wix.stores.catalog.v3.inventory_item_updated", "e-1", body) == body


def test_a_change_stored_in_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="cannot read: \\[9, null"):
        rendered("wix.stores.catalog.v3.inventory_item_created", "e-1", "[9, null, null]")
