from dataclasses import replace

import msgspec
import pytest

from stockroom.domain.events import WIX_STORES_APP_ID, body_of, kinds_of
from stockroom.domain.item import Preorder, ProductSummary, Reason
from stockroom.storage.event_bodies import rendered, stored
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

CHANGES = {
    "created": (None, _ITEM, None),
    "deleted": (_ITEM, None, None),
    "sold": (_ITEM, _ITEM.with_stock(2, now_ms=NOW), Reason.ORDER),
    "sold out": (_ITEM, _ITEM.with_stock(0, now_ms=NOW), None),
    "flag flipped": (
        a_flag_item(in_stock=False),
        replace(a_flag_item(in_stock=True), revision=2),
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
